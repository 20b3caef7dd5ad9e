// Row gathers and broadcasts: the small steps between a model's GEMMs, normalisations and
// attention (embedding lookups, bias and residual adds, zeroing padded rows), so that a whole
// forward pass stays in one device's memory.
#pragma once

#include <cstdint>

#include "absl/status/status.h"
#include "recsys/kernels/context.h"

namespace recsys::kernels {

// out[i, :] = table[ids[i], :] * scale (+ add[add_ids[i], :] when add is set) for i < n.
// An embedding lookup (with torch.nn.Embedding's row layout), optionally scaled and summed with
// a second lookup (a position table). ids live in device memory: the CPU path returns
// INVALID_ARGUMENT for an id outside [0, table_rows) (or [0, add_rows)); the CUDA kernel
// cannot report one without a copy back, so it writes zeros for that row instead of reading
// out of bounds. Callers validate ids on the host before uploading them.
struct GatherRowsParams {
  const float* table = nullptr;  // [table_rows, cols]
  int64_t table_rows = 0;
  const int64_t* ids = nullptr;  // [n]
  float scale = 1.0f;
  const float* add = nullptr;        // [add_rows, cols] or null
  int64_t add_rows = 0;
  const int64_t* add_ids = nullptr;  // [n] when add is set
  float* out = nullptr;              // [n, cols]
  int64_t n = 0, cols = 0;
};
absl::Status GatherRows(const Device& device, const GatherRowsParams& params);

// x[r, :] += bias for every row r < rows (torch.nn.Linear's bias after the GEMM).
absl::Status AddBias(const Device& device, float* x, const float* bias, int64_t rows,
                     int64_t cols);

// x[i] += y[i] for i < n (a residual connection). y may equal x.
absl::Status AddInPlace(const Device& device, float* x, const float* y, int64_t n);

// Sets row r of x to zeros where keep[r] == 0 (padded positions), rows < rows.
absl::Status ZeroRows(const Device& device, float* x, const uint8_t* keep, int64_t rows,
                      int64_t cols);

}  // namespace recsys::kernels
