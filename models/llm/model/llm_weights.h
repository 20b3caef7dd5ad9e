// The parameters of a decoder-only model, read by llama.cpp's tensor names (from a GGUF or an
// export, tensor_source.h)
// (token_embd, blk.N.attn_q, ..., output_norm, output, rope_freqs) with their shapes checked
// against the hyper-parameters. The matrices are used in place on the CPU (weight_matrix.h:
// memory is the file's) and expanded to fp32 on CUDA; the vectors (norms, biases, rope
// factors) are small and always expanded to fp32. Errors name the tensor.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "models/common/device_tensor.h"
#include "models/llm/gguf/gguf_file.h"
#include "models/llm/model/llm_config.h"
#include "models/llm/model/tensor_source.h"
#include "models/llm/model/weight_matrix.h"
#include "recsys/kernels/context.h"

namespace recsys::llm {

struct LlmLayerWeights {
  models::Weights attn_norm;
  WeightMatrix q, k, v, o;                 // q [heads * d, hidden] ... as torch's [out, in]
  models::Weights q_bias, k_bias, v_bias;  // qwen2
  models::Weights ffn_norm;
  WeightMatrix gate, up, down;
};

struct LlmWeights {
  static absl::StatusOr<LlmWeights> Load(const TensorSource& source, const LlmConfig& config,
                                         const kernels::Device& device);

  // The matrices' bytes are the source's: it must outlive the weights.
  WeightMatrix embed;  // [vocab, hidden]
  models::Weights output_norm;
  WeightMatrix output;           // [vocab, hidden]; empty when tied to embed
  models::Weights rope_factors;  // [head_dim / 2] when the file has rope_freqs
  std::vector<LlmLayerWeights> layers;
  int64_t mapped_bytes = 0;    // matrices used in place (the file's pages)
  int64_t expanded_bytes = 0;  // fp32 copies: vectors, and every matrix on CUDA
};

}  // namespace recsys::llm
