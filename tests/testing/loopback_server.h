// A real gRPC server on a free 127.0.0.1 port serving the given services, for tests that
// talk to a service through a channel, as a client would.
#pragma once

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/impl/service_type.h>
#include <grpcpp/server.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace recsys::testing {

class LoopbackServer {
 public:
  // Starts at once; a failure to start is a test failure (and ok() is false).
  explicit LoopbackServer(const std::vector<grpc::Service*>& services);
  ~LoopbackServer() { Shutdown(); }
  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;

  bool ok() const { return server_ != nullptr; }
  int port() const { return port_; }
  std::string target() const;  // "127.0.0.1:<port>"
  // A new insecure channel to the server.
  std::shared_ptr<grpc::Channel> NewChannel() const;
  // Stops accepting calls and waits for those in flight; idempotent.
  void Shutdown();

 private:
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

// A client context whose deadline is `timeout` from now.
std::unique_ptr<grpc::ClientContext> ContextWithDeadline(
    absl::Duration timeout = absl::Seconds(10));

}  // namespace recsys::testing
