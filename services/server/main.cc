// recsys-server: hosts any subset of the recsys services in one process.
//   recsys-server                      # every service, embedded store under ./recsys-data
//   recsys-server --services=seqrec --grpc_port=50051 --metrics_port=9464
// Exit codes: 0 after a graceful shutdown, 2 for bad flags, 1 when start-up fails.
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/notification.h"
#include "services/common/logging.h"
#include "services/common/server.h"
#include "services/common/signals.h"
#include "services/server/server_flags.h"
#include "services/server/service_registry.h"

namespace {

std::atomic<bool> g_serving{false};
std::atomic<int> g_signal{0};
absl::Notification* g_terminate = nullptr;

// Plain write(2): safe however far the process is in exiting.
void SayAndExit(const char* why, int signal_number) {
  (void)!write(STDERR_FILENO, why, std::strlen(why));
  std::_Exit(128 + signal_number);
}

// Owns SIGTERM/SIGINT for the whole life of the process. Before the server is ready a signal
// aborts start-up; once serving, the first one starts the graceful drain and a second one
// exits at once.
void WatchSignals() {
  const int first = recsys::WaitForTerminationSignal();
  if (!g_serving.load()) {
    SayAndExit("recsys-server: termination signal during start-up: exiting\n", first);
  }
  g_signal.store(first);
  g_terminate->Notify();
  const int second = recsys::WaitForTerminationSignal();
  SayAndExit("recsys-server: second termination signal: exiting without draining\n", second);
}

}  // namespace

int main(int argc, char** argv) {
  // First thing: a signal from now on is seen by the watcher thread started below.
  recsys::InstallTerminationSignalHandlers();
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
  absl::StatusOr<recsys::ServerOptions> options = recsys::ServerOptionsFromFlags(registry.Names());
  if (!options.ok()) {
    recsys::log::Error("invalid flags", {{"error", std::string(options.status().message())}});
    return 2;
  }
  recsys::log::Info("starting", {{"services", absl::StrJoin(options->services, ",")},
                                 {"data_dir", options->data_dir},
                                 {"model_repo", options->ResolvedModelRepo()}});

  static absl::Notification terminate;
  g_terminate = &terminate;
  std::thread(WatchSignals).detach();

  absl::StatusOr<std::unique_ptr<recsys::Server>> server =
      recsys::Server::Start(*options, registry, [] { g_serving.store(true); });
  if (!server.ok()) {
    recsys::log::Error("start-up failed", {{"error", server.status()}});
    return 1;
  }

  terminate.WaitForNotification();
  recsys::log::Info("termination signal received", {{"signal", g_signal.load()}});
  (*server)->Shutdown();
  return 0;
}
