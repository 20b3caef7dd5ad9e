#include "services/behavior_search/behavior_search_service.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "services/common/validation.h"
#include "services/feature_store/convert.h"

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

}  // namespace

BehaviorSearchService::BehaviorSearchService(const ModelServiceContext& context,
                                             BehaviorSearchLimits limits)
    : context_(context), limits_(limits), host_(context.name) {
  batcher_ = std::make_unique<Batcher>(context.batcher, &ComputeScores, context.metrics);
}

BehaviorSearchService::~BehaviorSearchService() { Stop(); }

void BehaviorSearchService::Stop() {
  if (batcher_) batcher_->Stop();
}

absl::StatusOr<BehaviorSearchService::Prepared> BehaviorSearchService::Prepare(
    const v1::ScoreRequest& request) {
  const common::v1::ModelSpec& spec = request.model();
  Prepared p;
  RECSYS_ASSIGN_OR_RETURN(p.served, host_.Resolve(spec));  // which model first
  RECSYS_RETURN_IF_ERROR(CheckRequestCount("queries", request.queries_size(),
                                           context_.max_batch_users,
                                           context_.Flag("max_batch_users")));
  const BehaviorModel& model = *p.served.model;
  const int64_t categories = model.config().num_categories;
  const std::string served = absl::StrCat(spec.name(), " version ", p.served.version);
  p.work.model = p.served.model;
  p.work.queries.resize(request.queries_size());
  std::vector<const common::v1::UserRef*> users;
  for (int q = 0; q < request.queries_size(); ++q) {
    const v1::ScoreQuery& query = request.queries(q);
    const std::string at = absl::StrCat("queries[", q, "]");
    ScoreWork& work = p.work.queries[q];
    RECSYS_RETURN_IF_ERROR(CheckRequestCount(at + ".candidates", query.candidates_size(),
                                             limits_.max_candidates,
                                             context_.Flag("max_candidates")));
    if (query.top_k() < 0 || query.top_k() > limits_.max_top_k) {
      return absl::InvalidArgumentError(absl::StrCat(at, ".top_k: ", query.top_k(), " must be 0..",
                                                     limits_.max_top_k, " (",
                                                     context_.Flag("max_top_k"), ")"));
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
    users.push_back(&query.user());
  }
  const int64_t max_history = std::min(limits_.max_history, model.config().max_len);
  // A given behaviour's category must be one the model knows; a stored one is read as 0.
  auto check_category = [categories](const common::v1::Behavior& b) {
    if (b.category_id() >= 0 && b.category_id() <= categories) return absl::OkStatus();
    return absl::InvalidArgumentError(
        absl::StrCat("category_id: ", b.category_id(), " is outside 0..", categories));
  };
  RECSYS_ASSIGN_OR_RETURN(p.histories, host_.ReadHistories(users, spec, p.served, max_history,
                                                           "queries", check_category));
  TakeHistories(p);
  return p;
}

void BehaviorSearchService::TakeHistories(Prepared& p) {
  const int64_t categories = p.served.model->config().num_categories;
  for (size_t q = 0; q < p.histories.size(); ++q) {
    ResolvedHistory& history = p.histories[q];
    ScoreWork& work = p.work.queries[q];
    work.history_rows = std::move(history.rows);
    work.history_categories.reserve(history.behaviors.size());
    for (const store::Behavior& b : history.behaviors) {  // given ones are checked already
      const bool known = b.category_id >= 0 && b.category_id <= categories;
      work.history_categories.push_back(known ? b.category_id : 0);
    }
  }
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
    const ResolvedHistory& history = p.histories[q];
    result->set_history_length(static_cast<int32_t>(history.behaviors.size()));
    result->set_history_truncated(history.truncated);
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
        feature_store::ToProto(history.behaviors[position], b->mutable_behavior());
        b->set_weight(s.weights[c * s.top_k + i]);
      }
    }
  }
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* BehaviorSearchService::Score(grpc::CallbackServerContext* call,
                                                       const v1::ScoreRequest* request,
                                                       v1::ScoreResponse* response) {
  return ServeUnary(call, context_.policy, request, response, this,
                    &BehaviorSearchService::DoScore);
}

}  // namespace recsys::behavior_search
