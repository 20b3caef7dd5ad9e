#include "services/common/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include <chrono>
#include <exception>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/quote.h"
#include "base/status_macros.h"
#include "grpc/health/v1/health.pb.h"
#include "recsys/kernels/device.h"
#include "recsys/kernels/parallelism.h"
#include "services/common/build_info.h"
#include "services/common/files.h"
#include "services/common/logging.h"
#include "services/common/malformed_request.h"

namespace recsys {
namespace {

constexpr char kHealthService[] = "grpc.health.v1.Health";
constexpr char kReflectionService[] = "grpc.reflection.v1alpha.ServerReflection";

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeCredentials(const ServerOptions& o) {
  if (o.tls_cert_file.empty()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions ssl;
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  RECSYS_ASSIGN_OR_RETURN(pair.cert_chain, ReadFileForFlag("--tls_cert_file", o.tls_cert_file));
  RECSYS_ASSIGN_OR_RETURN(pair.private_key, ReadFileForFlag("--tls_key_file", o.tls_key_file));
  ssl.pem_key_cert_pairs.push_back(std::move(pair));
  if (!o.tls_client_ca_file.empty()) {
    RECSYS_ASSIGN_OR_RETURN(ssl.pem_root_certs,
                            ReadFileForFlag("--tls_client_ca_file", o.tls_client_ca_file));
    ssl.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(ssl);
}

absl::Status PrepareDataDir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("--data_dir: cannot create '", dir, "': ", ec.message()));
  }
  const std::string probe = absl::StrCat(dir, "/.recsys-write-test");
  if (!std::ofstream(probe)) {
    return absl::FailedPreconditionError(absl::StrCat("--data_dir: '", dir, "' is not writable"));
  }
  std::filesystem::remove(probe, ec);
  return absl::OkStatus();
}

}  // namespace

Server::Server(ServerOptions options)
    : options_(std::move(options)),
      start_time_ms_(absl::ToUnixMillis(absl::Now())),
      metrics_registry_(std::make_shared<prometheus::Registry>()) {}

Server::~Server() { Shutdown(); }

absl::StatusOr<std::unique_ptr<Server>> Server::Start(const ServerOptions& options,
                                                      const ServiceRegistry& registry,
                                                      std::function<void()> on_ready) {
  RECSYS_RETURN_IF_ERROR(ValidateServerOptions(options, registry.Names()));
  std::unique_ptr<Server> server(new Server(options));
  RECSYS_RETURN_IF_ERROR(server->Init(registry));
  RECSYS_RETURN_IF_ERROR(server->BuildGrpcServer());
  RECSYS_RETURN_IF_ERROR(server->StartMetricsExposer());
  RECSYS_RETURN_IF_ERROR(server->StartModules());
  if (on_ready) on_ready();
  RECSYS_RETURN_IF_ERROR(server->WritePortsFile());
  server->ready_ = true;
  log::Info("server ready", {{"grpc_port", server->grpc_port_},
                             {"metrics_port", server->metrics_port_},
                             {"services", static_cast<int64_t>(server->hosted_.size())}});
  return server;
}

absl::Status Server::Init(const ServiceRegistry& registry) {
  RECSYS_RETURN_IF_ERROR(PrepareDataDir(options_.data_dir));
  RegisterProcessMetrics(*metrics_registry_, BuildVersion(), BuildGitRevision(),
                         kernels::CudaBuilt());
  for (const kernels::DeviceInfo& d : kernels::ListDevices()) {
    admin::v1::Device& device = devices_.emplace_back();
    device.set_name(d.name);
    device.set_description(d.description);
    device.set_memory_bytes(d.memory_bytes);
    log::Info("device", {{"name", d.name}, {"description", d.description}});
  }

  kernels::SetIntraOpBudget(static_cast<int>(options_.intra_op_threads));
  log::Info("intra-op threads", {{"budget", kernels::IntraOpBudget()}});
  limiter_ = std::make_unique<ConcurrencyLimiter>(options_.max_concurrent_rpcs);
  executor_ = std::make_unique<Executor>(static_cast<int>(options_.handler_threads));
  admin_access_.from_loopback = options_.admin_from_loopback;
  if (!options_.admin_token_file.empty()) {
    RECSYS_ASSIGN_OR_RETURN(admin_access_.token,
                            ReadSecretForFlag("--admin_token_file", options_.admin_token_file));
  }
  CallPolicy policy;
  policy.admin = &admin_access_;
  policy.limiter = limiter_.get();
  policy.executor = executor_.get();
  policy.default_deadline = options_.default_deadline;
  auto& ready_family = prometheus::BuildGauge()
                           .Name("recsys_service_ready")
                           .Help("1 while the hosted service reports SERVING, else 0.")
                           .Register(*metrics_registry_);
  for (const std::string& name : options_.services) {
    auto hosted = std::make_unique<Hosted>();
    hosted->name = name;
    ServiceEnv env{&options_, metrics_registry_.get(), policy};
    env.grpc_port = [this] { return grpc_port_; };
    env.add_collectable = [this](const std::weak_ptr<prometheus::Collectable>& c) {
      if (exposer_ != nullptr) exposer_->RegisterCollectable(c);
    };
    env.call_policy.started = &hosted->started;
    env.call_policy.service_name = hosted->name.c_str();
    auto module = registry.Create(name, env);
    if (!module.ok()) {
      return absl::Status(module.status().code(),
                          absl::StrCat("service '", name, "': ", module.status().message()));
    }
    hosted->module = *std::move(module);
    hosted->grpc_services = hosted->module->grpc_services();
    hosted->ready_gauge = &ready_family.Add({{"service", name}});
    hosted_.push_back(std::move(hosted));
  }
  admin_service_ = std::make_unique<AdminService>(
      policy, [this](admin::v1::GetServerInfoResponse* info) { FillServerInfo(info); },
      [this](const std::string& model, admin::v1::ReloadModelsResponse* response) {
        return ReloadModels(model, response);
      });
  return absl::OkStatus();
}

absl::Status Server::ReloadModels(const std::string& model,
                                  admin::v1::ReloadModelsResponse* response) {
  for (const auto& hosted : hosted_) {
    if (!hosted->started.load()) continue;  // still loading: its models are not ready yet
    for (admin::v1::ModelStatus& status : hosted->module->ReloadModels(model)) {
      status.set_service(hosted->name);
      *response->add_models() = std::move(status);
    }
  }
  if (!model.empty() && response->models().empty()) {
    return absl::NotFoundError(absl::StrCat("model: no hosted service serves ", Quote(model)));
  }
  return absl::OkStatus();
}

absl::Status Server::BuildGrpcServer() {
  RECSYS_ASSIGN_OR_RETURN(auto credentials, MakeCredentials(options_));
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  // Links the health messages into this binary so reflection can describe grpc.health.v1.
  (void)grpc::health::v1::HealthCheckRequest::descriptor();

  std::vector<std::string> service_names = {admin::v1::AdminService::service_full_name(),
                                            kHealthService, kReflectionService};
  grpc::ServerBuilder builder;
  const std::string address = absl::StrCat(options_.bind_address, ":", options_.grpc_port);
  builder.AddListeningPort(address, credentials, &grpc_port_);
  builder.SetMaxReceiveMessageSize(static_cast<int>(options_.max_message_bytes));
  builder.SetMaxSendMessageSize(static_cast<int>(options_.max_message_bytes));
  // gRPC sets SO_REUSEPORT by default: a second server on the same port would silently
  // share its traffic instead of failing to start.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             static_cast<int>(options_.max_concurrent_streams));
  builder.RegisterService(admin_service_.get());
  for (auto& hosted : hosted_) {
    for (const GrpcServiceEntry& entry : hosted->grpc_services) {
      builder.RegisterService(entry.service);
      service_names.push_back(entry.full_name);
    }
  }
  rpc_metrics_ = std::make_unique<RpcMetrics>(*metrics_registry_, service_names);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
  creators.push_back(NewMalformedRequestInterceptorFactory());  // before metrics: it fixes
  creators.push_back(rpc_metrics_->NewInterceptorFactory());    // the status they count
  builder.experimental().SetInterceptorCreators(std::move(creators));

  grpc_server_ = builder.BuildAndStart();
  if (grpc_server_ == nullptr || grpc_port_ == 0) {
    grpc_server_.reset();
    return absl::UnavailableError(absl::StrCat("--grpc_port: cannot listen on ", address,
                                               " (in use, or not a local address?)"));
  }
  grpc::HealthCheckServiceInterface* health = grpc_server_->GetHealthCheckService();
  health->SetServingStatus("", false);  // until every module has started
  health->SetServingStatus(admin::v1::AdminService::service_full_name(), true);
  for (auto& hosted : hosted_) SetServing(*hosted, false);
  return absl::OkStatus();
}

absl::Status Server::StartMetricsExposer() {
  const std::string address = absl::StrCat(options_.bind_address, ":", options_.metrics_port);
  try {
    // Enough HTTP threads that idle or slow clients cannot take them all, and a request
    // timeout that frees a thread held by a connection that never sends its request (the
    // default, 2 threads and 30 s, let two idle connections stall every scrape).
    exposer_ = std::make_unique<prometheus::Exposer>(std::vector<std::string>{
        "listening_ports", address, "num_threads", "16", "request_timeout_ms", "5000"});
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("--metrics_port: cannot listen on ", address, ": ", e.what()));
  }
  exposer_->RegisterCollectable(metrics_registry_);
  const std::vector<int> ports = exposer_->GetListeningPorts();
  metrics_port_ = ports.empty() ? options_.metrics_port : ports.front();
  return absl::OkStatus();
}

absl::Status Server::StartModules() {
  for (auto& hosted : hosted_) {
    const absl::Time begin = absl::Now();
    absl::Status started = hosted->module->Start();
    if (!started.ok()) {
      return absl::Status(started.code(), absl::StrCat("service '", hosted->name,
                                                       "' failed to start: ", started.message()));
    }
    hosted->started.store(true, std::memory_order_release);
    SetServing(*hosted, true);
    log::Info("service serving", {{"service", hosted->name},
                                  {"start_seconds", absl::ToDoubleSeconds(absl::Now() - begin)}});
  }
  grpc_server_->GetHealthCheckService()->SetServingStatus("", true);
  return absl::OkStatus();
}

absl::Status Server::WritePortsFile() const {
  if (options_.ports_file.empty()) return absl::OkStatus();
  const std::string tmp = options_.ports_file + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << "{\"grpc_port\":" << grpc_port_ << ",\"metrics_port\":" << metrics_port_ << "}\n";
    if (!out) {
      return absl::FailedPreconditionError(absl::StrCat("--ports_file: cannot write '", tmp, "'"));
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, options_.ports_file, ec);  // atomic: readers see all or nothing
  if (ec) {
    return absl::FailedPreconditionError(absl::StrCat("--ports_file: cannot move into place '",
                                                      options_.ports_file, "': ", ec.message()));
  }
  return absl::OkStatus();
}

void Server::SetServing(Hosted& hosted, bool serving) {
  grpc::HealthCheckServiceInterface* health = grpc_server_->GetHealthCheckService();
  for (const GrpcServiceEntry& entry : hosted.grpc_services) {
    health->SetServingStatus(entry.full_name, serving);
  }
  hosted.serving.store(serving);
  hosted.ready_gauge->Set(serving ? 1 : 0);
}

void Server::FillServerInfo(admin::v1::GetServerInfoResponse* info) const {
  info->set_version(BuildVersion());
  info->set_git_revision(BuildGitRevision());
  info->set_cuda_built(kernels::CudaBuilt());
  for (const admin::v1::Device& device : devices_) *info->add_devices() = device;
  for (const auto& hosted : hosted_) {
    admin::v1::HostedService* service = info->add_services();
    service->set_name(hosted->name);
    for (const GrpcServiceEntry& entry : hosted->grpc_services) {
      service->add_grpc_services(entry.full_name);
    }
    service->set_serving(hosted->serving.load());
  }
  info->set_start_time_ms(start_time_ms_);
  info->set_data_dir(options_.data_dir);
  info->set_model_repo(options_.ResolvedModelRepo());
}

void Server::Shutdown() {
  absl::MutexLock lock(&shutdown_mu_);
  if (shut_down_) return;
  shut_down_ = true;
  const absl::Time begin = absl::Now();
  if (grpc_server_ != nullptr) {
    // Readiness first, so load balancers and Kubernetes stop sending calls here.
    grpc_server_->GetHealthCheckService()->Shutdown();
    for (auto& hosted : hosted_) {
      hosted->serving.store(false);
      hosted->ready_gauge->Set(0);
    }
    log::Info("draining", {{"readiness_drain_delay_seconds",
                            absl::ToDoubleSeconds(options_.readiness_drain_delay)},
                           {"drain_timeout_seconds", absl::ToDoubleSeconds(options_.drain_timeout)},
                           {"was_ready", ready_}});
    // Nobody routes to a server that never became ready: no need to wait for them to leave.
    if (ready_) absl::SleepFor(options_.readiness_drain_delay);
    grpc_server_->Shutdown(absl::ToChronoTime(absl::Now() + options_.drain_timeout));
    grpc_server_->Wait();
    log::Debug("grpc server stopped", {{"seconds", absl::ToDoubleSeconds(absl::Now() - begin)}});
  }
  if (executor_ != nullptr) executor_->Stop();  // idle by now: every call has finished
  for (auto it = hosted_.rbegin(); it != hosted_.rend(); ++it) {
    if ((*it)->started.load()) (*it)->module->Stop();
  }
  log::Debug("modules stopped", {{"seconds", absl::ToDoubleSeconds(absl::Now() - begin)}});
  exposer_.reset();
  log::Info("server stopped", {{"shutdown_seconds", absl::ToDoubleSeconds(absl::Now() - begin)}});
}

}  // namespace recsys
