// An ICR re-ranking model version: a decoder LLM (GGUF, or the project's export) and how the
// paper's method runs on it, from the version directory's config.json:
//
//   {"architecture": "icr", "checkpoint": "model.gguf",
//    "prompt": "auto" | "llama3" | "mistral" | "chatml" | "plain",   (auto: the GGUF's chat
//                                                                    template, else plain)
//    "instruction": "qa" | "ie", "document_order": "reversed" | "first_stage",
//    "layers": [first, last]}                                       (default: every layer)
//
// Scoring (algorithms.md §5.2; the paper's 'masked_NA_calibration'): pass 1 runs the prompt
// with the content-free query "N/A" and keeps the prefix's KV cache; pass 2 runs only the
// real query's tail on it. a(t) = the attention mass from the query span to prompt token t,
// summed over heads and the chosen layers, averaged over the span's tokens. Per document,
// c(t) = a_Q(t) - a_NA(t) over its tokens; tokens with c(t) <= mean(c) - 2 std(c) (unbiased)
// are dropped; the score is the sum of c over the rest. Query-only scoring (the paper's
// 'query_last') is one pass and the sum of a_Q over the document's tokens.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "models/icr/icr_prompt.h"
#include "models/icr/prefix_cache.h"
#include "models/llm/model/llm_model.h"

namespace recsys::icr {

enum class Strategy { kCalibrated, kQueryOnly };

struct IcrModelOptions {
  kernels::Device device = kernels::Device::Cpu();
  int64_t prefix_cache_bytes = 0;  // 0: no prefix cache
};

struct IcrSettings {
  PromptFamily family = PromptFamily::kPlain;
  Instruction instruction = Instruction::kQa;
  bool reverse_order = true;
  int64_t first_layer = 0, last_layer = 0;  // aggregated layers, inclusive
};

struct IcrScores {
  std::vector<double> scores;      // per document, request order
  std::vector<double> query_mass;  // per document: the sum of a_Q over its tokens
  std::vector<double> na_mass;     // per document: the sum of a_NA (calibrated only)
  absl::Duration pass1, pass2;     // pass 1: prefix and content-free tail (zero on a prefix hit)
  bool prefix_hit = false;
};

class IcrModel {
 public:
  static absl::StatusOr<std::unique_ptr<IcrModel>> Load(const std::string& dir,
                                                        const IcrModelOptions& options);
  // A model over an LLM already loaded (tests, tools).
  static absl::StatusOr<std::unique_ptr<IcrModel>> FromLlm(std::unique_ptr<llm::LlmModel> llm,
                                                           const IcrSettings& settings,
                                                           const IcrModelOptions& options);

  const llm::LlmModel& llm() const { return *llm_; }
  const IcrSettings& settings() const { return settings_; }
  // Tokens a prompt may hold: the model's context (or `requested` when smaller and > 0).
  int64_t PromptBudget(int64_t requested) const;
  PromptOptions MakePromptOptions(int64_t max_document_words, int64_t max_prompt_tokens) const;

  absl::StatusOr<IcrPrompt> BuildPrompt(const std::string& query,
                                        const std::vector<IcrDocument>& documents,
                                        int64_t max_document_words,
                                        int64_t max_prompt_tokens) const;

  // Scores the prompt's documents; DEADLINE_EXCEEDED / CANCELLED between layers per control.
  absl::StatusOr<IcrScores> Score(const IcrPrompt& prompt, Strategy strategy,
                                  const llm::LlmControl& control = {}) const;

  // Null when the version runs without one.
  PrefixCache* prefix_cache() const { return prefix_cache_.get(); }

 private:
  IcrModel() = default;
  std::vector<int64_t> Layers() const;

  std::unique_ptr<llm::LlmModel> llm_;
  IcrSettings settings_;
  std::unique_ptr<PrefixCache> prefix_cache_;
};

}  // namespace recsys::icr
