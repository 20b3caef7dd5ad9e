// C = alpha * op(A) * op(B) + beta * C, fp32 (OpenBLAS sgemm on the CPU, cuBLAS on CUDA).
#pragma once

#include <cstdint>

#include "absl/status/status.h"
#include "recsys/kernels/context.h"

namespace recsys::kernels {

struct GemmParams {
  // op(A) is [m, k], op(B) is [k, n], C is [m, n]; all row-major.
  bool transpose_a = false;  // A stored as [k, m] and used transposed
  bool transpose_b = false;  // B stored as [n, k] and used transposed
  int64_t m = 0, n = 0, k = 0;
  float alpha = 1.0f;
  const float* a = nullptr;
  int64_t lda = 0;  // row stride of A as stored; 0 = dense (k, or m when transposed)
  const float* b = nullptr;
  int64_t ldb = 0;  // 0 = dense (n, or k when transposed)
  float beta = 0.0f;
  float* c = nullptr;  // with beta == 0 its prior contents are ignored (may be NaN)
  int64_t ldc = 0;     // 0 = n
};

absl::Status Gemm(const Device& device, const GemmParams& params);

// `batch` independent GEMMs; matrix i starts at a + i * stride_a (likewise b, c).
// A stride of 0 broadcasts one matrix to every batch entry (not allowed for c).
struct BatchedGemmParams {
  GemmParams gemm;
  int64_t batch = 0;
  int64_t stride_a = 0, stride_b = 0, stride_c = 0;
};

absl::Status BatchedGemm(const Device& device, const BatchedGemmParams& params);

}  // namespace recsys::kernels
