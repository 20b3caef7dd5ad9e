// recsys-server: hosts any subset of the recsys services in one process.
//   recsys-server                      # every service, embedded store under ./recsys-data
//   recsys-server --services=seqrec --grpc_port=50051 --metrics_port=9464
// Exit codes: 0 after a graceful shutdown, 2 for bad flags, 1 when start-up fails.
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_join.h"
#include "services/common/logging.h"
#include "services/common/server.h"
#include "services/common/signals.h"
#include "services/server/server_flags.h"
#include "services/server/service_registry.h"

int main(int argc, char** argv) {
  // Before any thread starts, so every thread inherits the blocked mask.
  recsys::BlockTerminationSignals();
  absl::SetProgramUsageMessage(
      "Serves the recsys gRPC services.\nUsage: recsys-server [--services=all] [flags]");
  const std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  if (positional.size() > 1) {
    std::fprintf(stderr, "recsys-server: unexpected argument '%s' (flags look like --name=value)\n",
                 positional[1]);
    return 2;
  }
  if (absl::Status s = recsys::InitLoggingFromFlags(); !s.ok()) {
    std::fprintf(stderr, "recsys-server: %s\n", std::string(s.message()).c_str());
    return 2;
  }

  recsys::ServiceRegistry registry;
  recsys::RegisterBuiltinServices(&registry);
  absl::StatusOr<recsys::ServerOptions> options =
      recsys::ServerOptionsFromFlags(registry.Names());
  if (!options.ok()) {
    recsys::log::Error("invalid flags", {{"error", std::string(options.status().message())}});
    return 2;
  }
  recsys::log::Info("starting", {{"services", absl::StrJoin(options->services, ",")},
                                 {"data_dir", options->data_dir},
                                 {"model_repo", options->ResolvedModelRepo()}});

  absl::StatusOr<std::unique_ptr<recsys::Server>> server =
      recsys::Server::Start(*options, registry);
  if (!server.ok()) {
    recsys::log::Error("start-up failed", {{"error", server.status()}});
    return 1;
  }

  const int signal_number = recsys::WaitForTerminationSignal();
  recsys::log::Info("termination signal received", {{"signal", signal_number}});
  // A second signal while draining means "stop now".
  std::thread([] {
    const int again = recsys::WaitForTerminationSignal();
    recsys::log::Warn("second termination signal: exiting without draining",
                      {{"signal", again}});
    std::_Exit(128 + again);
  }).detach();
  (*server)->Shutdown();
  return 0;
}
