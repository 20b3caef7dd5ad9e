// How every recsys unary handler runs: admission control, the call's deadline turned into an
// RpcContext, exceptions turned into INTERNAL, and one absl::Status -> grpc::Status
// conversion. A handler body only validates, computes and fills the response:
//
//   grpc::ServerUnaryReactor* Score(grpc::CallbackServerContext* call,
//                                   const ScoreRequest* req, ScoreResponse* resp) override {
//     return ServeUnary(call, policy_, [&](const RpcContext& ctx) {
//       RECSYS_RETURN_IF_ERROR(ValidateScoreRequest(*req, limits_));
//       return model_->Score(ctx, *req, resp);
//     });
//   }
#pragma once

#include <grpcpp/server_context.h>
#include <grpcpp/support/server_callback.h>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "services/common/concurrency_limiter.h"
#include "services/common/grpc_status.h"
#include "services/common/rpc_context.h"

namespace recsys {

struct CallPolicy {
  // Shared by every service of the process; nullptr = no limit.
  ConcurrencyLimiter* limiter = nullptr;
  // Budget for calls that arrive without a deadline. Default: 10 s.
  absl::Duration default_deadline = absl::Seconds(10);
};

// Runs body under the policy and returns its status (never throws).
absl::Status RunCall(grpc::CallbackServerContext* call, const CallPolicy& policy,
                     absl::FunctionRef<absl::Status(const RpcContext&)> body);

// RunCall, then finishes the call's default reactor with the result.
inline grpc::ServerUnaryReactor* ServeUnary(
    grpc::CallbackServerContext* call, const CallPolicy& policy,
    absl::FunctionRef<absl::Status(const RpcContext&)> body) {
  grpc::ServerUnaryReactor* reactor = call->DefaultReactor();
  reactor->Finish(ToGrpcStatus(RunCall(call, policy, body)));
  return reactor;
}

}  // namespace recsys
