// Admission control: at most N calls in the handlers at once, the rest are refused with
// RESOURCE_EXHAUSTED (retry with backoff) instead of queueing without bound.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>

#include "absl/status/status.h"

namespace recsys {

class ConcurrencyLimiter {
 public:
  // Held for the duration of a call; releases its slot when destroyed.
  class Permit {
   public:
    Permit(Permit&& other) noexcept : owner_(other.owner_) { other.owner_ = nullptr; }
    Permit& operator=(Permit&&) = delete;
    Permit(const Permit&) = delete;
    ~Permit();

   private:
    friend class ConcurrencyLimiter;
    explicit Permit(ConcurrencyLimiter* owner) : owner_(owner) {}
    ConcurrencyLimiter* owner_;
  };

  // max_in_flight <= 0 means unlimited. limit_flag names the flag in error messages.
  explicit ConcurrencyLimiter(int64_t max_in_flight,
                              const char* limit_flag = "--max_concurrent_rpcs")
      : max_in_flight_(max_in_flight), limit_flag_(limit_flag) {}

  // A permit, or RESOURCE_EXHAUSTED naming the limit when all slots are taken.
  absl::Status TryAcquire(std::optional<Permit>* permit);

 private:
  const int64_t max_in_flight_;
  const char* const limit_flag_;
  std::atomic<int64_t> in_flight_{0};
};

}  // namespace recsys
