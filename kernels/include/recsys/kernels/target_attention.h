// Target attention with top-K selection over a long behaviour history (DARE / TWIN search,
// reference/algorithms.md §1.3), for C candidates of one user against L behaviours:
//
//   s[c, j]  = scale0 * <q[c, :split], k[j, :split]> + scale1 * <q[c, split:], k[j, split:]>
//   S_c      = the top_k positions j with key_valid[j] by s[c, j] (ties: lower j first)
//   w[c, j]  = softmax over S_c of s[c, j]
//   out[c]   = sum_{j in S_c} w[c, j] * values[j]
//
// Queries and keys are the *attention* embeddings, values the *representation* embeddings
// (their dims may differ; value_dim 0 = the search alone, for callers that sum their own
// values from `selected` and `weights`). A NaN or -inf score is never selected (a candidate
// with fewer than top_k finite scores gets -1 padding). Memory stays O(C*K + L*d): scores are
// produced block by block and reduced into per-candidate K-best buffers, never as a [C, L]
// matrix.
#pragma once

#include <cstdint>

#include "absl/status/status.h"
#include "recsys/kernels/context.h"

namespace recsys::kernels {

struct TargetAttentionParams {
  const float* queries = nullptr;  // [num_candidates, att_dim]
  const float* keys = nullptr;     // [history_len, att_dim]
  const float* values = nullptr;   // [history_len, value_dim]
  int64_t num_candidates = 0, history_len = 0, att_dim = 0, value_dim = 0;
  // Two-part score: dims [0, split_dim) scaled by scale0, [split_dim, att_dim) by scale1.
  // split_dim 0 = one part over all dims with scale0. A scale of 0 means 1/sqrt(part dims).
  int64_t split_dim = 0;
  float scale0 = 0.0f, scale1 = 0.0f;
  // key_valid[j] != 0 keeps behaviour j; null = all valid. Masked positions are never
  // selected, so a history shorter than top_k selects only real behaviours.
  const uint8_t* key_valid = nullptr;
  int64_t top_k = 0;  // >= 1

  float* out = nullptr;         // [num_candidates, value_dim]
  int64_t* selected = nullptr;  // [num_candidates, top_k] positions, best first; -1 pads
  float* weights = nullptr;     // [num_candidates, top_k] softmax weights; 0 pads
  float* scores = nullptr;      // optional [num_candidates, top_k] raw scores; -inf pads
};

absl::Status TargetAttentionTopK(const Device& device, const TargetAttentionParams& params);

}  // namespace recsys::kernels
