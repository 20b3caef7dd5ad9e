// Fused scaled-dot-product attention (multi-head and grouped-query), computed tile by tile
// with an online softmax so the [q_len, kv_len] score matrix is never materialised.
//
//   out[b, i, h] = sum_j softmax_j(scale * q[b,i,h] . k[b,j,g(h)] + bias[b,h,i,j] + mask)
//   v[b,j,g(h)] out[b, i, h] *= sigmoid(gate[b, i, h])           (optional output gate)
//
// where g(h) = h / (num_heads / num_kv_heads) is the KV head shared by a group of query heads.
// A query row whose every key is masked gets an all-zero output (never NaN).
#pragma once

#include <cstdint>

#include "absl/status/status.h"
#include "recsys/kernels/context.h"

namespace recsys::kernels {

enum class AttentionMask {
  // Every query sees every (unpadded) key: BERT4Rec, encoders.
  kBidirectional,
  // Query i sees keys j <= i + (kv_len - q_len): queries are the last q_len positions of the
  // key sequence (prefill when q_len == kv_len, decode when q_len == 1).
  kCausal,
  // SETRec's set mask (reference/algorithms.md §4.4): causal, and tokens that share a set id
  // >= 0 do not see each other, only themselves. Tokens with set id < 0 are ordinary causal
  // tokens. Needs q_len == kv_len and set_ids.
  kCausalSets,
};

struct AttentionParams {
  const float* q = nullptr;  // [batch, q_len, num_heads, head_dim]
  const float* k = nullptr;  // [batch, kv_len, num_kv_heads, head_dim]
  const float* v = nullptr;  // [batch, kv_len, num_kv_heads, head_dim]
  float* out = nullptr;      // [batch, q_len, num_heads, head_dim]
  int64_t batch = 0, q_len = 0, kv_len = 0;
  int64_t num_heads = 0, num_kv_heads = 0, head_dim = 0;  // num_heads % num_kv_heads == 0
  // Logit scale; 0 = 1 / sqrt(head_dim).
  float scale = 0.0f;
  AttentionMask mask = AttentionMask::kBidirectional;
  // Key padding: key_valid[b * kv_len + j] != 0 keeps key j of batch entry b. Null = all keep.
  const uint8_t* key_valid = nullptr;
  // For kCausalSets: set id of every position, [batch, kv_len].
  const int32_t* set_ids = nullptr;
  // Optional additive bias on the logits (T5 relative positions, ALiBi, custom masks), read as
  // bias[b * bias_batch_stride + h * bias_head_stride + i * kv_len + j]; a stride of 0
  // broadcasts over that dimension. -inf entries mask.
  const float* bias = nullptr;
  int64_t bias_batch_stride = 0, bias_head_stride = 0;
  // Optional output gate logits, [batch, q_len, num_heads, gate_dim] with gate_dim 1 (one
  // gate per head) or head_dim (elementwise): out *= sigmoid(gate).
  const float* gate = nullptr;
  int64_t gate_dim = 0;
};

absl::Status Attention(const Device& device, const AttentionParams& params);

}  // namespace recsys::kernels
