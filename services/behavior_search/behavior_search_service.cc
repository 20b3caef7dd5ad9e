#include "services/behavior_search/behavior_search_service.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/common/model_set.h"
#include "services/common/status_macros.h"

namespace recsys::behavior_search {
namespace {

using Batcher = DynamicBatcher<ScoreBatchItem, std::vector<models::DareScores>>;

std::vector<absl::StatusOr<std::vector<models::DareScores>>> ComputeScores(
    absl::Span<const ScoreBatchItem* const> batch) {
  std::vector<absl::StatusOr<std::vector<models::DareScores>>> out;
  for (const ScoreBatchItem* item : batch) {
    std::vector<models::DareScores> scores;
    absl::Status status;
    for (const ScoreWork& q : item->queries) {
      absl::StatusOr<models::DareScores> s =
          item->model->dare().Score(q.history_rows, q.history_categories, q.candidate_rows,
                                    q.candidate_categories, q.top_k);
      if (!s.ok()) {
        status = s.status();
        break;
      }
      scores.push_back(*std::move(s));
    }
    if (status.ok()) {
      out.emplace_back(std::move(scores));
    } else {
      out.emplace_back(status);
    }
  }
  return out;
}

absl::Status CheckCount(const std::string& field, int64_t n, int64_t max, const char* flag) {
  if (n < 1 || n > max) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", n, " entries; must be 1..", max, " (", flag, ")"));
  }
  return absl::OkStatus();
}

}  // namespace

BehaviorSearchService::BehaviorSearchService(
    CallPolicy policy, BehaviorSearchLimits limits, BatcherOptions batcher,
    prometheus::Registry* metrics, store::FeatureStore* store,
    std::map<std::string, std::unique_ptr<BehaviorModels>> models)
    : policy_(policy), limits_(limits), store_(store), models_(std::move(models)) {
  batcher_ = std::make_unique<Batcher>(std::move(batcher), &ComputeScores, metrics);
}

BehaviorSearchService::~BehaviorSearchService() { Stop(); }

void BehaviorSearchService::Stop() {
  if (batcher_) batcher_->Stop();
  for (auto& [name, manager] : models_) manager->Stop();
}

std::vector<admin::v1::ModelStatus> BehaviorSearchService::ReloadModels(const std::string& model) {
  return ReloadModelSet(models_, model);
}

absl::StatusOr<BehaviorSearchService::Prepared> BehaviorSearchService::Prepare(
    const v1::ScoreRequest& request) {
  RECSYS_RETURN_IF_ERROR(CheckCount("queries", request.queries_size(), limits_.max_batch_users,
                                    "--behavior_search_max_batch_users"));
  const common::v1::ModelSpec& spec = request.model();
  Prepared p;
  RECSYS_ASSIGN_OR_RETURN(p.served, ResolveModel(models_, spec));
  const BehaviorModel& model = *p.served.model;
  const int64_t categories = model.config().num_categories;
  const int64_t max_history = std::min(limits_.max_history, model.config().max_len);
  const std::string served = absl::StrCat(spec.name(), " version ", p.served.version);
  p.work.model = p.served.model;
  p.work.queries.resize(request.queries_size());
  p.used.resize(request.queries_size());
  p.truncated.resize(request.queries_size());
  for (int q = 0; q < request.queries_size(); ++q) {
    const v1::ScoreQuery& query = request.queries(q);
    const std::string at = absl::StrCat("queries[", q, "]");
    ScoreWork& work = p.work.queries[q];
    RECSYS_RETURN_IF_ERROR(CheckCount(at + ".candidates", query.candidates_size(),
                                      limits_.max_candidates, "--behavior_search_max_candidates"));
    if (query.top_k() < 0 || query.top_k() > limits_.max_top_k) {
      return absl::InvalidArgumentError(absl::StrCat(at, ".top_k: ", query.top_k(),
                                                     " must be 0..", limits_.max_top_k,
                                                     " (--behavior_search_max_top_k)"));
    }
    work.top_k = query.top_k();
    for (int c = 0; c < query.candidates_size(); ++c) {
      const v1::Candidate& cand = query.candidates(c);
      const std::optional<int64_t> row = model.Row(cand.item_id());
      if (!row) {
        return absl::InvalidArgumentError(absl::StrCat(at, ".candidates[", c, "].item_id: item ",
                                                       cand.item_id(), " is not in the catalogue of ",
                                                       served));
      }
      if (cand.category_id() < 0 || cand.category_id() > categories) {
        return absl::InvalidArgumentError(absl::StrCat(at, ".candidates[", c, "].category_id: ",
                                                       cand.category_id(), " is outside 0..",
                                                       categories, " (", served, ")"));
      }
      work.candidate_rows.push_back(*row);
      work.candidate_categories.push_back(cand.category_id());
    }
    const common::v1::UserRef& user = query.user();
    if (user.has_history()) {
      const auto& behaviors = user.history().behaviors();
      if (behaviors.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat(at, ".user.history: empty (send user_id for a user without events)"));
      }
      const int64_t first = std::max<int64_t>(0, behaviors.size() - max_history);
      for (int64_t j = first; j < behaviors.size(); ++j) {
        const common::v1::Behavior& b = behaviors[j];
        const std::optional<int64_t> row = model.Row(b.item_id());
        if (!row) {
          return absl::InvalidArgumentError(absl::StrCat(at, ".user.history.behaviors[", j,
                                                         "].item_id: item ", b.item_id(),
                                                         " is not in the catalogue of ", served));
        }
        if (b.category_id() < 0 || b.category_id() > categories) {
          return absl::InvalidArgumentError(absl::StrCat(at, ".user.history.behaviors[", j,
                                                         "].category_id: ", b.category_id(),
                                                         " is outside 0..", categories));
        }
        work.history_rows.push_back(*row);
        work.history_categories.push_back(b.category_id());
        p.used[q].push_back(b);
      }
      p.truncated[q] = first > 0;
    } else if (user.user_id().empty()) {
      return absl::InvalidArgumentError(absl::StrCat(at, ".user: set user_id or history"));
    }
  }
  RECSYS_RETURN_IF_ERROR(ReadStoredHistories(request, p));
  return p;
}

absl::Status BehaviorSearchService::ReadStoredHistories(const v1::ScoreRequest& request,
                                                       Prepared& p) {
  std::vector<std::string> user_ids;
  std::vector<int> by_id;
  for (int q = 0; q < request.queries_size(); ++q) {
    if (!request.queries(q).user().has_history()) {
      user_ids.push_back(request.queries(q).user().user_id());
      by_id.push_back(q);
    }
  }
  if (user_ids.empty()) return absl::OkStatus();
  if (store_ == nullptr) {
    return absl::FailedPreconditionError(
        "user_id queries need a feature store; start the server with "
        "--behavior_search_feature_store or host feature_store in it");
  }
  const BehaviorModel& model = *p.served.model;
  const int64_t max_history = std::min(limits_.max_history, model.config().max_len);
  RECSYS_ASSIGN_OR_RETURN(std::vector<store::UserHistory> histories,
                          store_->GetHistories(user_ids, store::HistoryQuery{max_history, {}}));
  for (size_t i = 0; i < by_id.size(); ++i) {
    ScoreWork& work = p.work.queries[by_id[i]];
    for (const store::Behavior& b : histories[i].behaviors) {
      const std::optional<int64_t> row = model.Row(b.item_id);
      if (!row) continue;  // an item newer than the model
      const bool known = b.category_id >= 0 && b.category_id <= model.config().num_categories;
      work.history_rows.push_back(*row);
      work.history_categories.push_back(known ? b.category_id : 0);
      common::v1::Behavior& used = p.used[by_id[i]].emplace_back();
      used.set_item_id(b.item_id);
      used.set_category_id(b.category_id);
      used.set_timestamp_ms(b.timestamp_ms);
      used.set_type(static_cast<common::v1::EventType>(b.type));
    }
    p.truncated[by_id[i]] = histories[i].total_events > max_history;
  }
  return absl::OkStatus();
}

absl::Status BehaviorSearchService::DoScore(const RpcContext& ctx, const v1::ScoreRequest& request,
                                            v1::ScoreResponse* response) {
  RECSYS_ASSIGN_OR_RETURN(Prepared p, Prepare(request));
  RECSYS_RETURN_IF_ERROR(ctx.Check("model forward"));
  RECSYS_ASSIGN_OR_RETURN(std::vector<models::DareScores> scores,
                          batcher_->Submit(std::move(p.work), ctx.deadline));
  response->mutable_model()->set_name(request.model().name());
  response->mutable_model()->set_version(p.served.version);
  for (int q = 0; q < request.queries_size(); ++q) {
    const v1::ScoreQuery& query = request.queries(q);
    const models::DareScores& s = scores[q];
    v1::QueryResult* result = response->add_results();
    result->set_history_length(static_cast<int32_t>(p.used[q].size()));
    result->set_history_truncated(p.truncated[q]);
    for (int c = 0; c < query.candidates_size(); ++c) {
      v1::CandidateScore* out = result->add_scores();
      out->set_item_id(query.candidates(c).item_id());
      out->set_ctr(s.probabilities[c]);
      if (!query.return_behaviors()) continue;
      for (int64_t i = 0; i < s.top_k; ++i) {  // best first: the highest weight first
        const int64_t position = s.selected[c * s.top_k + i];
        if (position < 0) break;
        v1::RetrievedBehavior* b = out->add_behaviors();
        b->set_position(static_cast<int32_t>(position));
        *b->mutable_behavior() = p.used[q][position];
        b->set_weight(s.weights[c * s.top_k + i]);
      }
    }
  }
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* BehaviorSearchService::Score(grpc::CallbackServerContext* call,
                                                       const v1::ScoreRequest* request,
                                                       v1::ScoreResponse* response) {
  return ServeUnary(call, policy_, request, response,
                    [this](const RpcContext& ctx, const v1::ScoreRequest& req,
                           v1::ScoreResponse* resp) { return DoScore(ctx, req, resp); });
}

}  // namespace recsys::behavior_search
