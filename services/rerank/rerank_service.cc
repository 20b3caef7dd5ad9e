#include "services/rerank/rerank_service.h"

#include <algorithm>
#include <numeric>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "services/common/metrics.h"
#include "services/common/validation.h"

namespace recsys::rerank {
namespace {

using Batcher = DynamicBatcher<RerankWork, RerankComputed>;

// The queries of each call in turn: an LLM forward pass already spreads over every core, so
// calls gain nothing from sharing one; the batcher bounds the queue and drops expired calls.
std::vector<absl::StatusOr<RerankComputed>> Compute(absl::Span<const RerankWork* const> batch) {
  std::vector<absl::StatusOr<RerankComputed>> out;
  for (const RerankWork* work : batch) {
    RerankComputed computed;
    computed.queue = absl::Now() - work->submitted;
    llm::LlmControl control;
    control.deadline = work->deadline;
    absl::Status status;
    for (size_t q = 0; q < work->prompts.size() && status.ok(); ++q) {
      absl::StatusOr<icr::IcrScores> s =
          work->model->Score(work->prompts[q], work->strategies[q], control);
      if (s.ok()) {
        computed.scores.push_back(*std::move(s));
      } else {
        status = absl::Status(s.status().code(),
                              absl::StrCat("queries[", q, "]: ", s.status().message()));
      }
    }
    if (status.ok()) {
      out.emplace_back(std::move(computed));
    } else {
      out.emplace_back(status);
    }
  }
  return out;
}

double Ms(absl::Duration d) { return absl::ToDoubleMilliseconds(d); }

}  // namespace

struct RerankMetrics::Series {
  prometheus::Histogram* prompt_tokens = nullptr;
  prometheus::Counter *documents = nullptr, *truncated = nullptr;
  prometheus::Histogram *tokenize = nullptr, *pass1 = nullptr, *pass2 = nullptr;
  prometheus::Counter *hits = nullptr, *misses = nullptr;
  prometheus::Gauge* cache_bytes = nullptr;
};

RerankMetrics::RerankMetrics(prometheus::Registry* registry) : registry_(registry) {}
RerankMetrics::~RerankMetrics() = default;

RerankMetrics::Series& RerankMetrics::For(const std::string& model) {
  std::unique_ptr<Series>& s = series_[model];
  if (s != nullptr) return *s;
  s = std::make_unique<Series>();
  const prometheus::Labels labels = {{"model", model}};
  s->prompt_tokens =
      &prometheus::BuildHistogram()
           .Name("recsys_rerank_prompt_tokens")
           .Help("Tokens in a re-ranked query's prompt.")
           .Register(*registry_)
           .Add(labels, prometheus::Histogram::BucketBoundaries{256, 512, 1024, 2048, 4096, 8192,
                                                                16384, 32768, 65536, 131072});
  s->documents = &prometheus::BuildCounter()
                      .Name("recsys_rerank_documents_total")
                      .Help("Documents re-ranked.")
                      .Register(*registry_)
                      .Add(labels);
  s->truncated = &prometheus::BuildCounter()
                      .Name("recsys_rerank_truncated_documents_total")
                      .Help("Documents cut to the word limit or to fit the prompt budget.")
                      .Register(*registry_)
                      .Add(labels);
  auto& passes = prometheus::BuildHistogram()
                     .Name("recsys_rerank_pass_seconds")
                     .Help(
                         "Time per stage of a re-ranked query: tokenize, pass1 (prefix and "
                         "content-free query), pass2 (the query's tail).")
                     .Register(*registry_);
  s->tokenize = &passes.Add({{"model", model}, {"pass", "tokenize"}}, LatencyBucketsSeconds());
  s->pass1 = &passes.Add({{"model", model}, {"pass", "pass1"}}, LatencyBucketsSeconds());
  s->pass2 = &passes.Add({{"model", model}, {"pass", "pass2"}}, LatencyBucketsSeconds());
  auto& requests = prometheus::BuildCounter()
                       .Name("recsys_rerank_prefix_cache_requests_total")
                       .Help("Prefix-cache lookups by result (hit: pass 1 skipped).")
                       .Register(*registry_);
  s->hits = &requests.Add({{"model", model}, {"result", "hit"}});
  s->misses = &requests.Add({{"model", model}, {"result", "miss"}});
  s->cache_bytes = &prometheus::BuildGauge()
                        .Name("recsys_rerank_prefix_cache_bytes")
                        .Help("Bytes the prefix cache holds (KV caches and masses).")
                        .Register(*registry_)
                        .Add(labels);
  return *s;
}

void RerankMetrics::Observe(const std::string& model, const icr::IcrPrompt& prompt,
                            const icr::IcrScores& scores, absl::Duration tokenize,
                            const icr::PrefixCache* cache) {
  if (registry_ == nullptr) return;
  absl::MutexLock lock(&mu_);
  Series& s = For(model);
  s.prompt_tokens->Observe(static_cast<double>(prompt.prompt_tokens()));
  s.documents->Increment(static_cast<double>(prompt.spans.size()));
  s.truncated->Increment(static_cast<double>(prompt.truncated_documents()));
  s.tokenize->Observe(absl::ToDoubleSeconds(tokenize));
  if (!scores.prefix_hit) s.pass1->Observe(absl::ToDoubleSeconds(scores.pass1));
  s.pass2->Observe(absl::ToDoubleSeconds(scores.pass2));
  if (cache != nullptr) {
    (scores.prefix_hit ? s.hits : s.misses)->Increment();
    s.cache_bytes->Set(static_cast<double>(cache->stats().bytes));
  }
}

RerankService::RerankService(const ModelServiceContext& context, RerankLimits limits)
    : context_(context), limits_(limits), host_(context.name), metrics_(context.metrics) {
  batcher_ = std::make_unique<Batcher>(context.batcher, &Compute, context.metrics);
}

RerankService::~RerankService() { Stop(); }

void RerankService::Stop() {
  if (batcher_) batcher_->Stop();
}

absl::Status RerankService::Validate(const v1::RerankRequest& request) const {
  RECSYS_RETURN_IF_ERROR(CheckRequestCount("queries", request.queries_size(),
                                           context_.max_batch_users,
                                           context_.Flag("max_batch_users")));
  for (int q = 0; q < request.queries_size(); ++q) {
    const v1::RerankQuery& query = request.queries(q);
    const std::string at = absl::StrCat("queries[", q, "]");
    if (query.query().empty() ||
        static_cast<int64_t>(query.query().size()) > limits_.max_query_bytes) {
      return absl::InvalidArgumentError(absl::StrCat(at, ".query: ", query.query().size(),
                                                     " bytes; must be 1..", limits_.max_query_bytes,
                                                     " (", context_.Flag("max_query_bytes"), ")"));
    }
    RECSYS_RETURN_IF_ERROR(CheckRequestCount(at + ".documents", query.documents_size(),
                                             limits_.max_documents,
                                             context_.Flag("max_documents")));
    for (int d = 0; d < query.documents_size(); ++d) {
      if (static_cast<int64_t>(query.documents(d).id().size()) > limits_.max_id_bytes) {
        return absl::InvalidArgumentError(absl::StrCat(at, ".documents[", d,
                                                       "].id: ", query.documents(d).id().size(),
                                                       " bytes; at most ", limits_.max_id_bytes));
      }
    }
    if (query.top_n() < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(at, ".top_n: ", query.top_n(), " is negative (0 = all documents)"));
    }
    if (!v1::ScoringStrategy_IsValid(query.strategy())) {
      return absl::InvalidArgumentError(
          absl::StrCat(at, ".strategy: ", query.strategy(), " is not a ScoringStrategy"));
    }
  }
  return absl::OkStatus();
}

absl::Status RerankService::DoRerank(const RpcContext& ctx, const v1::RerankRequest& request,
                                     v1::RerankResponse* response) {
  RECSYS_ASSIGN_OR_RETURN(ModelHost<icr::IcrModel>::Served served, host_.Resolve(request.model()));
  RECSYS_RETURN_IF_ERROR(Validate(request));
  const icr::IcrModel& model = *served.model;
  RerankWork work;
  work.model = served.model;
  work.deadline = ctx.deadline;
  std::vector<absl::Duration> tokenize;
  for (int q = 0; q < request.queries_size(); ++q) {
    const v1::RerankQuery& query = request.queries(q);
    std::vector<icr::IcrDocument> documents;
    documents.reserve(query.documents_size());
    for (const v1::Document& d : query.documents()) documents.push_back({d.title(), d.text()});
    const absl::Time start = absl::Now();
    absl::StatusOr<icr::IcrPrompt> prompt = model.BuildPrompt(
        query.query(), documents, limits_.max_document_words, limits_.max_prompt_tokens);
    if (!prompt.ok()) {
      return absl::Status(
          prompt.status().code(),
          absl::StrCat("queries[", q, "]: ", prompt.status().message(), " (",
                       context_.Flag("max_prompt_tokens"), " ", limits_.max_prompt_tokens,
                       ", model context ", model.llm().config().context_length, ")"));
    }
    tokenize.push_back(absl::Now() - start);
    work.prompts.push_back(*std::move(prompt));
    work.strategies.push_back(query.strategy() == v1::SCORING_STRATEGY_QUERY_ONLY
                                  ? icr::Strategy::kQueryOnly
                                  : icr::Strategy::kCalibrated);
  }
  RECSYS_RETURN_IF_ERROR(ctx.Check("model forward"));
  work.submitted = absl::Now();
  std::vector<icr::IcrPrompt> prompts = work.prompts;  // the batcher takes the work
  RECSYS_ASSIGN_OR_RETURN(RerankComputed computed, batcher_->Submit(std::move(work), ctx.deadline));

  response->mutable_model()->set_name(request.model().name());
  response->mutable_model()->set_version(served.version);
  for (int q = 0; q < request.queries_size(); ++q) {
    const v1::RerankQuery& query = request.queries(q);
    const icr::IcrPrompt& prompt = prompts[q];
    const icr::IcrScores& s = computed.scores[q];
    metrics_.Observe(request.model().name(), prompt, s, tokenize[q], model.prefix_cache());
    std::vector<int> order(query.documents_size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&s](int a, int b) { return s.scores[a] > s.scores[b]; });
    const int n = query.top_n() > 0 ? std::min(query.top_n(), query.documents_size())
                                    : query.documents_size();
    v1::QueryResult* result = response->add_results();
    for (int i = 0; i < n; ++i) {
      const int d = order[i];
      v1::RankedDocument* out = result->add_documents();
      out->set_index(d);
      out->set_id(query.documents(d).id());
      out->set_score(static_cast<float>(s.scores[d]));
      out->set_truncated(prompt.cut_to_words[d] || prompt.cut_to_budget[d]);
      out->set_tokens(static_cast<int32_t>(prompt.spans[d].size()));
      if (query.return_masses()) {
        out->set_query_mass(static_cast<float>(s.query_mass[d]));
        if (!s.na_mass.empty()) out->set_content_free_mass(static_cast<float>(s.na_mass[d]));
      }
    }
    result->set_prompt_tokens(static_cast<int32_t>(prompt.prompt_tokens()));
    result->set_truncated_documents(static_cast<int32_t>(prompt.truncated_documents()));
    result->set_prefix_cache_hit(s.prefix_hit);
    v1::Timings* t = result->mutable_timings();
    t->set_tokenize_ms(Ms(tokenize[q]));
    t->set_queue_ms(Ms(computed.queue));
    t->set_pass1_ms(Ms(s.pass1));
    t->set_pass2_ms(Ms(s.pass2));
  }
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* RerankService::Rerank(grpc::CallbackServerContext* call,
                                                const v1::RerankRequest* request,
                                                v1::RerankResponse* response) {
  return ServeUnary(call, context_.policy, request, response, this, &RerankService::DoRerank);
}

}  // namespace recsys::rerank
