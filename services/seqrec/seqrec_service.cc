#include "services/seqrec/seqrec_service.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "models/common/layers.h"
#include "services/common/validation.h"

namespace recsys::seqrec {
namespace {

using Batcher = DynamicBatcher<SeqRecService::VectorsRequest, std::vector<float>>;

// Computes a batch of calls: consecutive calls on the same model version share one forward.
std::vector<absl::StatusOr<std::vector<float>>> ComputeVectors(
    absl::Span<const SeqRecService::VectorsRequest* const> batch) {
  std::vector<absl::StatusOr<std::vector<float>>> out;
  for (size_t first = 0; first < batch.size();) {
    size_t end = first + 1;
    while (end < batch.size() && batch[end]->model == batch[first]->model) ++end;
    std::vector<std::vector<int64_t>> histories;
    for (size_t i = first; i < end; ++i) {
      histories.insert(histories.end(), batch[i]->histories.begin(), batch[i]->histories.end());
    }
    absl::StatusOr<std::vector<float>> vectors = batch[first]->model->UserVectors(histories);
    const int64_t d = batch[first]->model->hidden();
    size_t offset = 0;
    for (size_t i = first; i < end; ++i) {
      const size_t n = batch[i]->histories.size() * d;
      if (vectors.ok()) {
        out.emplace_back(std::vector<float>(vectors->begin() + offset,
                                            vectors->begin() + offset + n));
      } else {
        out.emplace_back(vectors.status());
      }
      offset += n;
    }
    first = end;
  }
  return out;
}

// Rows no recommendation may return, per query, in CSR form: padding and special rows
// always, the user's items unless the query asks for them, and the filter's ids.
void Exclusions(const v1::RecommendRequest& request, const SeqRecModel& model,
                const std::vector<std::vector<int64_t>>& histories, std::vector<int64_t>* offsets,
                std::vector<int64_t>* excluded) {
  offsets->assign(1, 0);
  for (int q = 0; q < request.queries_size(); ++q) {
    const v1::RecommendQuery& query = request.queries(q);
    absl::flat_hash_set<int64_t> rows = {0};
    for (int64_t r = model.num_items() + 1; r < model.table_rows(); ++r) rows.insert(r);
    if (!query.include_history_items()) rows.insert(histories[q].begin(), histories[q].end());
    for (int64_t id : query.filter().exclude_item_ids()) {
      if (std::optional<int64_t> row = model.Row(id)) rows.insert(*row);
    }
    excluded->insert(excluded->end(), rows.begin(), rows.end());
    offsets->push_back(static_cast<int64_t>(excluded->size()));
  }
}

// Keeps the found items whose category (from the feature store) is in the query's filter.
absl::Status FilterCategories(store::FeatureStore& store, const v1::RecommendQuery& query,
                              std::vector<std::pair<int64_t, float>>* found) {
  if (query.filter().include_category_ids_size() == 0 || found->empty()) return absl::OkStatus();
  std::vector<int64_t> item_ids;
  for (const auto& [id, unused] : *found) item_ids.push_back(id);
  RECSYS_ASSIGN_OR_RETURN(store::ItemLookup lookup, store.GetItems(item_ids));
  const absl::flat_hash_set<int64_t> wanted(query.filter().include_category_ids().begin(),
                                            query.filter().include_category_ids().end());
  absl::flat_hash_set<int64_t> keep;
  for (const store::Item& item : lookup.found) {
    if (wanted.contains(item.category_id)) keep.insert(item.item_id);
  }
  found->erase(std::remove_if(found->begin(), found->end(),
                              [&](const auto& f) { return !keep.contains(f.first); }),
               found->end());
  return absl::OkStatus();
}

}  // namespace

SeqRecService::SeqRecService(const ModelServiceContext& context, SeqRecLimits limits,
                             store::IndexSpec index_spec)
    : context_(context), limits_(limits), host_(context.name), index_(index_spec) {
  BatcherOptions topk = context.batcher;
  topk.name = context.batcher.name + "_recommend";
  batcher_ = std::make_unique<Batcher>(context.batcher, &ComputeVectors, context.metrics);
  topk_batcher_ = std::make_unique<DynamicBatcher<TopKRequest, TopKResult>>(
      std::move(topk), &ComputeTopK, context.metrics);
}

SeqRecService::~SeqRecService() { Stop(); }

void SeqRecService::Stop() {
  if (batcher_) batcher_->Stop();
  if (topk_batcher_) topk_batcher_->Stop();
}

absl::StatusOr<SeqRecService::Prepared> SeqRecService::Prepare(
    const common::v1::ModelSpec& spec, ModelHost<SeqRecModel>::Served served,
    const std::vector<const common::v1::UserRef*>& users, const char* field) {
  Prepared p;
  p.served = std::move(served);
  RECSYS_ASSIGN_OR_RETURN(
      std::vector<ResolvedHistory> histories,
      host_.ReadHistories(users, spec, p.served, p.served.model->max_history(), field));
  p.request.model = p.served.model;
  for (ResolvedHistory& h : histories) {
    p.lengths.push_back(static_cast<int32_t>(h.rows.size()));
    p.truncated.push_back(h.truncated);
    p.request.histories.push_back(std::move(h.rows));
  }
  return p;
}

absl::StatusOr<std::vector<float>> SeqRecService::Vectors(Prepared& prepared,
                                                          const RpcContext& ctx) {
  RECSYS_RETURN_IF_ERROR(ctx.Check("model forward"));
  return batcher_->Submit(std::move(prepared.request), ctx.deadline);
}

absl::Status SeqRecService::DoScore(const RpcContext& ctx, const v1::ScoreRequest& request,
                                    v1::ScoreResponse* response) {
  // Which model first: a request for no model, or an unknown one, says so before anything else.
  RECSYS_ASSIGN_OR_RETURN(ModelHost<SeqRecModel>::Served served, host_.Resolve(request.model()));
  RECSYS_RETURN_IF_ERROR(CheckRequestCount("queries", request.queries_size(),
                                           context_.max_batch_users,
                                           context_.Flag("max_batch_users")));
  std::vector<const common::v1::UserRef*> users;
  for (int q = 0; q < request.queries_size(); ++q) {
    const v1::ScoreQuery& query = request.queries(q);
    RECSYS_RETURN_IF_ERROR(CheckRequestCount(
        FieldPath("queries", q, "candidate_item_ids"), query.candidate_item_ids_size(),
        limits_.max_candidates, context_.Flag("max_candidates")));
    users.push_back(&query.user());
  }
  RECSYS_ASSIGN_OR_RETURN(Prepared p,
                          Prepare(request.model(), std::move(served), users, "queries"));
  const SeqRecModel& model = *p.served.model;
  // Candidates are checked before the forward pass, so a bad id costs no compute.
  std::vector<std::vector<int64_t>> rows(request.queries_size());
  for (int q = 0; q < request.queries_size(); ++q) {
    for (int c = 0; c < request.queries(q).candidate_item_ids_size(); ++c) {
      const int64_t id = request.queries(q).candidate_item_ids(c);
      const std::optional<int64_t> row = model.Row(id);
      if (!row.has_value()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "queries[", q, "].candidate_item_ids[", c, "]: item ", id, " is not in the catalogue of ",
            request.model().name(), " version ", p.served.version));
      }
      rows[q].push_back(*row);
    }
  }
  RECSYS_ASSIGN_OR_RETURN(std::vector<float> users_vectors, Vectors(p, ctx));
  RECSYS_ASSIGN_OR_RETURN(std::vector<float> scores,
                          models::ScoreRows(users_vectors, model.hidden(), model.table(),
                                            model.bias(), model.num_items(), rows));
  response->mutable_model()->set_name(request.model().name());
  response->mutable_model()->set_version(p.served.version);
  size_t at = 0;
  for (int q = 0; q < request.queries_size(); ++q) {
    v1::CandidateScores* out = response->add_results();
    out->mutable_scores()->Add(scores.begin() + at, scores.begin() + at + rows[q].size());
    at += rows[q].size();
    out->set_history_length(p.lengths[q]);
    out->set_history_truncated(p.truncated[q]);
  }
  return absl::OkStatus();
}

absl::Status SeqRecService::DoRecommend(const RpcContext& ctx, const v1::RecommendRequest& request,
                                        v1::RecommendResponse* response) {
  RECSYS_ASSIGN_OR_RETURN(ModelHost<SeqRecModel>::Served served, host_.Resolve(request.model()));
  RECSYS_RETURN_IF_ERROR(CheckRequestCount("queries", request.queries_size(),
                                           context_.max_batch_users,
                                           context_.Flag("max_batch_users")));
  std::vector<const common::v1::UserRef*> users;
  for (const v1::RecommendQuery& query : request.queries()) users.push_back(&query.user());
  if (!v1::Retrieval_IsValid(request.retrieval())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "retrieval: ", request.retrieval(),
        " is not RETRIEVAL_UNSPECIFIED, RETRIEVAL_EXACT or RETRIEVAL_INDEX"));
  }
  RECSYS_ASSIGN_OR_RETURN(Prepared p,
                          Prepare(request.model(), std::move(served), users, "queries"));
  const SeqRecModel& model = *p.served.model;
  const int64_t max_k = std::min(limits_.max_k, model.num_items());
  int64_t fetch = 0;  // top-K fetched per user: enough for the largest k (and category filtering)
  bool any_categories = false;
  for (int q = 0; q < request.queries_size(); ++q) {
    const v1::RecommendQuery& query = request.queries(q);
    if (query.k() < 1 || query.k() > max_k) {
      return absl::InvalidArgumentError(absl::StrCat(
          "queries[", q, "].k: ", query.k(), " must be 1..", max_k, " (--seqrec_max_k = ",
          limits_.max_k, ", catalogue of ", request.model().name(), ": ", model.num_items(),
          " items)"));
    }
    const bool categories = query.filter().include_category_ids_size() > 0;
    any_categories = any_categories || categories;
    // A category filter keeps a fraction of the catalogue: over-fetch, then filter.
    fetch = std::max<int64_t>(fetch, categories ? std::min<int64_t>(model.num_items(),
                                                                    std::max<int64_t>(4 * query.k(), query.k() + 100))
                                                : query.k());
  }
  if (any_categories && host_.store() == nullptr) {
    return absl::FailedPreconditionError(
        "filter.include_category_ids needs the feature store's item categories");
  }
  Found found;  // per query: (item id, score)
  if (request.retrieval() == v1::RETRIEVAL_INDEX) {
    // Vectors hands the histories to the batcher; the exclusions need them after.
    const std::vector<std::vector<int64_t>> histories = p.request.histories;
    RECSYS_ASSIGN_OR_RETURN(std::vector<float> user_vectors, Vectors(p, ctx));
    RECSYS_RETURN_IF_ERROR(ctx.Check("index search"));
    RECSYS_ASSIGN_OR_RETURN(found, SearchIndex(request, p, histories, user_vectors));
  } else {
    RECSYS_ASSIGN_OR_RETURN(found, ExactTopK(ctx, request, p, fetch));
  }
  response->mutable_model()->set_name(request.model().name());
  response->mutable_model()->set_version(p.served.version);
  for (int q = 0; q < request.queries_size(); ++q) {
    const v1::RecommendQuery& query = request.queries(q);
    v1::UserResult* out = response->add_results();
    out->set_history_length(p.lengths[q]);
    out->set_history_truncated(p.truncated[q]);
    for (size_t i = 0; i < found[q].size() && static_cast<int>(i) < query.k(); ++i) {
      common::v1::ScoredItem* item = out->add_items();
      item->set_item_id(found[q][i].first);
      item->set_score(found[q][i].second);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<SeqRecService::Found> SeqRecService::ExactTopK(
    const RpcContext& ctx, const v1::RecommendRequest& request, Prepared& p, int64_t fetch) {
  const SeqRecModel& model = *p.served.model;
  TopKRequest work;
  Exclusions(request, model, p.request.histories, &work.exclude_offsets, &work.exclude_rows);
  work.model = p.served.model;
  work.histories = std::move(p.request.histories);
  work.k = fetch;
  RECSYS_RETURN_IF_ERROR(ctx.Check("model forward"));
  RECSYS_ASSIGN_OR_RETURN(TopKResult top, topk_batcher_->Submit(std::move(work), ctx.deadline));
  Found found(static_cast<size_t>(request.queries_size()));
  for (int q = 0; q < request.queries_size(); ++q) {
    for (int64_t i = 0; i < fetch && top.rows[q * fetch + i] >= 0; ++i) {
      found[q].emplace_back(model.ItemId(top.rows[q * fetch + i]), top.scores[q * fetch + i]);
    }
    if (request.queries(q).filter().include_category_ids_size() > 0) {  // a store is set then
      RECSYS_RETURN_IF_ERROR(FilterCategories(*host_.store(), request.queries(q), &found[q]));
    }
  }
  return found;
}

absl::StatusOr<SeqRecService::Found> SeqRecService::SearchIndex(
    const v1::RecommendRequest& request, const Prepared& p,
    const std::vector<std::vector<int64_t>>& histories, const std::vector<float>& users) {
  if (host_.store() == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "retrieval: RETRIEVAL_INDEX searches the feature store's index; start the server with ",
        context_.Flag("feature_store"), " or host feature_store in it"));
  }
  const SeqRecModel& model = *p.served.model;
  std::vector<IndexQuery> queries(static_cast<size_t>(request.queries_size()));
  for (int q = 0; q < request.queries_size(); ++q) {
    const v1::RecommendQuery& query = request.queries(q);
    IndexQuery& iq = queries[q];
    iq.k = query.k();
    if (!query.include_history_items()) {
      for (int64_t row : histories[q]) iq.exclude_item_ids.push_back(model.ItemId(row));
    }
    iq.exclude_item_ids.insert(iq.exclude_item_ids.end(), query.filter().exclude_item_ids().begin(),
                               query.filter().exclude_item_ids().end());
    iq.include_category_ids.assign(query.filter().include_category_ids().begin(),
                                   query.filter().include_category_ids().end());
  }
  return index_.Search(*host_.store(), request.model().name(), p.served.version, model, users,
                       queries);
}

grpc::ServerUnaryReactor* SeqRecService::Recommend(grpc::CallbackServerContext* call,
                                                   const v1::RecommendRequest* request,
                                                   v1::RecommendResponse* response) {
  return ServeUnary(call, context_.policy, request, response, this, &SeqRecService::DoRecommend);
}

grpc::ServerUnaryReactor* SeqRecService::Score(grpc::CallbackServerContext* call,
                                               const v1::ScoreRequest* request,
                                               v1::ScoreResponse* response) {
  return ServeUnary(call, context_.policy, request, response, this, &SeqRecService::DoScore);
}

}  // namespace recsys::seqrec
