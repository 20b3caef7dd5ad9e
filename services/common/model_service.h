// The one shell every model service (seqrec, behavior_search, ...) runs in. A service
// supplies its model type, its options and its handlers; the shell owns the rest:
//
// - the flags every model service has, under the service's prefix (RECSYS_MODEL_SERVICE_FLAGS:
//   --<svc>_models, _feature_store, _max_batch, _max_delay, _max_queue, _max_batch_users);
// - the feature-store client (--<svc>_feature_store), the model versions of the repository
//   (one ModelManager per model of the service's architectures), start / stop / reload;
// - the "still starting" answer: the handlers exist before the server starts (gRPC needs
//   them), the runtime answers UNAVAILABLE until Start has filled their ModelHost.
//
// A service's handler class (a gRPC CallbackService) provides:
//   using Model = ...;                              the served model type
//   Service(const ModelServiceContext&, ...);       built once, before the server starts
//   ModelHost<Model>& host();                       what its handlers resolve requests against
//   void Stop();                                    stops its batchers (queued calls fail)
// and its module file is flags plus one MakeModelServiceModule call; see
// services/seqrec/seqrec_module.cc and docs/architecture.md.
#pragma once

#include <prometheus/registry.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "base/status_macros.h"
#include "recsys/store/feature_store.h"
#include "services/common/batcher.h"
#include "services/common/logging.h"
#include "services/common/model_host.h"
#include "services/common/service_module.h"
#include "services/common/unary_call.h"
#include "services/feature_store/store_client.h"

namespace recsys {

// The values of the flags every model service has (see RECSYS_MODEL_SERVICE_FLAGS).
struct ModelServiceFlags {
  std::string models;             // --<svc>_models: comma list; empty = every model it can serve
  std::string feature_store;      // --<svc>_feature_store: "auto", "none" or host:port shards
  BatcherOptions batcher;         // --<svc>_max_batch, --<svc>_max_delay, --<svc>_max_queue
  int64_t max_batch_users = 256;  // --<svc>_max_batch_users: queries per call
};

// What a model service's handlers are built from, before the server starts.
struct ModelServiceContext {
  std::string name;  // the service's name and flag prefix, e.g. "seqrec"
  CallPolicy policy;
  BatcherOptions batcher;  // validated; name = the service's
  int64_t max_batch_users = 256;
  prometheus::Registry* metrics = nullptr;  // may be null

  // "--<name>_<flag>", the way errors name this service's flags.
  std::string Flag(const char* flag) const { return absl::StrCat("--", name, "_", flag); }
};

// What a model service tells the shell besides its handlers.
template <typename Model>
struct ModelServiceSpec {
  std::string name;                        // in --services, flags, logs and metrics
  std::string grpc_name;                   // e.g. "recsys.seqrec.v1.SeqRecService"
  std::vector<std::string> architectures;  // config.json architectures it serves
  ModelServiceFlags flags;
  // Builds a model from a version directory; runs a dummy batch on each fresh version.
  std::function<absl::StatusOr<std::unique_ptr<Model>>(const std::string& dir)> load;
  std::function<absl::Status(const Model&)> warm_up;
};

template <typename Service>
class ModelServiceModule final : public ServiceModule {
 public:
  using Model = typename Service::Model;

  ModelServiceModule(const ServiceEnv& env, ModelServiceSpec<Model> spec,
                     std::unique_ptr<Service> service)
      : env_(env), spec_(std::move(spec)), service_(std::move(service)) {}

  std::string name() const override { return spec_.name; }
  std::vector<GrpcServiceEntry> grpc_services() override {
    return {{service_.get(), spec_.grpc_name}};
  }

  absl::Status Start() override {
    RECSYS_ASSIGN_OR_RETURN(store_,
                            feature_store::OpenStoreClient(spec_.flags.feature_store, env_));
    const std::string repo = env_.options->ResolvedModelRepo();
    typename ModelManager<Model>::Options o;
    o.load = spec_.load;
    o.warm_up = spec_.warm_up;
    o.poll_interval = env_.options->model_poll_interval;
    o.metrics = env_.metrics;
    RECSYS_ASSIGN_OR_RETURN(
        typename ModelHost<Model>::Models models,
        ModelHost<Model>::StartModels(repo, spec_.architectures, spec_.flags.models, std::move(o)));
    if (models.empty()) {
      log::Warn(absl::StrCat(spec_.name, " serves no model: the model repository has no ",
                             absl::StrJoin(spec_.architectures, "/"), " export"),
                {{"model_repo", repo}});
    }
    service_->host().Open(std::move(models), store_.get());
    log::Info(absl::StrCat(spec_.name, " serving"),
              {{"models", absl::StrJoin(service_->host().names(), ",")}});
    return absl::OkStatus();
  }

  void Stop() override {
    service_->Stop();
    service_->host().Stop();
  }

  std::vector<admin::v1::ModelStatus> ReloadModels(const std::string& model) override {
    return service_->host().Reload(model);
  }

 private:
  const ServiceEnv env_;
  const ModelServiceSpec<Model> spec_;
  std::unique_ptr<store::FeatureStore> store_;  // declared before service_: outlives it
  std::unique_ptr<Service> service_;
};

// The shell's flags checked (INVALID_ARGUMENT naming the flag), the context built and the
// handlers made by `make`, which gets the context.
absl::StatusOr<ModelServiceContext> MakeModelServiceContext(const ServiceEnv& env,
                                                            const std::string& name,
                                                            const ModelServiceFlags& flags);

template <typename Service>
absl::StatusOr<std::unique_ptr<ServiceModule>> MakeModelServiceModule(
    const ServiceEnv& env, ModelServiceSpec<typename Service::Model> spec,
    const std::function<std::unique_ptr<Service>(const ModelServiceContext&)>& make) {
  RECSYS_ASSIGN_OR_RETURN(ModelServiceContext context,
                          MakeModelServiceContext(env, spec.name, spec.flags));
  std::unique_ptr<Service> service = make(context);
  return std::unique_ptr<ServiceModule>(
      new ModelServiceModule<Service>(env, std::move(spec), std::move(service)));
}

}  // namespace recsys

// Defines the flags every model service has under the prefix `svc` (an identifier such as
// seqrec), with their defaults, and `svc`_ModelServiceFlags() reading them. `architectures`
// (a string literal) says in --help which exports the service serves. Use at file scope.
#define RECSYS_MODEL_SERVICE_FLAGS(svc, architectures, default_max_batch, default_max_delay,      \
                                   default_max_queue, default_max_batch_users)                    \
  ABSL_FLAG(std::string, svc##_models, "",                                                        \
            "Comma list of model names in the model repository to serve; empty = every "          \
            "model whose newest version is a " architectures " export.");                         \
  ABSL_FLAG(std::string, svc##_feature_store, "auto",                                             \
            "Feature store for user-id queries: comma list of host:port shards, 'none', or "      \
            "'auto' (this server's own port when it hosts feature_store too, else none).");       \
  ABSL_FLAG(int64_t, svc##_max_batch, default_max_batch,                                          \
            #svc ": largest batch of calls per model forward.");                                  \
  ABSL_FLAG(absl::Duration, svc##_max_delay, default_max_delay,                                   \
            #svc ": longest a forming batch waits for more calls while other batches compute "    \
            "(an idle model starts at once).");                                                   \
  ABSL_FLAG(int64_t, svc##_max_queue, default_max_queue,                                          \
            #svc ": calls queued for the model at once; more get RESOURCE_EXHAUSTED.");           \
  ABSL_FLAG(int64_t, svc##_max_batch_users, default_max_batch_users, #svc ": queries per call."); \
  static ::recsys::ModelServiceFlags svc##_ModelServiceFlags() {                                  \
    ::recsys::ModelServiceFlags flags;                                                            \
    flags.models = absl::GetFlag(FLAGS_##svc##_models);                                           \
    flags.feature_store = absl::GetFlag(FLAGS_##svc##_feature_store);                             \
    flags.batcher.max_batch = absl::GetFlag(FLAGS_##svc##_max_batch);                             \
    flags.batcher.max_delay = absl::GetFlag(FLAGS_##svc##_max_delay);                             \
    flags.batcher.max_queue = absl::GetFlag(FLAGS_##svc##_max_queue);                             \
    flags.max_batch_users = absl::GetFlag(FLAGS_##svc##_max_batch_users);                         \
    return flags;                                                                                 \
  }
