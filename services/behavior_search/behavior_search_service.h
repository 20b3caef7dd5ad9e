// recsys.behavior_search.v1.BehaviorSearchService: click probabilities of candidate items from
// a user's long behaviour history with DARE / TWIN.
//
// A call: validate -> resolve the model version (ModelManager) -> histories, given or read
// from the feature store -> the model through the dynamic batcher (calls share batches) ->
// CTR per candidate and, on request, the retrieved behaviours with their weights.
//
// Histories are catalogue item ids with categories, oldest first; only the most recent
// min(--behavior_search_max_history, the model's max_len) are read and history_truncated says
// so. In a given history an item the model does not know, or a category outside its range,
// is INVALID_ARGUMENT; in a history read from the feature store such an item is skipped and
// such a category read as 0 (unknown). A given history must not be empty; a user id without
// stored events is scored with an empty history.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "recsys/behavior_search/v1/behavior_search.grpc.pb.h"
#include "recsys/store/feature_store.h"
#include "services/behavior_search/behavior_model.h"
#include "services/common/batcher.h"
#include "services/common/model_host.h"
#include "services/common/model_service.h"
#include "services/common/rpc_context.h"

namespace recsys::behavior_search {

namespace v1 = ::recsys::behavior_search::v1;

// behavior_search's own limits; queries per call are the shell's
// (--behavior_search_max_batch_users).
struct BehaviorSearchLimits {
  int64_t max_candidates = 1000;   // candidates per query (--behavior_search_max_candidates)
  int64_t max_history = 100000;    // behaviours read per user (--behavior_search_max_history)
  int64_t max_top_k = 256;         // ScoreQuery.top_k (--behavior_search_max_top_k)
};

// One query as the model reads it.
struct ScoreWork {
  std::vector<int64_t> history_rows, history_categories;
  std::vector<int64_t> candidate_rows, candidate_categories;
  int64_t top_k = 0;
};

// The queries of one call on one model version.
struct ScoreBatchItem {
  std::shared_ptr<const BehaviorModel> model;
  std::vector<ScoreWork> queries;
};

class BehaviorSearchService final : public v1::BehaviorSearchService::CallbackService {
 public:
  using Model = BehaviorModel;

  // Calls are served once host() is opened with the models and the feature store (which may
  // be null: then user-id queries get FAILED_PRECONDITION).
  BehaviorSearchService(const ModelServiceContext& context, BehaviorSearchLimits limits);
  ~BehaviorSearchService() override;

  grpc::ServerUnaryReactor* Score(grpc::CallbackServerContext* call,
                                  const v1::ScoreRequest* request,
                                  v1::ScoreResponse* response) override;

  ModelHost<BehaviorModel>& host() { return host_; }
  // Stops the batcher (queued calls get UNAVAILABLE).
  void Stop();

 private:
  // What a call resolved before computing: the work and, per query, the behaviours used.
  struct Prepared {
    ModelHost<BehaviorModel>::Served served;
    ScoreBatchItem work;
    std::vector<ResolvedHistory> histories;
  };
  absl::StatusOr<Prepared> Prepare(const v1::ScoreRequest& request);
  // Each query's history rows and categories into p.work (a stored category the model does
  // not know is read as 0, unknown).
  void TakeHistories(Prepared& p);
  absl::Status DoScore(const RpcContext& ctx, const v1::ScoreRequest& request,
                       v1::ScoreResponse* response);

  const ModelServiceContext context_;
  const BehaviorSearchLimits limits_;
  ModelHost<BehaviorModel> host_;
  std::unique_ptr<DynamicBatcher<ScoreBatchItem, std::vector<models::DareScores>>> batcher_;
};

}  // namespace recsys::behavior_search
