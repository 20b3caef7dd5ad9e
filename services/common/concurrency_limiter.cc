#include "services/common/concurrency_limiter.h"

#include "absl/strings/str_cat.h"

namespace recsys {

ConcurrencyLimiter::Permit::~Permit() {
  if (owner_ != nullptr) owner_->in_flight_.fetch_sub(1, std::memory_order_acq_rel);
}

absl::Status ConcurrencyLimiter::TryAcquire(std::optional<Permit>* permit) {
  int64_t current = in_flight_.load(std::memory_order_relaxed);
  do {
    if (max_in_flight_ > 0 && current >= max_in_flight_) {
      return absl::ResourceExhaustedError(absl::StrCat("server is at its limit of ", max_in_flight_,
                                                       " concurrent calls (", limit_flag_,
                                                       "); retry with backoff"));
    }
  } while (!in_flight_.compare_exchange_weak(current, current + 1, std::memory_order_acq_rel,
                                             std::memory_order_relaxed));
  permit->emplace(Permit(this));
  return absl::OkStatus();
}

}  // namespace recsys
