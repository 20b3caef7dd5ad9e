#include "services/rerank/rerank_module.h"

#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "recsys/kernels/device.h"
#include "services/common/model_service.h"
#include "services/common/validation.h"
#include "services/rerank/rerank_service.h"

// An LLM forward pass uses every core already: calls queue rather than share a batch.
RECSYS_MODEL_SERVICE_FLAGS(rerank, "icr", /*max_batch=*/4, /*max_delay=*/absl::ZeroDuration(),
                           /*max_queue=*/16, /*max_batch_users=*/8)
ABSL_FLAG(int64_t, rerank_max_documents, 100, "rerank: documents per query.");
ABSL_FLAG(int64_t, rerank_max_query_bytes, 4096, "rerank: bytes of a query's text.");
ABSL_FLAG(int64_t, rerank_max_document_words, 300,
          "rerank: a document's text is cut to its first this many space-separated words (the "
          "ICR paper's 300).");
ABSL_FLAG(int64_t, rerank_max_prompt_tokens, 16384,
          "rerank: tokens in one query's prompt (and at most the model's context): documents "
          "are cut, longest first, to fit; a query that cannot fit at all is INVALID_ARGUMENT.");
ABSL_FLAG(int64_t, rerank_prefix_cache_bytes, int64_t{512} << 20,
          "rerank: bytes per model version for the prefix cache (the KV cache of a set of "
          "documents, reused when the same documents come with another query); 0 = off.");
ABSL_FLAG(std::string, rerank_device, "cpu",
          "Where the LLM runs: cpu, cuda:<ordinal> or auto (the first GPU when one is visible).");

namespace recsys::rerank {

absl::StatusOr<std::unique_ptr<ServiceModule>> MakeRerankModule(const ServiceEnv& env) {
  absl::StatusOr<kernels::Device> device = kernels::ParseDevice(absl::GetFlag(FLAGS_rerank_device));
  if (!device.ok()) {
    return absl::Status(device.status().code(),
                        absl::StrCat("--rerank_device: ", device.status().message()));
  }
  RerankLimits limits;
  limits.max_documents = absl::GetFlag(FLAGS_rerank_max_documents);
  limits.max_query_bytes = absl::GetFlag(FLAGS_rerank_max_query_bytes);
  limits.max_document_words = absl::GetFlag(FLAGS_rerank_max_document_words);
  limits.max_prompt_tokens = absl::GetFlag(FLAGS_rerank_max_prompt_tokens);
  RECSYS_RETURN_IF_ERROR(
      CheckPositiveFlags({{"--rerank_max_documents", limits.max_documents},
                          {"--rerank_max_query_bytes", limits.max_query_bytes},
                          {"--rerank_max_document_words", limits.max_document_words},
                          {"--rerank_max_prompt_tokens", limits.max_prompt_tokens}}));
  const int64_t cache_bytes = absl::GetFlag(FLAGS_rerank_prefix_cache_bytes);
  if (cache_bytes < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--rerank_prefix_cache_bytes: ", cache_bytes, " must be >= 0"));
  }
  icr::IcrModelOptions options;
  options.device = *device;
  options.prefix_cache_bytes = cache_bytes;
  ModelServiceSpec<icr::IcrModel> spec;
  spec.name = "rerank";
  spec.grpc_name = v1::RerankService::service_full_name();
  spec.architectures = {"icr"};
  spec.flags = rerank_ModelServiceFlags();
  spec.load = [options](const std::string& dir) { return icr::IcrModel::Load(dir, options); };
  spec.warm_up = [](const icr::IcrModel& m) -> absl::Status {
    RECSYS_ASSIGN_OR_RETURN(icr::IcrPrompt prompt,
                            m.BuildPrompt("warm up", {{"", "warm up"}}, 300, 0));
    return m.Score(prompt, icr::Strategy::kQueryOnly).status();
  };
  return MakeModelServiceModule<RerankService>(
      env, std::move(spec), [&](const ModelServiceContext& context) {
        return std::make_unique<RerankService>(context, limits);
      });
}

}  // namespace recsys::rerank
