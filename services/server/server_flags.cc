#include "services/server/server_flags.h"

#include <cstdint>

#include "absl/flags/flag.h"
#include "absl/time/time.h"
#include "base/status_macros.h"
#include "services/common/logging.h"

ABSL_FLAG(std::string, services, "all",
          "Comma-separated services to host (feature_store, seqrec, behavior_search, setrec, "
          "rerank), or 'all' for every service in this build. The admin service, "
          "grpc.health.v1 and reflection are always served.");
ABSL_FLAG(std::string, bind_address, "0.0.0.0", "Address the gRPC and metrics listeners bind.");
ABSL_FLAG(int32_t, grpc_port, 50051, "gRPC port; 0 picks a free one (see --ports_file).");
ABSL_FLAG(int32_t, metrics_port, 9464, "Prometheus /metrics port; 0 picks a free one.");
ABSL_FLAG(std::string, ports_file, "",
          "If set, {\"grpc_port\":N,\"metrics_port\":M} is written here once the server is "
          "ready.");
ABSL_FLAG(std::string, data_dir, "./recsys-data",
          "Local data directory (embedded feature store); created if missing.");
ABSL_FLAG(std::string, model_repo, "",
          "Model repository <repo>/<model>/<version>/; empty = <data_dir>/models.");
ABSL_FLAG(absl::Duration, model_poll_interval, absl::Seconds(10),
          "How often the model repository is checked for new versions (0 = never).");
ABSL_FLAG(std::string, tls_cert_file, "", "PEM server certificate chain; enables TLS.");
ABSL_FLAG(std::string, tls_key_file, "", "PEM private key of --tls_cert_file.");
ABSL_FLAG(std::string, tls_client_ca_file, "",
          "PEM CA bundle; when set, clients must present a certificate it signed (mTLS).");
ABSL_FLAG(bool, admin_from_loopback, true,
          "Callers on this host (loopback) may make admin calls (ReloadModels, Checkpoint) and "
          "read GetServerInfo's paths.");
ABSL_FLAG(std::string, admin_token_file, "",
          "File holding a token; callers sending 'authorization: Bearer <token>' are admins "
          "from anywhere.");
ABSL_FLAG(int64_t, max_message_bytes, 16 << 20, "Largest request or response message, in bytes.");
ABSL_FLAG(int64_t, max_concurrent_rpcs, 512,
          "Calls handled at once across all services; more get RESOURCE_EXHAUSTED. "
          "0 = unlimited.");
ABSL_FLAG(int64_t, max_concurrent_streams, 256, "HTTP/2 streams per client connection.");
ABSL_FLAG(int64_t, handler_threads, 32,
          "Threads that run request handlers (model work, store reads); gRPC's own threads "
          "only accept and finish calls.");
ABSL_FLAG(int64_t, intra_op_threads, 0,
          "Threads all CPU kernel computations in flight share; a lone batch may use them all, "
          "concurrent ones divide them. 0 = OMP_NUM_THREADS, else the cores. Set it to a "
          "container's CPU limit.");
ABSL_FLAG(absl::Duration, default_deadline, absl::Seconds(10),
          "Budget of a call that arrives without a deadline, e.g. 10s or 500ms.");
ABSL_FLAG(absl::Duration, readiness_drain_delay, absl::ZeroDuration(),
          "On SIGTERM, keep serving this long after readiness goes NOT_SERVING "
          "(about 5s on Kubernetes).");
ABSL_FLAG(absl::Duration, drain_timeout, absl::Seconds(20),
          "On SIGTERM, how long in-flight calls may take to finish before they are "
          "cancelled.");
ABSL_FLAG(std::string, log_format, "text", "Log line format: text or json.");
ABSL_FLAG(std::string, log_level, "info", "Lowest level logged: debug, info, warn, error.");

namespace recsys {

absl::StatusOr<ServerOptions> ServerOptionsFromFlags(const std::vector<std::string>& available) {
  ServerOptions o;
  RECSYS_RETURN_IF_ERROR(ParseServiceList(absl::GetFlag(FLAGS_services), available, &o.services));
  o.bind_address = absl::GetFlag(FLAGS_bind_address);
  o.grpc_port = absl::GetFlag(FLAGS_grpc_port);
  o.metrics_port = absl::GetFlag(FLAGS_metrics_port);
  o.ports_file = absl::GetFlag(FLAGS_ports_file);
  o.data_dir = absl::GetFlag(FLAGS_data_dir);
  o.model_repo = absl::GetFlag(FLAGS_model_repo);
  o.model_poll_interval = absl::GetFlag(FLAGS_model_poll_interval);
  o.tls_cert_file = absl::GetFlag(FLAGS_tls_cert_file);
  o.tls_key_file = absl::GetFlag(FLAGS_tls_key_file);
  o.tls_client_ca_file = absl::GetFlag(FLAGS_tls_client_ca_file);
  o.admin_from_loopback = absl::GetFlag(FLAGS_admin_from_loopback);
  o.admin_token_file = absl::GetFlag(FLAGS_admin_token_file);
  o.max_message_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  o.max_concurrent_rpcs = absl::GetFlag(FLAGS_max_concurrent_rpcs);
  o.max_concurrent_streams = absl::GetFlag(FLAGS_max_concurrent_streams);
  o.handler_threads = absl::GetFlag(FLAGS_handler_threads);
  o.intra_op_threads = absl::GetFlag(FLAGS_intra_op_threads);
  o.default_deadline = absl::GetFlag(FLAGS_default_deadline);
  o.readiness_drain_delay = absl::GetFlag(FLAGS_readiness_drain_delay);
  o.drain_timeout = absl::GetFlag(FLAGS_drain_timeout);
  RECSYS_RETURN_IF_ERROR(ValidateServerOptions(o, available));
  return o;
}

absl::Status InitLoggingFromFlags() {
  RECSYS_ASSIGN_OR_RETURN(log::Format format, log::ParseFormat(absl::GetFlag(FLAGS_log_format)));
  RECSYS_ASSIGN_OR_RETURN(log::Level level, log::ParseLevel(absl::GetFlag(FLAGS_log_level)));
  log::Init(format, level);
  return absl::OkStatus();
}

}  // namespace recsys
