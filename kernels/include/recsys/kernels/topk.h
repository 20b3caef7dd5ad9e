// Catalogue top-K: scores = users . items^T for a batch of users against a catalogue of up to
// ~10^6 items, keeping the K best per user, with per-user excluded item rows. The [batch,
// num_items] score matrix is produced in blocks and reduced on the fly.
#pragma once

#include <cstdint>

#include "absl/status/status.h"
#include "recsys/kernels/context.h"

namespace recsys::kernels {

struct CatalogTopKParams {
  const float* users = nullptr;  // [batch, dim]
  const float* items = nullptr;  // [num_items, dim]
  int64_t batch = 0, num_items = 0, dim = 0;
  int64_t k = 0;  // >= 1; more than the eligible items pads with id -1 and score -inf
  // Optional per-item additive bias [num_items] (e.g. an output-layer bias).
  const float* item_bias = nullptr;
  // Excluded item rows in CSR form: user b excludes exclude_ids[exclude_offsets[b] ..
  // exclude_offsets[b + 1]). Both null = nothing excluded. Ids outside [0, num_items) are
  // ignored.
  const int64_t* exclude_offsets = nullptr;  // [batch + 1]
  const int64_t* exclude_ids = nullptr;
  // Results, best first; ties go to the lower item row.
  int64_t* out_ids = nullptr;   // [batch, k]
  float* out_scores = nullptr;  // [batch, k]
};

absl::Status CatalogTopK(const Device& device, const CatalogTopKParams& params);

}  // namespace recsys::kernels
