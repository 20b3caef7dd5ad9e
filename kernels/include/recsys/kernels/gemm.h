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

// 16-bit floating-point inputs, stored as their bit patterns.
enum class HalfType {
  kFloat16,   // IEEE binary16
  kBFloat16,  // bfloat16 (the top half of an fp32)
};

// C (fp32) = alpha * op(A) * op(B) + beta * C with A and B in fp16 or bf16, products
// accumulated in fp32 (cuBLAS GemmEx with fp32 compute on CUDA; on the CPU the inputs are
// widened to fp32 and multiplied with sgemm, which is the same arithmetic).
struct MixedGemmParams {
  GemmParams shape;  // everything but shape.a and shape.b, which must stay null
  HalfType type = HalfType::kBFloat16;
  const uint16_t* a = nullptr;
  const uint16_t* b = nullptr;
};

absl::Status MixedGemm(const Device& device, const MixedGemmParams& params);

// Round-to-nearest-even conversions between fp32 and the 16-bit types (host side).
uint16_t FloatToHalf(float x, HalfType type);
float HalfToFloat(uint16_t bits, HalfType type);

}  // namespace recsys::kernels
