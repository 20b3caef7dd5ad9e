// How every recsys unary handler runs: admission control, readiness, the call's deadline
// turned into an RpcContext, the body on the server's Executor (never on a gRPC thread),
// exceptions turned into INTERNAL, and one absl::Status -> grpc::Status conversion. A handler
// only validates, computes and fills the response:
//
//   grpc::ServerUnaryReactor* Score(grpc::CallbackServerContext* call,
//                                   const ScoreRequest* request,
//                                   ScoreResponse* response) override {
//     return ServeUnary(call, policy_, request, response,
//                       [this](const RpcContext& ctx, const ScoreRequest& req,
//                              ScoreResponse* resp) -> absl::Status {
//                         RECSYS_RETURN_IF_ERROR(ValidateScoreRequest(req, limits_));
//                         return model_->Score(ctx, req, resp);
//                       });
//   }
//
// The body runs after the handler has returned, so it must not capture the handler's
// locals by reference: it gets the request and response as arguments instead.
#pragma once

#include <grpcpp/server_context.h>
#include <grpcpp/support/server_callback.h>

#include <atomic>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "services/common/admin_access.h"
#include "services/common/concurrency_limiter.h"
#include "services/common/executor.h"
#include "services/common/rpc_context.h"

namespace recsys {

struct CallPolicy {
  // Shared by every service of the process; nullptr = no limit.
  ConcurrencyLimiter* limiter = nullptr;
  // Where bodies run; nullptr = inline on the gRPC thread (only for tests of this file).
  Executor* executor = nullptr;
  // The hosting module's "has started" flag; until it is true calls get UNAVAILABLE.
  // nullptr = always started.
  const std::atomic<bool>* started = nullptr;
  // Name used in the UNAVAILABLE message, e.g. "seqrec".
  const char* service_name = "";
  // Budget for calls that arrive without a deadline. Default: 10 s.
  absl::Duration default_deadline = absl::Seconds(10);
  // Who may make admin calls (admin_access.h); nullptr = every caller. Owned by the server.
  const AdminAccess* admin = nullptr;
};

using CallBody = absl::AnyInvocable<absl::Status(const RpcContext&)>;

// Admits the call, runs body on the executor and finishes the call's default reactor with
// its status. Returns the reactor for the handler to return.
grpc::ServerUnaryReactor* StartUnaryCall(grpc::CallbackServerContext* call,
                                         const CallPolicy& policy, CallBody body);

// Finishes the call at once with UNAVAILABLE: the policy's service is still starting. For
// handlers whose implementation does not exist yet (StartUnaryCall checks this itself).
grpc::ServerUnaryReactor* RejectStarting(grpc::CallbackServerContext* call,
                                         const CallPolicy& policy);

template <typename Request, typename Response, typename Body>
grpc::ServerUnaryReactor* ServeUnary(grpc::CallbackServerContext* call, const CallPolicy& policy,
                                     const Request* request, Response* response, Body body) {
  return StartUnaryCall(
      call, policy,
      [request, response, body = std::move(body)](const RpcContext& ctx) mutable -> absl::Status {
        return body(ctx, *request, response);
      });
}

// The usual handler: the body is a member function of the service,
//   return ServeUnary(call, policy_, request, response, this, &MyService::DoScore);
template <typename Service, typename Request, typename Response>
grpc::ServerUnaryReactor* ServeUnary(grpc::CallbackServerContext* call, const CallPolicy& policy,
                                     const Request* request, Response* response, Service* service,
                                     absl::Status (Service::*body)(const RpcContext&,
                                                                   const Request&, Response*)) {
  return ServeUnary(call, policy, request, response,
                    [service, body](const RpcContext& ctx, const Request& req, Response* resp) {
                      return (service->*body)(ctx, req, resp);
                    });
}

}  // namespace recsys
