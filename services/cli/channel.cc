#include "services/cli/channel.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include "services/common/files.h"

namespace recsys::cli {
absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(const ChannelOptions& o) {
  if (o.target.empty()) return absl::InvalidArgumentError("--target: must not be empty");
  if (o.tls_cert_file.empty() != o.tls_key_file.empty()) {
    return absl::InvalidArgumentError("--tls_cert_file and --tls_key_file: set both or neither");
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(o.max_message_bytes);
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  const bool tls = o.tls || !o.tls_ca_file.empty() || !o.tls_cert_file.empty();
  if (tls) {
    grpc::SslCredentialsOptions ssl;
    if (!o.tls_ca_file.empty()) {
      absl::StatusOr<std::string> ca = ReadFileForFlag("--tls_ca_file", o.tls_ca_file);
      if (!ca.ok()) return ca.status();
      ssl.pem_root_certs = *ca;
    }
    if (!o.tls_cert_file.empty()) {
      absl::StatusOr<std::string> cert = ReadFileForFlag("--tls_cert_file", o.tls_cert_file);
      if (!cert.ok()) return cert.status();
      absl::StatusOr<std::string> key = ReadFileForFlag("--tls_key_file", o.tls_key_file);
      if (!key.ok()) return key.status();
      ssl.pem_cert_chain = *cert;
      ssl.pem_private_key = *key;
    }
    if (!o.tls_server_name.empty()) {
      args.SetSslTargetNameOverride(o.tls_server_name);
    }
    credentials = grpc::SslCredentials(ssl);
  } else {
    credentials = grpc::InsecureChannelCredentials();
  }
  return grpc::CreateCustomChannel(o.target, credentials, args);
}

}  // namespace recsys::cli
