#include "tests/testing/loopback_server.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace recsys::testing {

LoopbackServer::LoopbackServer(const std::vector<grpc::Service*>& services) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
  for (grpc::Service* service : services) builder.RegisterService(service);
  server_ = builder.BuildAndStart();
  EXPECT_NE(server_, nullptr) << "the loopback gRPC server did not start";
  EXPECT_GT(port_, 0);
}

std::string LoopbackServer::target() const { return absl::StrCat("127.0.0.1:", port_); }

std::shared_ptr<grpc::Channel> LoopbackServer::NewChannel() const {
  return grpc::CreateChannel(target(), grpc::InsecureChannelCredentials());
}

void LoopbackServer::Shutdown() {
  if (server_ == nullptr) return;
  server_->Shutdown();
  server_.reset();
}

std::unique_ptr<grpc::ClientContext> ContextWithDeadline(absl::Duration timeout) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  return context;
}

}  // namespace recsys::testing
