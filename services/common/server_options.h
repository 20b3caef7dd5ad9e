// Everything the server runtime needs to know, as one options struct with its defaults
// written down. Filled from flags by services/server/server_flags.cc; tests build it directly.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace recsys {

struct ServerOptions {
  // Service modules to host, by name (e.g. "seqrec"). The admin service, grpc.health.v1 and
  // server reflection are always served. Default: every service in the build.
  std::vector<std::string> services;

  // Address both listeners bind to. Default: "0.0.0.0".
  std::string bind_address = "0.0.0.0";
  // gRPC port; 0 picks a free port (see ports_file). Default: 50051.
  int grpc_port = 50051;
  // Prometheus /metrics port; 0 picks a free port. Default: 9464.
  int metrics_port = 9464;
  // When set, {"grpc_port":N,"metrics_port":M} is written here once the server is ready.
  std::string ports_file;

  // Local data: the embedded feature store lives under it. Created when missing.
  // Default: "./recsys-data".
  std::string data_dir = "./recsys-data";
  // Model repository (<repo>/<model>/<version>/). Default: "" = <data_dir>/models.
  std::string model_repo;
  // How often model services check the repository for new versions (0 = never).
  absl::Duration model_poll_interval = absl::Seconds(10);

  // TLS: both files set = TLS on. With tls_client_ca_file, clients must present a
  // certificate signed by that CA (mTLS). Default: plaintext.
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_client_ca_file;

  // Admin calls (admin_access.h): from the server's host unless admin_from_loopback is off,
  // and from callers sending the bearer token in admin_token_file. Default: loopback only.
  bool admin_from_loopback = true;
  std::string admin_token_file;

  // Largest request or response message in bytes; larger requests get RESOURCE_EXHAUSTED
  // from gRPC. Default: 16 MiB.
  int64_t max_message_bytes = 16 << 20;
  // Calls in the handlers at once across all services; more get RESOURCE_EXHAUSTED.
  // 0 = unlimited. Default: 512.
  int64_t max_concurrent_rpcs = 512;
  // HTTP/2 streams per client connection. Default: 256.
  int64_t max_concurrent_streams = 256;
  // Threads that run handler bodies (gRPC's own threads only accept and finish calls).
  // Default: 32.
  int64_t handler_threads = 32;
  // Threads all CPU kernel computations in flight share (recsys/kernels/parallelism.h);
  // 0 = OpenMP's default (OMP_NUM_THREADS, else the cores). Set it to the CPU limit of a
  // container. Default: 0.
  int64_t intra_op_threads = 0;
  // Budget of a call that arrives without a deadline. Default: 10 s.
  absl::Duration default_deadline = absl::Seconds(10);

  // On SIGTERM: readiness goes NOT_SERVING, the server keeps serving for
  // readiness_drain_delay so load balancers stop routing to it, then stops accepting calls
  // and gives in-flight calls up to drain_timeout to finish before cancelling them.
  // Defaults: 0 s and 20 s (on Kubernetes use a delay of ~5 s).
  absl::Duration readiness_drain_delay = absl::ZeroDuration();
  absl::Duration drain_timeout = absl::Seconds(20);

  // model_repo, or <data_dir>/models when empty.
  std::string ResolvedModelRepo() const;
};

// Checks ranges and combinations; errors name the flag, e.g. "--grpc_port: 70000 is
// outside [0, 65535]". available: the service names this build provides.
absl::Status ValidateServerOptions(const ServerOptions& options,
                                   const std::vector<std::string>& available);

// Splits "a, b,c" into names; "all" (or empty) means every available service.
// Unknown or repeated names are errors naming --services.
absl::Status ParseServiceList(const std::string& spec, const std::vector<std::string>& available,
                              std::vector<std::string>* out);

}  // namespace recsys
