// recsys.seqrec.v1.SeqRecService: next-item scores and catalogue top-K from SASRec / BERT4Rec.
//
// A call: validate -> resolve the model version (ModelManager) -> histories, given or read
// from the feature store -> user vectors through the dynamic batcher (calls share batches) ->
// candidate dot products (Score) or catalogue top-K through the kernels with the user's items
// and the filter's ids excluded (Recommend).
//
// Histories: catalogue item ids, oldest first. Only the most recent max_history items are read
// (SASRec: max_len, BERT4Rec: max_len - 1); the response says so (history_truncated). In a
// given history an item the model does not know is INVALID_ARGUMENT; in a history read from
// the feature store it is skipped (the store may know newer items than the model). A given
// history must not be empty; a user id with no stored events is a cold start and gets the
// model's no-context prediction.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "recsys/admin/v1/admin.pb.h"
#include "recsys/seqrec/v1/seqrec.grpc.pb.h"
#include "recsys/store/feature_store.h"
#include "services/common/batcher.h"
#include "services/common/model_manager.h"
#include "services/common/rpc_context.h"
#include "services/common/unary_call.h"
#include "services/seqrec/item_index.h"
#include "services/seqrec/recommend_batch.h"
#include "services/seqrec/seqrec_model.h"

namespace recsys::seqrec {

namespace v1 = ::recsys::seqrec::v1;

struct SeqRecLimits {
  int64_t max_batch_users = 256;  // queries per call (--seqrec_max_batch_users)
  int64_t max_k = 1000;           // Recommend k (--seqrec_max_k)
  int64_t max_candidates = 1000;  // Score candidates per query (--max_candidates)
};

using ModelVersions = ModelManager<SeqRecModel>;

class SeqRecService final : public v1::SeqRecService::CallbackService {
 public:
  // store may be null (then user-id queries, category filters and RETRIEVAL_INDEX get
  // FAILED_PRECONDITION) and must outlive the service; models are looked up by name;
  // index_spec is the FAISS index RETRIEVAL_INDEX builds over each item table.
  SeqRecService(CallPolicy policy, SeqRecLimits limits, BatcherOptions batcher,
                prometheus::Registry* metrics, store::FeatureStore* store,
                std::map<std::string, std::unique_ptr<ModelVersions>> models,
                store::IndexSpec index_spec = {});
  ~SeqRecService() override;

  grpc::ServerUnaryReactor* Recommend(grpc::CallbackServerContext* call,
                                      const v1::RecommendRequest* request,
                                      v1::RecommendResponse* response) override;
  grpc::ServerUnaryReactor* Score(grpc::CallbackServerContext* call,
                                  const v1::ScoreRequest* request,
                                  v1::ScoreResponse* response) override;

  // Stops the batcher (queued calls get UNAVAILABLE) and the version watchers.
  void Stop();

  // Reloads the models named `model` (all when empty) now; see ReloadModels in admin.proto.
  std::vector<admin::v1::ModelStatus> ReloadModels(const std::string& model);

  // One request to the batcher: the histories of one call on one model version.
  struct VectorsRequest {
    std::shared_ptr<const SeqRecModel> model;
    std::vector<std::vector<int64_t>> histories;  // internal rows
  };

  // What a call resolved before computing.
  struct Prepared {
    ModelVersions::Served served;
    VectorsRequest request;
    std::vector<int32_t> lengths;
    std::vector<bool> truncated;
  };

 private:
  absl::StatusOr<Prepared> Prepare(const common::v1::ModelSpec& spec,
                                   const std::vector<const common::v1::UserRef*>& users,
                                   const char* field);
  absl::StatusOr<std::vector<float>> Vectors(Prepared& prepared, const RpcContext& ctx);
  absl::Status DoRecommend(const RpcContext& ctx, const v1::RecommendRequest& request,
                           v1::RecommendResponse* response);
  // Per query, (catalogue item id, score) best first.
  using Found = std::vector<std::vector<std::pair<int64_t, float>>>;
  // Through the top-K batcher; hands p's histories to it.
  absl::StatusOr<Found> ExactTopK(const RpcContext& ctx, const v1::RecommendRequest& request,
                                  Prepared& p, int64_t fetch);
  // histories: each query's model input (internal rows), for the exclusions.
  absl::StatusOr<Found> SearchIndex(const v1::RecommendRequest& request, const Prepared& p,
                                    const std::vector<std::vector<int64_t>>& histories,
                                    const std::vector<float>& users);
  absl::Status DoScore(const RpcContext& ctx, const v1::ScoreRequest& request,
                       v1::ScoreResponse* response);

  const CallPolicy policy_;
  const SeqRecLimits limits_;
  store::FeatureStore* const store_;
  const std::unique_ptr<ItemIndex> index_;
  std::map<std::string, std::unique_ptr<ModelVersions>> models_;
  std::unique_ptr<DynamicBatcher<VectorsRequest, std::vector<float>>> batcher_;
  // Recommend's exact path: forward and catalogue top-K of a batch together.
  std::unique_ptr<DynamicBatcher<TopKRequest, TopKResult>> topk_batcher_;
};

}  // namespace recsys::seqrec
