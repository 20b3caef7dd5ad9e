#include "services/common/concurrency_limiter.h"

#include "absl/strings/str_cat.h"

namespace recsys {

ConcurrencyLimiter::Permit::~Permit() {
  if (owner_ != nullptr) owner_->in_flight_.fetch_sub(1, std::memory_order_acq_rel);
}

absl::Status ConcurrencyLimiter::TryAcquire(std::optional<Permit>* permit) {
  const int64_t now = in_flight_.fetch_add(1, std::memory_order_acq_rel) + 1;
  if (max_in_flight_ > 0 && now > max_in_flight_) {
    in_flight_.fetch_sub(1, std::memory_order_acq_rel);
    return absl::ResourceExhaustedError(
        absl::StrCat("server is at its limit of ", max_in_flight_, " concurrent calls (",
                     limit_flag_, "); retry with backoff"));
  }
  permit->emplace(Permit(this));
  return absl::OkStatus();
}

}  // namespace recsys
