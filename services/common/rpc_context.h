// Per-call context passed from the RPC layer down to stores, batchers and models, so that
// every stage can honour the caller's deadline and cancellation.
#pragma once

#include <grpcpp/server_context.h>

#include <functional>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace recsys {

struct RpcContext {
  // Absolute deadline of the call. Never infinite for a served call: without a client
  // deadline it is arrival + the server's --default_deadline.
  absl::Time deadline = absl::InfiniteFuture();
  // True once the client cancelled or the deadline passed at the transport; may be empty.
  // It reads the live call, so an RpcContext must not be used after its call finished:
  // anything a handler hands it to (a batcher, a store) must be done before the handler's
  // body returns.
  std::function<bool()> is_cancelled;

  absl::Duration Remaining() const { return deadline - absl::Now(); }

  // OK while there is time left. Otherwise DEADLINE_EXCEEDED (or CANCELLED) naming the stage
  // that could not start, e.g. Check("model forward").
  absl::Status Check(absl::string_view stage) const;
};

// The client's deadline from the call, or now + default_timeout
// when the client set none.
RpcContext RpcContextFromCall(grpc::CallbackServerContext* call, absl::Duration default_timeout);

}  // namespace recsys
