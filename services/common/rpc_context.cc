#include "services/common/rpc_context.h"

#include <chrono>

#include "absl/strings/str_cat.h"

namespace recsys {

absl::Status RpcContext::Check(absl::string_view stage) const {
  if (is_cancelled && is_cancelled()) {
    return absl::CancelledError(absl::StrCat("call cancelled before ", stage));
  }
  const absl::Time now = absl::Now();
  if (now >= deadline) {
    return absl::DeadlineExceededError(absl::StrCat("deadline exceeded before ", stage, " (",
                                                    absl::FormatDuration(now - deadline),
                                                    " past the deadline)"));
  }
  return absl::OkStatus();
}

RpcContext RpcContextFromCall(grpc::CallbackServerContext* call, absl::Duration default_timeout) {
  RpcContext ctx;
  const auto client_deadline = call->deadline();
  if (client_deadline == std::chrono::system_clock::time_point::max()) {
    ctx.deadline = absl::Now() + default_timeout;
  } else {
    ctx.deadline = absl::FromChrono(client_deadline);
  }
  ctx.is_cancelled = [call] { return call->IsCancelled(); };
  return ctx;
}

}  // namespace recsys
