// The seam between the server runtime and a hosted service (seqrec, behavior_search, ...).
// A service is a library that provides a ServiceFactory; services/server/service_registry.cc
// registers every factory of the build by name, and --services picks which ones a process
// hosts. The runtime owns the gRPC server, health, metrics and shutdown; a module only
// provides its gRPC service objects and loads what it needs in Start().
#pragma once

#include <grpcpp/impl/service_type.h>
#include <prometheus/collectable.h>
#include <prometheus/registry.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "recsys/admin/v1/admin.pb.h"
#include "services/common/server_options.h"
#include "services/common/unary_call.h"

namespace recsys {

// What the runtime hands to each module it creates.
struct ServiceEnv {
  const ServerOptions* options = nullptr;
  // The process-wide registry served on /metrics; modules add their own families.
  prometheus::Registry* metrics = nullptr;
  // Admission control and default deadline shared by every handler.
  CallPolicy call_policy;
  // The port the gRPC server listens on, known from Start() on (a module that calls another
  // service of the same process, such as seqrec reading the embedded feature store, dials it).
  std::function<int()> grpc_port;
  // Adds a collectable to /metrics, read at each scrape (for figures that live elsewhere,
  // such as RocksDB's); from Start() on. The module keeps it alive; once it expires it is
  // skipped.
  std::function<void(const std::weak_ptr<prometheus::Collectable>&)> add_collectable;
};

struct GrpcServiceEntry {
  grpc::Service* service = nullptr;  // owned by the module
  // Fully-qualified name, e.g. "recsys.seqrec.v1.SeqRecService"; its health status.
  std::string full_name;
};

class ServiceModule {
 public:
  virtual ~ServiceModule() = default;

  // Name used in --services, e.g. "seqrec".
  virtual std::string name() const = 0;

  // The gRPC services to register; called once, before the server starts.
  virtual std::vector<GrpcServiceEntry> grpc_services() = 0;

  // Loads models, opens stores, warms up. Called after the server listens; the module's
  // services report NOT_SERVING until it returns OK. An error stops the process.
  virtual absl::Status Start() { return absl::OkStatus(); }

  // Called after the server drained: no call is running any more.
  virtual void Stop() {}

  // The admin ReloadModels hook: reloads the module's models named `model` (all when empty)
  // and reports them. Modules without models return nothing.
  virtual std::vector<admin::v1::ModelStatus> ReloadModels(const std::string& model) {
    return {};
  }
};

using ServiceFactory =
    std::function<absl::StatusOr<std::unique_ptr<ServiceModule>>(const ServiceEnv&)>;

class ServiceRegistry {
 public:
  // ALREADY_EXISTS for a repeated name.
  absl::Status Register(std::string name, ServiceFactory factory);

  // Registered names, in registration order.
  std::vector<std::string> Names() const;

  // NOT_FOUND for an unknown name; otherwise what the factory returns.
  absl::StatusOr<std::unique_ptr<ServiceModule>> Create(const std::string& name,
                                                        const ServiceEnv& env) const;

 private:
  std::vector<std::pair<std::string, ServiceFactory>> factories_;
};

}  // namespace recsys
