#include "services/seqrec/seqrec_module.h"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "recsys/kernels/device.h"
#include "services/common/logging.h"
#include "services/common/model_set.h"
#include "services/common/status_macros.h"
#include "services/feature_store/store_client.h"
#include "services/seqrec/seqrec_service.h"

ABSL_FLAG(std::string, seqrec_models, "",
          "Comma list of model names in the model repository to serve; empty = every model "
          "whose newest version is a sasrec or bert4rec export.");
ABSL_FLAG(std::string, seqrec_feature_store, "auto",
          "Feature store for user-id queries: comma list of host:port shards, 'none', or "
          "'auto' (this server's own port when it hosts feature_store too, else none).");
ABSL_FLAG(int64_t, seqrec_max_batch, 64, "seqrec: largest batch of calls per model forward.");
ABSL_FLAG(absl::Duration, seqrec_max_delay, absl::Milliseconds(2),
          "seqrec: longest a call waits for others to share its batch.");
ABSL_FLAG(int64_t, seqrec_max_queue, 1024,
          "seqrec: calls queued for the model at once; more get RESOURCE_EXHAUSTED.");
ABSL_FLAG(int64_t, seqrec_max_batch_users, 256, "seqrec: queries per call.");
ABSL_FLAG(int64_t, seqrec_max_k, 1000, "seqrec: largest k of Recommend.");
ABSL_FLAG(int64_t, max_candidates, 1000, "seqrec: candidates per Score query.");
ABSL_FLAG(std::string, seqrec_device, "cpu",
          "Where the SASRec / BERT4Rec forward pass runs: cpu, cuda:<ordinal> or auto (the "
          "first GPU when one is visible, else the CPU). Scoring against the item table "
          "stays on the CPU.");
ABSL_FLAG(std::string, seqrec_index, "flat",
          "FAISS index Recommend's RETRIEVAL_INDEX builds over an item table in the feature "
          "store: flat (exact), ivf_flat or hnsw (approximate, faster on large catalogues).");

namespace recsys::seqrec {
namespace {

class SeqRecModule final : public ServiceModule {
 public:
  explicit SeqRecModule(const ServiceEnv& env) : env_(env), policy_(env.call_policy) {
    policy_.started = &started_;
    policy_.service_name = "seqrec";
    service_ = std::make_unique<Forwarder>(this);
  }

  std::string name() const override { return "seqrec"; }
  std::vector<GrpcServiceEntry> grpc_services() override {
    return {{service_.get(), v1::SeqRecService::service_full_name()}};
  }

  absl::Status Start() override {
    store::IndexSpec index;
    const std::string index_type = absl::GetFlag(FLAGS_seqrec_index);
    if (index_type == "flat") {
      index.type = store::IndexType::kFlat;
    } else if (index_type == "ivf_flat") {
      index.type = store::IndexType::kIvfFlat;
    } else if (index_type == "hnsw") {
      index.type = store::IndexType::kHnsw;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "--seqrec_index: '", index_type, "' is not flat, ivf_flat or hnsw"));
    }
    absl::StatusOr<kernels::Device> device = kernels::ParseDevice(absl::GetFlag(FLAGS_seqrec_device));
    if (!device.ok()) {
      return absl::Status(device.status().code(),
                          absl::StrCat("--seqrec_device: ", device.status().message()));
    }
    RECSYS_RETURN_IF_ERROR(OpenStore());
    const std::string repo = env_.options->ResolvedModelRepo();
    ModelVersions::Options o;
    o.load = [device = *device](const std::string& dir) { return SeqRecModel::Load(dir, device); };
    o.warm_up = [](const SeqRecModel& m) { return m.UserVectors({{1}}).status(); };
    o.poll_interval = env_.options->model_poll_interval;
    o.metrics = env_.metrics;
    RECSYS_ASSIGN_OR_RETURN(
        ModelSet<SeqRecModel> models,
        (StartModelSet<SeqRecModel>(repo, {"sasrec", "bert4rec"},
                                    absl::GetFlag(FLAGS_seqrec_models), std::move(o))));
    if (models.empty()) {
      log::Warn("seqrec serves no model: the model repository has no sasrec/bert4rec export",
                {{"model_repo", repo}});
    }
    BatcherOptions batcher;
    batcher.name = "seqrec";
    batcher.max_batch = absl::GetFlag(FLAGS_seqrec_max_batch);
    batcher.max_delay = absl::GetFlag(FLAGS_seqrec_max_delay);
    batcher.max_queue = absl::GetFlag(FLAGS_seqrec_max_queue);
    RECSYS_RETURN_IF_ERROR(ValidateBatcherOptions(batcher));
    SeqRecLimits limits;
    limits.max_batch_users = absl::GetFlag(FLAGS_seqrec_max_batch_users);
    limits.max_k = absl::GetFlag(FLAGS_seqrec_max_k);
    limits.max_candidates = absl::GetFlag(FLAGS_max_candidates);
    std::vector<std::string> names;
    for (const auto& [name, unused] : models) names.push_back(name);
    impl_ = std::make_unique<SeqRecService>(policy_, limits, batcher, env_.metrics, store_.get(),
                                            std::move(models), index);
    started_ = true;
    log::Info("seqrec serving", {{"models", absl::StrJoin(names, ",")}});
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
  class Forwarder final : public v1::SeqRecService::CallbackService {
   public:
    explicit Forwarder(SeqRecModule* module) : module_(module) {}
    grpc::ServerUnaryReactor* Recommend(grpc::CallbackServerContext* call,
                                        const v1::RecommendRequest* request,
                                        v1::RecommendResponse* response) override {
      if (!module_->started_) return RejectStarting(call, module_->policy_);
      return module_->impl_->Recommend(call, request, response);
    }
    grpc::ServerUnaryReactor* Score(grpc::CallbackServerContext* call,
                                    const v1::ScoreRequest* request,
                                    v1::ScoreResponse* response) override {
      if (!module_->started_) return RejectStarting(call, module_->policy_);
      return module_->impl_->Score(call, request, response);
    }

   private:
    SeqRecModule* module_;
  };

  absl::Status OpenStore() {
    RECSYS_ASSIGN_OR_RETURN(
        store_, feature_store::OpenStoreClient(absl::GetFlag(FLAGS_seqrec_feature_store), env_));
    return absl::OkStatus();
  }

  const ServiceEnv env_;
  CallPolicy policy_;
  std::atomic<bool> started_{false};
  std::unique_ptr<store::FeatureStore> store_;
  std::unique_ptr<Forwarder> service_;
  std::unique_ptr<SeqRecService> impl_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<ServiceModule>> MakeSeqRecModule(const ServiceEnv& env) {
  return std::unique_ptr<ServiceModule>(new SeqRecModule(env));
}

}  // namespace recsys::seqrec
