// Attention mass per key position (ICR, reference/algorithms.md §5.2): for a span of query
// tokens and the keys of a long prompt,
//
//   mass[t] (+)= sum_h mean_i softmax_t(scale * q[i,h] . k[t,g(h)] + causal)
//
// computed in two passes over the keys (row max and sum, then accumulation per key) so the
// [q_len, kv_len] probability matrix is never materialised. With accumulate, results add to
// mass (sum over layers by calling once per layer).
#pragma once

#include <cstdint>

#include "absl/status/status.h"
#include "recsys/kernels/context.h"

namespace recsys::kernels {

struct AttentionMassParams {
  const float* q = nullptr;  // [q_len, num_heads, head_dim], post-RoPE
  const float* k = nullptr;  // [kv_len, num_kv_heads, head_dim], post-RoPE
  int64_t q_len = 0, kv_len = 0, num_heads = 0, num_kv_heads = 0, head_dim = 0;
  float scale = 0.0f;  // 0 = 1/sqrt(head_dim)
  // Position of the first query token in the key sequence: query i sees keys
  // t <= q_position + i (causal). q_position + q_len <= kv_len.
  int64_t q_position = 0;
  float* mass = nullptr;  // [kv_len]
  bool accumulate = false;
};

absl::Status AttentionMass(const Device& device, const AttentionMassParams& params);

}  // namespace recsys::kernels
