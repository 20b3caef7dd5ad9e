// recsys-cli: command-line client of recsys-server.
//   recsys-cli health [--service=NAME]   readiness of the server and each hosted service
//   recsys-cli info                      version, devices, hosted services
//   recsys-cli list                      gRPC services, from server reflection
// Common flags: --target=host:port --timeout=5s --json, TLS: --tls --tls_ca_file
// --tls_cert_file --tls_key_file --tls_server_name.
// Exit codes: 0 ok, 1 RPC failure or not SERVING, 2 bad command line.
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/time/time.h"
#include "services/cli/channel.h"
#include "services/cli/commands.h"

ABSL_FLAG(std::string, target, "localhost:50051", "recsys-server address, host:port.");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(5), "Deadline of each RPC.");
ABSL_FLAG(bool, json, false, "Print one JSON document instead of text.");
ABSL_FLAG(std::string, service, "", "health: check only this gRPC service name.");
ABSL_FLAG(bool, tls, false, "Connect with TLS (implied by the other --tls_* flags).");
ABSL_FLAG(std::string, tls_ca_file, "", "PEM CA bundle that signed the server certificate.");
ABSL_FLAG(std::string, tls_cert_file, "", "PEM client certificate (mTLS).");
ABSL_FLAG(std::string, tls_key_file, "", "PEM key of --tls_cert_file.");
ABSL_FLAG(std::string, tls_server_name, "", "Name to verify in the server certificate.");

namespace {

constexpr char kUsage[] =
    "Command-line client of recsys-server.\n"
    "Usage: recsys-cli <command> [flags]\n"
    "Commands:\n"
    "  health   readiness of the server and each hosted service (exit 1 if any is not SERVING)\n"
    "  info     server version, devices and hosted services\n"
    "  list     gRPC services exposed, from server reflection\n";

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(kUsage);
  const std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() != 2) {
    std::cerr << kUsage;
    return recsys::cli::kExitUsage;
  }
  const std::string command = args[1];

  recsys::cli::ChannelOptions channel_options;
  channel_options.target = absl::GetFlag(FLAGS_target);
  channel_options.tls = absl::GetFlag(FLAGS_tls);
  channel_options.tls_ca_file = absl::GetFlag(FLAGS_tls_ca_file);
  channel_options.tls_cert_file = absl::GetFlag(FLAGS_tls_cert_file);
  channel_options.tls_key_file = absl::GetFlag(FLAGS_tls_key_file);
  channel_options.tls_server_name = absl::GetFlag(FLAGS_tls_server_name);
  auto channel = recsys::cli::MakeChannel(channel_options);
  if (!channel.ok()) {
    std::cerr << "recsys-cli: " << channel.status().message() << "\n";
    return recsys::cli::kExitUsage;
  }
  const absl::Duration timeout = absl::GetFlag(FLAGS_timeout);
  if (timeout <= absl::ZeroDuration()) {
    std::cerr << "recsys-cli: --timeout: must be > 0\n";
    return recsys::cli::kExitUsage;
  }

  recsys::cli::CommandContext ctx;
  ctx.channel = *channel;
  ctx.target = channel_options.target;
  ctx.timeout = timeout;
  ctx.json = absl::GetFlag(FLAGS_json);
  ctx.out = &std::cout;
  ctx.err = &std::cerr;

  if (command == "health") return recsys::cli::RunHealth(ctx, absl::GetFlag(FLAGS_service));
  if (command == "info") return recsys::cli::RunInfo(ctx);
  if (command == "list") return recsys::cli::RunListServices(ctx);
  std::cerr << "recsys-cli: unknown command '" << command << "'\n" << kUsage;
  return recsys::cli::kExitUsage;
}
