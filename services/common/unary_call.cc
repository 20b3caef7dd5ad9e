#include "services/common/unary_call.h"

#include <exception>
#include <optional>

#include "absl/strings/str_cat.h"
#include "services/common/logging.h"

namespace recsys {

absl::Status RunCall(grpc::CallbackServerContext* call, const CallPolicy& policy,
                     absl::FunctionRef<absl::Status(const RpcContext&)> body) {
  std::optional<ConcurrencyLimiter::Permit> permit;
  if (policy.limiter != nullptr) {
    if (absl::Status admitted = policy.limiter->TryAcquire(&permit); !admitted.ok()) {
      return admitted;
    }
  }
  const RpcContext ctx = RpcContextFromCall(call, policy.default_deadline);
  if (absl::Status live = ctx.Check("handler start"); !live.ok()) return live;
  try {
    return body(ctx);
  } catch (const std::exception& e) {
    log::Error("handler threw", {{"what", e.what()}});
    return absl::InternalError(absl::StrCat("internal error: ", e.what()));
  } catch (...) {
    log::Error("handler threw a non-standard exception");
    return absl::InternalError("internal error");
  }
}

}  // namespace recsys
