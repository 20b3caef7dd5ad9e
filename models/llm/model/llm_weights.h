// The parameters of a decoder-only model, read by llama.cpp's tensor names (from a GGUF or an
// export, tensor_source.h)
// (token_embd, blk.N.attn_q, ..., output_norm, output, rope_freqs) with their shapes checked
// against the hyper-parameters. Every type is expanded to fp32 at load (dequantize.h), so the
// forward pass runs on the kernels' fp32 GEMM: memory is 4 bytes per weight whatever the file's
// type (a Q4_K file grows about 7x, F16 2x). Errors name the tensor.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "models/common/device_tensor.h"
#include "models/llm/gguf/gguf_file.h"
#include "models/llm/model/llm_config.h"
#include "models/llm/model/tensor_source.h"
#include "recsys/kernels/context.h"

namespace recsys::llm {

struct LlmLayerWeights {
  models::Weights attn_norm, q, k, v, o;   // q [heads * d, hidden] ... as torch's [out, in]
  models::Weights q_bias, k_bias, v_bias;  // qwen2
  models::Weights ffn_norm, gate, up, down;
};

struct LlmWeights {
  static absl::StatusOr<LlmWeights> Load(const TensorSource& source, const LlmConfig& config,
                                         const kernels::Device& device);

  models::Weights embed;  // [vocab, hidden]
  models::Weights output_norm;
  models::Weights output;        // [vocab, hidden]; empty when tied to embed
  models::Weights rope_factors;  // [head_dim / 2] when the file has rope_freqs
  std::vector<LlmLayerWeights> layers;
  int64_t floats = 0;  // expanded parameters held
};

}  // namespace recsys::llm
