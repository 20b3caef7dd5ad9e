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

#include <memory>
#include <string>
#include <vector>

#include "recsys/seqrec/v1/seqrec.grpc.pb.h"
#include "recsys/store/feature_store.h"
#include "services/common/batcher.h"
#include "services/common/model_host.h"
#include "services/common/model_service.h"
#include "services/common/rpc_context.h"
#include "services/seqrec/item_index.h"
#include "services/seqrec/recommend_batch.h"
#include "services/seqrec/seqrec_model.h"

namespace recsys::seqrec {

namespace v1 = ::recsys::seqrec::v1;

// seqrec's own limits; queries per call are the shell's (--seqrec_max_batch_users).
struct SeqRecLimits {
  int64_t max_k = 1000;           // Recommend k (--seqrec_max_k)
  int64_t max_candidates = 1000;  // Score candidates per query (--seqrec_max_candidates)
};

class SeqRecService final : public v1::SeqRecService::CallbackService {
 public:
  using Model = SeqRecModel;

  // Calls are served once host() is opened with the models and the feature store (which may
  // be null: then user-id queries, category filters and RETRIEVAL_INDEX get
  // FAILED_PRECONDITION); index_spec is the FAISS index RETRIEVAL_INDEX builds over each
  // item table.
  SeqRecService(const ModelServiceContext& context, SeqRecLimits limits,
                store::IndexSpec index_spec = {});
  ~SeqRecService() override;

  grpc::ServerUnaryReactor* Recommend(grpc::CallbackServerContext* call,
                                      const v1::RecommendRequest* request,
                                      v1::RecommendResponse* response) override;
  grpc::ServerUnaryReactor* Score(grpc::CallbackServerContext* call,
                                  const v1::ScoreRequest* request,
                                  v1::ScoreResponse* response) override;

  ModelHost<SeqRecModel>& host() { return host_; }
  // Stops the batchers (queued calls get UNAVAILABLE).
  void Stop();

  // One request to the batcher: the histories of one call on one model version.
  struct VectorsRequest {
    std::shared_ptr<const SeqRecModel> model;
    std::vector<std::vector<int64_t>> histories;  // internal rows
  };

  // What a call resolved before computing.
  struct Prepared {
    ModelHost<SeqRecModel>::Served served;
    VectorsRequest request;
    std::vector<int32_t> lengths;
    std::vector<bool> truncated;
  };

 private:
  // The users' histories on the version `served` (resolved from spec first).
  absl::StatusOr<Prepared> Prepare(const common::v1::ModelSpec& spec,
                                   ModelHost<SeqRecModel>::Served served,
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

  const ModelServiceContext context_;
  const SeqRecLimits limits_;
  ModelHost<SeqRecModel> host_;
  ItemIndex index_;
  std::unique_ptr<DynamicBatcher<VectorsRequest, std::vector<float>>> batcher_;
  // Recommend's exact path: forward and catalogue top-K of a batch together.
  std::unique_ptr<DynamicBatcher<TopKRequest, TopKResult>> topk_batcher_;
};

}  // namespace recsys::seqrec
