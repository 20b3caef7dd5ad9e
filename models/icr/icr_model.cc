#include "models/icr/icr_model.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "models/common/model_config.h"
#include "models/llm/gguf/gguf_file.h"
#include "models/llm/tokenizer/chat_template.h"

namespace recsys::icr {
namespace {

absl::StatusOr<std::string> StringOr(const models::ModelConfig& config, const std::string& key,
                                     const std::string& fallback) {
  if (!config.Has(key)) return fallback;
  return config.String(key);
}

// The chat format the GGUF's template names; plain when it has none.
PromptFamily DetectFamily(const std::string& checkpoint) {
  auto file = llm::GgufFile::Open(checkpoint);
  if (!file.ok()) return PromptFamily::kPlain;
  absl::StatusOr<llm::ChatFormat> format = llm::DetectChatFormat(**file);
  if (!format.ok()) return PromptFamily::kPlain;
  switch (*format) {
    case llm::ChatFormat::kLlama3:
      return PromptFamily::kLlama3;
    case llm::ChatFormat::kMistral:
      return PromptFamily::kMistral;
    case llm::ChatFormat::kChatMl:
      return PromptFamily::kChatMl;
  }
  return PromptFamily::kPlain;
}

// Sum over a span of float masses, in double.
double SpanSum(const std::vector<float>& mass, const TokenSpan& span) {
  double sum = 0;
  for (int64_t t = span.begin; t < span.end; ++t) sum += mass[t];
  return sum;
}

// The paper's calibrated score of one document: c = a_Q - a_NA over its tokens, tokens with
// c <= mean(c) - 2 std(c) (unbiased; NaN for one token, which then keeps none) dropped.
double Calibrated(const std::vector<float>& query, const std::vector<float>& na,
                  const TokenSpan& span) {
  const int64_t n = span.size();
  std::vector<double> c(static_cast<size_t>(n));
  double mean = 0;
  for (int64_t i = 0; i < n; ++i) {
    c[i] = static_cast<double>(query[span.begin + i]) - na[span.begin + i];
    mean += c[i];
  }
  mean /= static_cast<double>(n);
  double var = 0;
  for (double x : c) var += (x - mean) * (x - mean);
  const double std = n > 1 ? std::sqrt(var / static_cast<double>(n - 1)) : std::nan("");
  const double threshold = mean - 2 * std;
  double score = 0;
  for (double x : c) {
    if (x > threshold) score += x;
  }
  return score;
}

}  // namespace

absl::StatusOr<std::unique_ptr<IcrModel>> IcrModel::Load(const std::string& dir,
                                                         const IcrModelOptions& options) {
  RECSYS_ASSIGN_OR_RETURN(const models::ModelConfig config,
                          models::ModelConfig::ReadOf(dir, "icr"));
  RECSYS_ASSIGN_OR_RETURN(const std::string checkpoint,
                          StringOr(config, "checkpoint", "model.gguf"));
  const std::string path = absl::StrCat(dir, "/", checkpoint);
  RECSYS_ASSIGN_OR_RETURN(std::unique_ptr<llm::LlmModel> llm,
                          llm::LlmModel::Load(path, options.device));
  IcrSettings s;
  RECSYS_ASSIGN_OR_RETURN(const std::string prompt, StringOr(config, "prompt", "auto"));
  if (prompt == "auto") {
    s.family = DetectFamily(path);
  } else {
    RECSYS_ASSIGN_OR_RETURN(s.family, ParsePromptFamily(prompt));
  }
  RECSYS_ASSIGN_OR_RETURN(const std::string instruction, StringOr(config, "instruction", "qa"));
  RECSYS_ASSIGN_OR_RETURN(s.instruction, ParseInstruction(instruction));
  RECSYS_ASSIGN_OR_RETURN(const std::string order, StringOr(config, "document_order", "reversed"));
  if (order != "reversed" && order != "first_stage") {
    return absl::InvalidArgumentError(absl::StrCat(config.path(), ": \"document_order\" is '",
                                                   order, "', not reversed or first_stage"));
  }
  s.reverse_order = order == "reversed";
  s.first_layer = 0;
  s.last_layer = llm->config().layers - 1;
  if (config.Has("layers")) {
    RECSYS_ASSIGN_OR_RETURN(const std::vector<int64_t> range, config.IntList("layers"));
    if (range.size() != 2 || range[0] < 0 || range[0] > range[1] ||
        range[1] >= llm->config().layers) {
      return absl::InvalidArgumentError(absl::StrCat(
          config.path(), ": \"layers\" must be [first, last] with 0 <= first <= last < ",
          llm->config().layers));
    }
    s.first_layer = range[0];
    s.last_layer = range[1];
  }
  return FromLlm(std::move(llm), s, options);
}

absl::StatusOr<std::unique_ptr<IcrModel>> IcrModel::FromLlm(std::unique_ptr<llm::LlmModel> llm,
                                                            const IcrSettings& settings,
                                                            const IcrModelOptions& options) {
  if (settings.first_layer < 0 || settings.first_layer > settings.last_layer ||
      settings.last_layer >= llm->config().layers) {
    return absl::InvalidArgumentError(absl::StrCat("layers [", settings.first_layer, ", ",
                                                   settings.last_layer, "] are not within the ",
                                                   llm->config().layers, " layers"));
  }
  std::unique_ptr<IcrModel> m(new IcrModel());
  m->llm_ = std::move(llm);
  m->settings_ = settings;
  if (options.prefix_cache_bytes > 0) {
    m->prefix_cache_ = std::make_unique<PrefixCache>(options.prefix_cache_bytes);
  }
  return m;
}

int64_t IcrModel::PromptBudget(int64_t requested) const {
  const int64_t context = llm_->config().context_length;
  if (context <= 0) return requested;
  return requested > 0 ? std::min(requested, context) : context;
}

PromptOptions IcrModel::MakePromptOptions(int64_t max_document_words,
                                          int64_t max_prompt_tokens) const {
  PromptOptions o;
  o.family = settings_.family;
  o.instruction = settings_.instruction;
  o.reverse_order = settings_.reverse_order;
  o.max_document_words = max_document_words;
  o.max_prompt_tokens = PromptBudget(max_prompt_tokens);
  return o;
}

absl::StatusOr<IcrPrompt> IcrModel::BuildPrompt(const std::string& query,
                                                const std::vector<IcrDocument>& documents,
                                                int64_t max_document_words,
                                                int64_t max_prompt_tokens) const {
  return icr::BuildPrompt(llm_->tokenizer(),
                          MakePromptOptions(max_document_words, max_prompt_tokens), query,
                          documents);
}

std::vector<int64_t> IcrModel::Layers() const {
  std::vector<int64_t> layers;
  for (int64_t l = settings_.first_layer; l <= settings_.last_layer; ++l) layers.push_back(l);
  return layers;
}

absl::StatusOr<IcrScores> IcrModel::Score(const IcrPrompt& prompt, Strategy strategy,
                                          const llm::LlmControl& control) const {
  const int64_t p = static_cast<int64_t>(prompt.prefix.size());
  const int64_t q = static_cast<int64_t>(prompt.query_tail.size());
  const int64_t na = static_cast<int64_t>(prompt.na_tail.size());
  const std::vector<int64_t> layers = Layers();
  const int64_t depth = settings_.last_layer + 1;  // the forward stops after the last layer
  auto mass_of = [&](int64_t tail) {
    llm::LlmOutputs out;
    out.mass_begin = 0;
    out.mass_end = tail;
    out.mass_layers = layers;
    return out;
  };
  IcrScores scores;
  const std::string key = prefix_cache_ ? PrefixCache::Key(prompt.prefix, layers) : "";
  std::shared_ptr<const PrefixEntry> hit = prefix_cache_ ? prefix_cache_->Find(key) : nullptr;
  std::vector<float> na_mass;  // over the prefix's positions
  llm::KvCache cache;
  const absl::Time start = absl::Now();
  if (hit != nullptr) {
    scores.prefix_hit = true;
    RECSYS_ASSIGN_OR_RETURN(cache, hit->cache.Clone(p + q));
    na_mass = hit->na_mass;
  } else if (strategy == Strategy::kQueryOnly) {
    // One pass over the whole prompt, as the paper's query-only scoring.
    RECSYS_ASSIGN_OR_RETURN(cache, llm_->NewCache(p + q, depth));
    llm::LlmInput in;
    in.tokens = prompt.prefix;
    in.tokens.insert(in.tokens.end(), prompt.query_tail.begin(), prompt.query_tail.end());
    llm::LlmOutputs out = mass_of(p + q);
    out.mass_begin = p;
    RECSYS_ASSIGN_OR_RETURN(llm::LlmResult r, llm_->Forward(in, out, &cache, control));
    scores.pass2 = absl::Now() - start;
    for (const TokenSpan& span : prompt.spans) {
      const double a = SpanSum(r.mass, span);
      scores.scores.push_back(a);
      scores.query_mass.push_back(a);
    }
    return scores;
  } else {
    // Pass 1: the prefix, then the content-free tail on it.
    RECSYS_ASSIGN_OR_RETURN(cache, llm_->NewCache(p + std::max(q, na), depth));
    llm::LlmInput in;
    in.tokens = prompt.prefix;
    RECSYS_RETURN_IF_ERROR(llm_->Forward(in, {}, &cache, control).status());
    in.tokens = prompt.na_tail;
    RECSYS_ASSIGN_OR_RETURN(llm::LlmResult r, llm_->Forward(in, mass_of(na), &cache, control));
    cache.Truncate(p);
    na_mass.assign(r.mass.begin(), r.mass.begin() + p);
  }
  const absl::Time pass2_start = absl::Now();
  scores.pass1 = pass2_start - start;
  // Pass 2: the real query's tail on the prefix.
  llm::LlmInput in;
  in.tokens = prompt.query_tail;
  RECSYS_ASSIGN_OR_RETURN(llm::LlmResult r, llm_->Forward(in, mass_of(q), &cache, control));
  scores.pass2 = absl::Now() - pass2_start;
  if (prefix_cache_ && hit == nullptr) {
    cache.Truncate(p);
    auto entry = std::make_shared<PrefixEntry>();
    entry->cache = std::move(cache);
    entry->na_mass = na_mass;
    prefix_cache_->Insert(key, std::move(entry));
  }
  for (const TokenSpan& span : prompt.spans) {
    const double a_q = SpanSum(r.mass, span), a_na = SpanSum(na_mass, span);
    scores.query_mass.push_back(a_q);
    if (strategy == Strategy::kCalibrated) scores.na_mass.push_back(a_na);
    scores.scores.push_back(strategy == Strategy::kCalibrated ? Calibrated(r.mass, na_mass, span)
                                                              : a_q);
  }
  return scores;
}

}  // namespace recsys::icr
