// fp16/bf16-input GEMM. On the CPU the inputs are widened to fp32 and multiplied by sgemm:
// every fp16/bf16 value is exact in fp32, so this is the fp32-accumulation result the CUDA
// path (cuBLAS GemmEx, fp32 compute) approximates, and serves as its test oracle.
#include <cstdint>
#include <cstring>
#include <vector>

#include "absl/status/status.h"
#include "kernels/cuda/cuda_ops.h"
#include "kernels/src/check.h"
#include "recsys/kernels/gemm.h"

namespace recsys::kernels {
namespace {

constexpr char kOp[] = "MixedGemm";

// The stored rows x cols matrix (row stride ld) widened to a dense fp32 copy.
std::vector<float> Widen(const uint16_t* x, int64_t rows, int64_t cols, int64_t ld, HalfType type) {
  std::vector<float> out(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) out[r * cols + c] = HalfToFloat(x[r * ld + c], type);
  }
  return out;
}

}  // namespace

uint16_t FloatToHalf(float x, HalfType type) {
  if (type == HalfType::kFloat16) {
    const _Float16 h = static_cast<_Float16>(x);  // round to nearest even
    uint16_t bits;
    std::memcpy(&bits, &h, sizeof(bits));
    return bits;
  }
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof(bits));
  if ((bits & 0x7fffffffu) > 0x7f800000u)
    return static_cast<uint16_t>((bits >> 16) | 0x40u);  // NaN
  bits += 0x7fffu + ((bits >> 16) & 1u);                 // round to nearest even
  return static_cast<uint16_t>(bits >> 16);
}

float HalfToFloat(uint16_t bits, HalfType type) {
  if (type == HalfType::kFloat16) {
    _Float16 h;
    std::memcpy(&h, &bits, sizeof(h));
    return static_cast<float>(h);
  }
  const uint32_t wide = static_cast<uint32_t>(bits) << 16;
  float x;
  std::memcpy(&x, &wide, sizeof(x));
  return x;
}

absl::Status MixedGemm(const Device& device, const MixedGemmParams& params) {
  RECSYS_RETURN_IF_ERROR(CheckDevice(device));
  const GemmParams& s = params.shape;
  if (s.a != nullptr || s.b != nullptr) {
    return internal::Invalid(kOp, "shape.a/shape.b", "must be null: pass the inputs in a and b");
  }
  if (params.type != HalfType::kFloat16 && params.type != HalfType::kBFloat16) {
    return internal::Invalid(kOp, "type", "is not a HalfType");
  }
  // Gemm's checks, on an fp32 twin whose a and b stand in for the 16-bit inputs (their
  // presence is all that is checked; nothing reads them as floats).
  GemmParams twin = s;
  twin.a = reinterpret_cast<const float*>(params.a);
  twin.b = reinterpret_cast<const float*>(params.b);
  RECSYS_RETURN_IF_ERROR(internal::CheckGemmShape(kOp, twin, &twin));
  if (s.m == 0 || s.n == 0) return absl::OkStatus();
  if (device.backend == Backend::kCuda) {
    MixedGemmParams resolved = params;
    resolved.shape = twin;
    resolved.shape.a = nullptr;
    resolved.shape.b = nullptr;
    return cuda::MixedGemm(device, resolved);
  }
  const int64_t a_rows = s.transpose_a ? s.k : s.m, a_cols = s.transpose_a ? s.m : s.k;
  const int64_t b_rows = s.transpose_b ? s.n : s.k, b_cols = s.transpose_b ? s.k : s.n;
  const std::vector<float> a = Widen(params.a, a_rows, a_cols, twin.lda, params.type);
  const std::vector<float> b = Widen(params.b, b_rows, b_cols, twin.ldb, params.type);
  GemmParams wide = twin;
  wide.a = a.data();
  wide.lda = a_cols;
  wide.b = b.data();
  wide.ldb = b_cols;
  return Gemm(Device::Cpu(), wide);
}

}  // namespace recsys::kernels
