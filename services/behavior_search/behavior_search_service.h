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

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "recsys/admin/v1/admin.pb.h"
#include "recsys/behavior_search/v1/behavior_search.grpc.pb.h"
#include "recsys/store/feature_store.h"
#include "services/behavior_search/behavior_model.h"
#include "services/common/batcher.h"
#include "services/common/model_manager.h"
#include "services/common/rpc_context.h"
#include "services/common/unary_call.h"

namespace recsys::behavior_search {

namespace v1 = ::recsys::behavior_search::v1;
using BehaviorModels = ModelManager<BehaviorModel>;

struct BehaviorSearchLimits {
  int64_t max_batch_users = 256;   // queries per call (--behavior_search_max_batch_users)
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
  // store may be null (then user-id queries get FAILED_PRECONDITION) and must outlive the
  // service; models are looked up by name.
  BehaviorSearchService(CallPolicy policy, BehaviorSearchLimits limits, BatcherOptions batcher,
                        prometheus::Registry* metrics, store::FeatureStore* store,
                        std::map<std::string, std::unique_ptr<BehaviorModels>> models);
  ~BehaviorSearchService() override;

  grpc::ServerUnaryReactor* Score(grpc::CallbackServerContext* call,
                                  const v1::ScoreRequest* request,
                                  v1::ScoreResponse* response) override;

  // Stops the batcher (queued calls get UNAVAILABLE) and the version watchers.
  void Stop();
  std::vector<admin::v1::ModelStatus> ReloadModels(const std::string& model);

 private:
  // What a call resolved before computing: the work and, per query, the behaviours used.
  struct Prepared {
    BehaviorModels::Served served;
    ScoreBatchItem work;
    std::vector<std::vector<common::v1::Behavior>> used;
    std::vector<bool> truncated;
  };
  absl::StatusOr<Prepared> Prepare(const v1::ScoreRequest& request);
  absl::Status ReadStoredHistories(const v1::ScoreRequest& request, Prepared& p);
  absl::Status DoScore(const RpcContext& ctx, const v1::ScoreRequest& request,
                       v1::ScoreResponse* response);

  const CallPolicy policy_;
  const BehaviorSearchLimits limits_;
  store::FeatureStore* const store_;
  std::map<std::string, std::unique_ptr<BehaviorModels>> models_;
  std::unique_ptr<DynamicBatcher<ScoreBatchItem, std::vector<models::DareScores>>> batcher_;
};

}  // namespace recsys::behavior_search
