// A decoder-only LLM (Llama / Mistral / Qwen2 from GGUF) on the kernel library: RMSNorm,
// q / k / v (with Qwen2's biases), rope with the file's theta and Llama 3's frequency factors,
// grouped-query attention over a KV cache, SwiGLU, final norm, tied or separate head.
//
// A call runs some new positions on top of a cache. Each position's input is a token id or a
// caller-given vector (SETRec's item vectors between instruction tokens); positions and the
// mask (causal, or SETRec's item-set mask) may be given. Outputs are computed only on request:
// logits or final hidden states at chosen positions, and the attention mass from a span of
// query positions to every key, summed over heads and chosen layers without an S x S matrix;
// when only the mass is asked for, the pass stops after the last chosen layer. The deadline
// and the cancel hook are checked between layers.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "models/llm/gguf/gguf_file.h"
#include "models/llm/model/kv_cache.h"
#include "models/llm/model/llm_config.h"
#include "models/llm/model/llm_weights.h"
#include "models/llm/model/tensor_source.h"
#include "models/llm/tokenizer/tokenizer.h"
#include "recsys/kernels/attention.h"
#include "recsys/kernels/context.h"

namespace recsys::llm {

struct LlmInput {
  // One entry per new position: a token id, or -1 to take the next row of `vectors`.
  std::vector<int32_t> tokens;
  std::vector<float> vectors;  // [number of -1 entries, hidden]
  // Rope positions of the new positions; empty = cache.length() + i.
  std::vector<int64_t> positions;
  // kCausal: position i sees every cached key and the new keys up to itself. kCausalSets:
  // also `set_ids` (one per new position, < 0 = none): positions of one set do not see each
  // other; needs an empty cache.
  kernels::AttentionMask mask = kernels::AttentionMask::kCausal;
  std::vector<int32_t> set_ids;
};

struct LlmOutputs {
  std::vector<int64_t> logits_at;  // indices of new positions
  std::vector<int64_t> hidden_at;
  // Attention mass of the query span [mass_begin, mass_end) (new positions) over every key of
  // the cache and this call, summed over heads and `mass_layers`; none when the span is empty.
  int64_t mass_begin = 0, mass_end = 0;
  std::vector<int64_t> mass_layers;
};

struct LlmResult {
  std::vector<float> logits;  // [logits_at.size(), vocab]
  std::vector<float> hidden;  // [hidden_at.size(), hidden]
  std::vector<float> mass;    // [keys]
  int64_t layers_run = 0;
};

struct LlmControl {
  absl::Time deadline = absl::InfiniteFuture();
  std::function<bool()> cancelled;  // checked between layers; true stops with CANCELLED
};

class LlmModel {
 public:
  // Loads a GGUF file, or an export directory (config.json, model.safetensors, tokenizer.gguf:
  // tensor_source.h): on the CPU the weight matrices are used in place from the file
  // (weight_matrix.h), on CUDA expanded to fp32 on the device.
  static absl::StatusOr<std::unique_ptr<LlmModel>> Load(const std::string& path,
                                                        const kernels::Device& device);

  const LlmConfig& config() const { return config_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  const kernels::Device& device() const { return device_; }
  // Weight bytes used in place from the mapped file (CPU), and held as fp32 copies (the
  // vectors; every matrix on CUDA).
  int64_t mapped_weight_bytes() const { return weights_.mapped_bytes; }
  int64_t expanded_weight_bytes() const { return weights_.expanded_bytes; }

  // A cache of `capacity` positions for the first `layers` layers (-1: all). Forward on a cache
  // of fewer layers runs only those: enough for the attention mass of layers below them
  // (ICR's selective layers), not for logits or hidden states.
  absl::StatusOr<KvCache> NewCache(int64_t capacity, int64_t layers = -1) const;

  // Runs input's positions after cache's (which grows by them). Calls may run at once from
  // several threads, each on its own cache (the model is read-only). INVALID_ARGUMENT naming the
  // field for bad input; RESOURCE_EXHAUSTED when the cache is too small; DEADLINE_EXCEEDED /
  // CANCELLED from the control hooks (the cache then keeps only its earlier positions).
  absl::StatusOr<LlmResult> Forward(const LlmInput& input, const LlmOutputs& outputs,
                                    KvCache* cache, const LlmControl& control = {}) const;

  // Greedy decoding: the prompt, then up to max_new tokens (stops after an end-of-generation
  // token). Returns the new tokens.
  absl::StatusOr<std::vector<int32_t>> Generate(const std::vector<int32_t>& prompt, int64_t max_new,
                                                const LlmControl& control = {}) const;

 private:
  LlmModel() = default;
  absl::Status CheckInput(const LlmInput& input, const LlmOutputs& outputs,
                          const KvCache& cache) const;

  kernels::Device device_;
  std::unique_ptr<GgufFile> file_;
  std::unique_ptr<TensorSource> tensors_;  // the weights' bytes on the CPU
  LlmConfig config_;
  LlmWeights weights_;
  std::unique_ptr<Tokenizer> tokenizer_;
};

}  // namespace recsys::llm
