// How recsys-cli (and tests) connect to a recsys-server.
#pragma once

#include <grpcpp/channel.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace recsys::cli {

struct ChannelOptions {
  // host:port of the server. Default: "localhost:50051".
  std::string target = "localhost:50051";
  // TLS: on when tls is true or any file is set. ca_file verifies the server (system roots
  // when empty); cert_file + key_file present a client certificate (mTLS).
  bool tls = false;
  std::string tls_ca_file;
  std::string tls_cert_file;
  std::string tls_key_file;
  // Overrides the name checked against the server certificate.
  std::string tls_server_name;
  // Largest response accepted. Default: 64 MiB.
  int max_message_bytes = 64 << 20;
};

absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(const ChannelOptions& options);

}  // namespace recsys::cli
