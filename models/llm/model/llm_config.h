// The hyper-parameters of a decoder-only model, from a GGUF's metadata ({arch}.block_count,
// {arch}.attention.head_count, ...), for the architectures the runtime runs: "llama" (Llama 2 /
// 3 / 3.x, Mistral-7B, TinyLlama; rope on interleaved pairs, as llama.cpp's converter permutes
// q and k) and "qwen2" (q / k / v biases, rope on rotate_half pairs).
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "models/llm/gguf/gguf_file.h"

namespace recsys::llm {

enum class LlmArch { kLlama, kQwen2 };

struct LlmConfig {
  static absl::StatusOr<LlmConfig> FromGguf(const GgufFile& file);
  // The project's export: config.json of architecture "llm" (recsys_train.llm.export), whose
  // weights are in Hugging Face layout (rope on rotate_half pairs for both architectures).
  static absl::StatusOr<LlmConfig> FromExport(const std::string& directory);

  LlmArch arch = LlmArch::kLlama;
  std::string arch_name;
  int64_t vocab_size = 0;
  int64_t hidden = 0;
  int64_t intermediate = 0;
  int64_t layers = 0;
  int64_t heads = 0;
  int64_t kv_heads = 0;
  int64_t head_dim = 0;
  int64_t context_length = 0;  // the training context (0 when the file does not say)
  float rope_theta = 10000.0f;
  float rms_eps = 1e-5f;
  bool rope_interleaved = true;    // llama: pairs (2i, 2i + 1); qwen2: (i, i + d/2)
  bool qkv_bias = false;           // qwen2
  bool tied_output = false;        // no output.weight: the token embeddings are the head
  bool rope_freq_factors = false;  // rope_freqs.weight present (Llama 3 scaling)
};

}  // namespace recsys::llm
