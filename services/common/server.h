// The recsys server runtime: one gRPC server hosting the selected service modules plus the
// admin service, grpc.health.v1 (per-service readiness) and server reflection, a Prometheus
// /metrics endpoint, and graceful shutdown.
//
// Lifecycle:
//   Start():    listen on both ports; "" and every module's services report NOT_SERVING and
//               their calls get UNAVAILABLE while modules Start() (load models, open stores)
//               in order; each reports SERVING when it is up, "" when all are; the ports
//               file is written last, so a waiting script sees a ready server.
//   Shutdown(): every health status goes NOT_SERVING ("" included), the server keeps serving
//               for readiness_drain_delay, then refuses new calls and gives in-flight ones up
//               to drain_timeout to finish (later ones are cancelled), then modules Stop().
#pragma once

#include <grpcpp/server.h>
#include <prometheus/exposer.h>
#include <prometheus/registry.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "recsys/admin/v1/admin.pb.h"
#include "services/common/admin_service.h"
#include "services/common/concurrency_limiter.h"
#include "services/common/executor.h"
#include "services/common/metrics.h"
#include "services/common/server_options.h"
#include "services/common/service_module.h"

namespace recsys {

class Server {
 public:
  // Validates options, creates the modules named in options.services from registry, and
  // runs the Start() sequence above. Errors name the flag or module at fault. on_ready, when
  // set, runs once everything is serving and just before readiness is advertised (the ports
  // file), so a caller can treat anything that reacts to that file as hitting a ready server.
  static absl::StatusOr<std::unique_ptr<Server>> Start(const ServerOptions& options,
                                                       const ServiceRegistry& registry,
                                                       std::function<void()> on_ready = {});

  ~Server();  // Shutdown() if it has not run

  // Bound ports (useful when the options asked for port 0).
  int grpc_port() const { return grpc_port_; }
  int metrics_port() const { return metrics_port_; }

  // Graceful stop as described above; idempotent, blocks until done.
  void Shutdown();

  // The process-wide metrics registry (served on /metrics).
  prometheus::Registry& metrics_registry() { return *metrics_registry_; }

 private:
  // The admin ReloadModels RPC: every started module's ReloadModels.
  absl::Status ReloadModels(const std::string& model, admin::v1::ReloadModelsResponse* response);

  struct Hosted {
    std::string name;
    std::unique_ptr<ServiceModule> module;
    std::vector<GrpcServiceEntry> grpc_services;
    prometheus::Gauge* ready_gauge = nullptr;
    // Start() returned OK: calls are admitted (also while draining).
    std::atomic<bool> started{false};
    // What health reports.
    std::atomic<bool> serving{false};
  };

  explicit Server(ServerOptions options);
  absl::Status Init(const ServiceRegistry& registry);
  absl::Status BuildGrpcServer();
  absl::Status StartMetricsExposer();
  absl::Status StartModules();
  absl::Status WritePortsFile() const;
  void SetServing(Hosted& hosted, bool serving);
  void FillServerInfo(admin::v1::GetServerInfoResponse* info) const;

  const ServerOptions options_;
  const int64_t start_time_ms_;
  std::shared_ptr<prometheus::Registry> metrics_registry_;
  std::unique_ptr<RpcMetrics> rpc_metrics_;
  std::unique_ptr<ConcurrencyLimiter> limiter_;
  AdminAccess admin_access_;  // the call policy points at it
  // Declared before grpc_server_: outlives every call.
  std::unique_ptr<Executor> executor_;
  std::vector<std::unique_ptr<Hosted>> hosted_;
  std::unique_ptr<AdminService> admin_service_;
  std::vector<admin::v1::Device> devices_;
  std::unique_ptr<grpc::Server> grpc_server_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  int grpc_port_ = 0;
  int metrics_port_ = 0;
  bool ready_ = false;  // Start() completed

  absl::Mutex shutdown_mu_;
  bool shut_down_ ABSL_GUARDED_BY(shutdown_mu_) = false;
};

}  // namespace recsys
