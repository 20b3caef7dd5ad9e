#include "services/behavior_search/behavior_search_module.h"

#include <atomic>
#include <map>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_join.h"
#include "services/behavior_search/behavior_search_service.h"
#include "services/common/logging.h"
#include "services/common/model_set.h"
#include "services/common/status_macros.h"
#include "services/feature_store/store_client.h"

ABSL_FLAG(std::string, behavior_search_models, "",
          "Comma list of model names in the model repository to serve; empty = every model "
          "whose newest version is a dare (DARE or TWIN) export.");
ABSL_FLAG(std::string, behavior_search_feature_store, "auto",
          "Feature store for user-id queries: comma list of host:port shards, 'none', or "
          "'auto' (this server's own port when it hosts feature_store too, else none).");
ABSL_FLAG(int64_t, behavior_search_max_batch, 16,
          "behavior_search: largest batch of calls per model run.");
ABSL_FLAG(absl::Duration, behavior_search_max_delay, absl::Milliseconds(1),
          "behavior_search: longest a call waits for others to share its batch.");
ABSL_FLAG(int64_t, behavior_search_max_queue, 256,
          "behavior_search: calls queued for the model at once; more get RESOURCE_EXHAUSTED.");
ABSL_FLAG(int64_t, behavior_search_max_batch_users, 256, "behavior_search: queries per call.");
ABSL_FLAG(int64_t, behavior_search_max_candidates, 1000,
          "behavior_search: candidates per query.");
ABSL_FLAG(int64_t, behavior_search_max_history, 100000,
          "behavior_search: most recent behaviours read per user (and at most the model's "
          "max_len).");
ABSL_FLAG(int64_t, behavior_search_max_top_k, 256,
          "behavior_search: largest ScoreQuery.top_k (behaviours retrieved per candidate).");

namespace recsys::behavior_search {
namespace {

class BehaviorSearchModule final : public ServiceModule {
 public:
  explicit BehaviorSearchModule(const ServiceEnv& env) : env_(env), policy_(env.call_policy) {
    policy_.started = &started_;
    policy_.service_name = "behavior_search";
    service_ = std::make_unique<Forwarder>(this);
  }

  std::string name() const override { return "behavior_search"; }
  std::vector<GrpcServiceEntry> grpc_services() override {
    return {{service_.get(), v1::BehaviorSearchService::service_full_name()}};
  }

  absl::Status Start() override {
    BehaviorSearchLimits limits;
    limits.max_batch_users = absl::GetFlag(FLAGS_behavior_search_max_batch_users);
    limits.max_candidates = absl::GetFlag(FLAGS_behavior_search_max_candidates);
    limits.max_history = absl::GetFlag(FLAGS_behavior_search_max_history);
    limits.max_top_k = absl::GetFlag(FLAGS_behavior_search_max_top_k);
    for (const auto& [flag, value] :
         {std::pair<const char*, int64_t>{"--behavior_search_max_batch_users", limits.max_batch_users},
          {"--behavior_search_max_candidates", limits.max_candidates},
          {"--behavior_search_max_history", limits.max_history},
          {"--behavior_search_max_top_k", limits.max_top_k}}) {
      if (value < 1) return absl::InvalidArgumentError(absl::StrCat(flag, " must be >= 1"));
    }
    BatcherOptions batcher;
    batcher.name = "behavior_search";
    batcher.max_batch = absl::GetFlag(FLAGS_behavior_search_max_batch);
    batcher.max_delay = absl::GetFlag(FLAGS_behavior_search_max_delay);
    batcher.max_queue = absl::GetFlag(FLAGS_behavior_search_max_queue);
    RECSYS_RETURN_IF_ERROR(ValidateBatcherOptions(batcher));
    RECSYS_ASSIGN_OR_RETURN(store_, feature_store::OpenStoreClient(
                                        absl::GetFlag(FLAGS_behavior_search_feature_store), env_));
    const std::string repo = env_.options->ResolvedModelRepo();
    BehaviorModels::Options o;
    o.load = [](const std::string& dir) { return BehaviorModel::Load(dir); };
    o.warm_up = [](const BehaviorModel& m) { return m.dare().Score({1}, {0}, {1}, {0}).status(); };
    o.poll_interval = env_.options->model_poll_interval;
    o.metrics = env_.metrics;
    RECSYS_ASSIGN_OR_RETURN(
        ModelSet<BehaviorModel> models,
        (StartModelSet<BehaviorModel>(repo, {"dare"}, absl::GetFlag(FLAGS_behavior_search_models),
                                      std::move(o))));
    std::vector<std::string> names;
    for (const auto& [name, unused] : models) names.push_back(name);
    if (models.empty()) {
      log::Warn("behavior_search serves no model: the model repository has no dare export",
                {{"model_repo", repo}});
    }
    impl_ = std::make_unique<BehaviorSearchService>(policy_, limits, batcher, env_.metrics,
                                                    store_.get(), std::move(models));
    started_ = true;
    log::Info("behavior_search serving", {{"models", absl::StrJoin(names, ",")}});
    return absl::OkStatus();
  }

  void Stop() override {
    if (impl_) impl_->Stop();
  }

  std::vector<admin::v1::ModelStatus> ReloadModels(const std::string& model) override {
    return started_ ? impl_->ReloadModels(model) : std::vector<admin::v1::ModelStatus>{};
  }

 private:
  // The gRPC service object must exist before Start(); calls reach the implementation once
  // it is built (until then the started flag answers UNAVAILABLE).
  class Forwarder final : public v1::BehaviorSearchService::CallbackService {
   public:
    explicit Forwarder(BehaviorSearchModule* module) : module_(module) {}
    grpc::ServerUnaryReactor* Score(grpc::CallbackServerContext* call,
                                    const v1::ScoreRequest* request,
                                    v1::ScoreResponse* response) override {
      if (!module_->started_) return RejectStarting(call, module_->policy_);
      return module_->impl_->Score(call, request, response);
    }

   private:
    BehaviorSearchModule* module_;
  };

  const ServiceEnv env_;
  CallPolicy policy_;
  std::atomic<bool> started_{false};
  std::unique_ptr<store::FeatureStore> store_;
  std::unique_ptr<Forwarder> service_;
  std::unique_ptr<BehaviorSearchService> impl_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<ServiceModule>> MakeBehaviorSearchModule(const ServiceEnv& env) {
  return std::unique_ptr<ServiceModule>(new BehaviorSearchModule(env));
}

}  // namespace recsys::behavior_search
