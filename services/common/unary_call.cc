#include "services/common/unary_call.h"

#include <exception>
#include <optional>

#include "absl/strings/str_cat.h"
#include "services/common/grpc_status.h"
#include "services/common/logging.h"

namespace recsys {
namespace {

absl::Status RunBody(const RpcContext& ctx, CallBody& body) {
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

}  // namespace

grpc::ServerUnaryReactor* RejectStarting(grpc::CallbackServerContext* call,
                                         const CallPolicy& policy) {
  grpc::ServerUnaryReactor* reactor = call->DefaultReactor();
  reactor->Finish(ToGrpcStatus(absl::UnavailableError(
      absl::StrCat("service '", policy.service_name, "' is still starting; retry shortly"))));
  return reactor;
}

grpc::ServerUnaryReactor* StartUnaryCall(grpc::CallbackServerContext* call,
                                         const CallPolicy& policy, CallBody body) {
  if (policy.started != nullptr && !policy.started->load(std::memory_order_acquire)) {
    return RejectStarting(call, policy);
  }
  grpc::ServerUnaryReactor* reactor = call->DefaultReactor();
  std::optional<ConcurrencyLimiter::Permit> permit;
  if (policy.limiter != nullptr) {
    if (absl::Status admitted = policy.limiter->TryAcquire(&permit); !admitted.ok()) {
      reactor->Finish(ToGrpcStatus(admitted));
      return reactor;
    }
  }
  // The context and the call stay valid until Finish, which the task calls last.
  auto task = [reactor, ctx = RpcContextFromCall(call, policy.default_deadline),
               permit = std::move(permit), body = std::move(body)]() mutable {
    const absl::Status status = RunBody(ctx, body);
    permit.reset();  // free the slot before the client can send its next call
    reactor->Finish(ToGrpcStatus(status));
  };
  if (policy.executor != nullptr) {
    policy.executor->Submit(std::move(task));
  } else {
    task();
  }
  return reactor;
}

}  // namespace recsys
