// recsys.rerank.v1.RerankService: zero-shot re-ranking of a query's documents from the
// attention an LLM pays to them (ICR, models/icr).
//
// A call: validate (limits as --rerank_* flags) -> resolve the model version -> each query's
// prompt, tokenized on the handler thread (documents cut to the word limit, then to the prompt
// budget: a long document never fails a call) -> the model through the batcher (bounded
// queue: RESOURCE_EXHAUSTED; the call's deadline is checked between the LLM's layers) ->
// documents sorted by score (ties: request order), top_n, timings, cut documents.
//
// Metrics (labels: model):
//   recsys_rerank_prompt_tokens{model}                   histogram, tokens per query's prompt
//   recsys_rerank_documents_total{model}                 counter, documents re-ranked
//   recsys_rerank_truncated_documents_total{model}       counter, documents cut
//   recsys_rerank_pass_seconds{model,pass}               histogram, pass = tokenize | pass1 |
//                                                        pass2
//   recsys_rerank_prefix_cache_requests_total{model,result}  counter, result = hit | miss
//   recsys_rerank_prefix_cache_bytes{model}              gauge, bytes the prefix cache holds
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "models/icr/icr_model.h"
#include "recsys/rerank/v1/rerank.grpc.pb.h"
#include "services/common/batcher.h"
#include "services/common/model_host.h"
#include "services/common/model_service.h"
#include "services/common/rpc_context.h"

namespace recsys::rerank {

namespace v1 = ::recsys::rerank::v1;

// rerank's own limits; queries per call are the shell's (--rerank_max_batch_users).
struct RerankLimits {
  int64_t max_documents = 100;        // per query (--rerank_max_documents)
  int64_t max_query_bytes = 4096;     // --rerank_max_query_bytes
  int64_t max_document_words = 300;   // --rerank_max_document_words
  int64_t max_prompt_tokens = 16384;  // --rerank_max_prompt_tokens (and the model's context)
  int64_t max_id_bytes = 256;         // Document.id
};

// One call's queries on one model version, for the batcher.
struct RerankWork {
  std::shared_ptr<const icr::IcrModel> model;
  std::vector<icr::IcrPrompt> prompts;
  std::vector<icr::Strategy> strategies;
  absl::Time deadline = absl::InfiniteFuture();  // checked between layers
  absl::Time submitted;
};

struct RerankComputed {
  std::vector<icr::IcrScores> scores;
  absl::Duration queue;  // submit to compute start
};

class RerankMetrics {
 public:
  explicit RerankMetrics(prometheus::Registry* registry);  // may be null: no metrics
  ~RerankMetrics();
  void Observe(const std::string& model, const icr::IcrPrompt& prompt, const icr::IcrScores& scores,
               absl::Duration tokenize, const icr::PrefixCache* cache);

 private:
  struct Series;
  Series& For(const std::string& model) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  prometheus::Registry* const registry_;
  absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<Series>> series_ ABSL_GUARDED_BY(mu_);
};

class RerankService final : public v1::RerankService::CallbackService {
 public:
  using Model = icr::IcrModel;

  RerankService(const ModelServiceContext& context, RerankLimits limits);
  ~RerankService() override;

  grpc::ServerUnaryReactor* Rerank(grpc::CallbackServerContext* call,
                                   const v1::RerankRequest* request,
                                   v1::RerankResponse* response) override;

  ModelHost<icr::IcrModel>& host() { return host_; }
  void Stop();

 private:
  absl::Status DoRerank(const RpcContext& ctx, const v1::RerankRequest& request,
                        v1::RerankResponse* response);
  absl::Status Validate(const v1::RerankRequest& request) const;

  const ModelServiceContext context_;
  const RerankLimits limits_;
  ModelHost<icr::IcrModel> host_;
  RerankMetrics metrics_;
  std::unique_ptr<DynamicBatcher<RerankWork, RerankComputed>> batcher_;
};

}  // namespace recsys::rerank
