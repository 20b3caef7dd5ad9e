#include "recsys/kernels/elementwise.h"

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "kernels/cuda/cuda_ops.h"
#include "kernels/src/check.h"
#include "kernels/src/vector_math.h"

namespace recsys::kernels {
namespace {

using internal::CheckNonNegative;
using internal::CheckPointer;
using internal::Invalid;

// Below this many elements the OpenMP fork/join costs more than the work.
constexpr int64_t kParallelThreshold = 32768;

// rows * cols (or a longer product) without signed overflow; dims are already non-negative.
absl::Status CheckProduct(const char* op, const char* what, std::initializer_list<int64_t> dims,
                          int64_t* product) {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (__builtin_mul_overflow(n, d, &n)) return Invalid(op, what, "overflows int64");
  }
  *product = n;
  return absl::OkStatus();
}

absl::Status CheckPositiveFinite(const char* op, const char* field, float value) {
  if (!(value > 0.0f) || !std::isfinite(value)) {
    return Invalid(op, field, absl::StrCat("(", value, ") must be positive and finite"));
  }
  return absl::OkStatus();
}

// Overflow-free logistic: exp() only ever sees a non-positive argument.
inline float Sigmoid(float x) {
  if (x >= 0.0f) return 1.0f / (1.0f + std::exp(-x));
  const float e = std::exp(x);
  return e / (1.0f + e);
}

inline float Silu(float x) { return x * Sigmoid(x); }

// 0.5 x (1 + erf(x / sqrt 2)) written with erfc, which stays accurate for very negative x
// where 1 + erf(.) would cancel.
inline float GeluErf(float x) {
  constexpr float kInvSqrt2 = 0.70710678118654752440f;
  return 0.5f * x * std::erfc(-x * kInvSqrt2);
}

// 0.5 x (1 + tanh(u)) == x * sigmoid(2u); the sigmoid form avoids the same cancellation.
inline float GeluTanh(float x) {
  constexpr float kSqrt2OverPi = 0.79788456080286535588f;
  const float u = kSqrt2OverPi * (x + 0.044715f * x * x * x);
  return x * Sigmoid(2.0f * u);
}

template <typename F>
void Map(const float* x, float* y, int64_t n, F f) {
#pragma omp parallel for if (n > kParallelThreshold) schedule(static)
  for (int64_t i = 0; i < n; ++i) y[i] = f(x[i]);
}

// Statistics in double: fp32 sums lose the mean when |x| is large relative to its spread.
void LayerNormRow(const float* x, const float* gamma, const float* beta, float* y, int64_t cols,
                  double eps) {
  double sum = 0.0;
  for (int64_t j = 0; j < cols; ++j) sum += x[j];
  const double mean = sum / static_cast<double>(cols);
  double sq = 0.0;
  for (int64_t j = 0; j < cols; ++j) {
    const double d = x[j] - mean;
    sq += d * d;
  }
  const double rstd = 1.0 / std::sqrt(sq / static_cast<double>(cols) + eps);
  // The row is fully read above, so writing y (possibly == x) is safe.
  if (beta == nullptr) {
    for (int64_t j = 0; j < cols; ++j) y[j] = static_cast<float>((x[j] - mean) * rstd) * gamma[j];
  } else {
    for (int64_t j = 0; j < cols; ++j) {
      y[j] = static_cast<float>((x[j] - mean) * rstd) * gamma[j] + beta[j];
    }
  }
}

void RmsNormRow(const float* x, const float* gamma, float* y, int64_t cols, double eps) {
  double sq = 0.0;
  for (int64_t j = 0; j < cols; ++j) sq += static_cast<double>(x[j]) * x[j];
  const float rstd = static_cast<float>(1.0 / std::sqrt(sq / static_cast<double>(cols) + eps));
  for (int64_t j = 0; j < cols; ++j) y[j] = x[j] * rstd * gamma[j];
}

RECSYS_VECTOR_CLONES void SoftmaxRow(const float* x, float* y, int64_t cols) {
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  float max = kNegInf;
  for (int64_t j = 0; j < cols; ++j) max = std::fmax(max, x[j]);
  if (max == kNegInf) {  // every entry masked: no distribution, emit zeros rather than NaN
    for (int64_t j = 0; j < cols; ++j) y[j] = 0.0f;
    return;
  }
  double sum = 0.0;
#pragma omp simd reduction(+ : sum)
  for (int64_t j = 0; j < cols; ++j) {
    // x == max short-circuits +inf - +inf; -inf entries give exp(-inf) == 0.
    const float e = x[j] == max ? 1.0f : internal::ExpNonPositive(x[j] - max);
    y[j] = e;
    sum += e;
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (int64_t j = 0; j < cols; ++j) y[j] *= inv;
}

void RopeCpu(const RopeParams& p) {
  const int64_t dim = p.head_dim;
  const int64_t half = dim / 2;
  std::vector<double> inv_freq(half);
  for (int64_t i = 0; i < half; ++i) {
    inv_freq[i] = std::pow(static_cast<double>(p.theta), -2.0 * i / static_cast<double>(dim));
  }
  // Pair i is (lo + i * step, hi + i * step) in either layout.
  const int64_t step = p.interleaved ? 2 : 1;
  const int64_t hi_offset = p.interleaved ? 1 : half;
  const bool parallel = p.tokens * p.heads * dim > kParallelThreshold;
#pragma omp parallel if (parallel)
  {
    std::vector<float> cos_t(half), sin_t(half);
#pragma omp for schedule(static)
    for (int64_t t = 0; t < p.tokens; ++t) {
      const double pos = static_cast<double>(p.positions[t]);
      for (int64_t i = 0; i < half; ++i) {
        const double angle = pos * inv_freq[i];
        cos_t[i] = static_cast<float>(std::cos(angle));
        sin_t[i] = static_cast<float>(std::sin(angle));
      }
      for (int64_t h = 0; h < p.heads; ++h) {
        float* v = p.x + (t * p.heads + h) * dim;
        for (int64_t i = 0; i < half; ++i) {
          float& a = v[i * step];
          float& b = v[i * step + hi_offset];
          const float x0 = a, x1 = b;
          a = x0 * cos_t[i] - x1 * sin_t[i];
          b = x1 * cos_t[i] + x0 * sin_t[i];
        }
      }
    }
  }
}

// Shared checks for the [rows, cols] row-wise ops; *n receives rows * cols.
absl::Status CheckRowShape(const char* op, int64_t rows, int64_t cols, int64_t* n) {
  RECSYS_KERNEL_RETURN_IF_ERROR(CheckNonNegative(op, "rows", rows));
  RECSYS_KERNEL_RETURN_IF_ERROR(CheckNonNegative(op, "cols", cols));
  return CheckProduct(op, "rows * cols", {rows, cols}, n);
}

}  // namespace

absl::Status LayerNorm(const Device& device, const LayerNormParams& params) {
  constexpr const char* kOp = "LayerNorm";
  const LayerNormParams& p = params;
  int64_t n = 0;
  RECSYS_KERNEL_RETURN_IF_ERROR(CheckDevice(device));
  RECSYS_KERNEL_RETURN_IF_ERROR(CheckRowShape(kOp, p.rows, p.cols, &n));
  RECSYS_KERNEL_RETURN_IF_ERROR(CheckPointer(kOp, "x", p.x, n));
  RECSYS_KERNEL_RETURN_IF_ERROR(CheckPointer(kOp, "gamma", p.gamma, p.cols));
  RECSYS_KERNEL_RETURN_IF_ERROR(CheckPointer(kOp, "y", p.y, n));
  RECSYS_KERNEL_RETURN_IF_ERROR(CheckPositiveFinite(kOp, "eps", p.eps));
  if (n == 0) return absl::OkStatus();
  if (device.backend == Backend::kCuda) return cuda::LayerNorm(device, p);
#pragma omp parallel for if (n > kParallelThreshold) schedule(static)
  for (int64_t r = 0; r < p.rows; ++r) {
    LayerNormRow(p.x + r * p.cols, p.gamma, p.beta, p.y + r * p.cols, p.cols, p.eps);
  }
  return absl::OkStatus();
}

absl::Status RmsNorm(const Device& device, const RmsNormParams& params) {
  constexpr const char* kOp = "RmsNorm";
  const RmsNormParams& p = params;
  int64_t n = 0;
  RECSYS_KERNEL_RETURN_IF_ERROR(CheckDevice(device));
  RECSYS_KERNEL_RETURN_IF_ERROR(CheckRowShape(kOp, p.rows, p.cols, &n));
  RECSYS_KERNEL_RETURN_IF_ERROR(CheckPointer(kOp, "x", p.x, n));
  RECSYS_KERNEL_RETURN_IF_ERROR(CheckPointer(kOp, "gamma", p.gamma, p.cols));
  RECSYS_KERNEL_RETURN_IF_ERROR(CheckPointer(kOp, "y", p.y, n));
  RECSYS_KERNEL_RETURN_IF_ERROR(CheckPositiveFinite(kOp, "eps", p.eps));
  if (n == 0) return absl::OkStatus();
  if (device.backend == Backend::kCuda) return cuda::RmsNorm(device, p);
#pragma omp parallel for if (n > kParallelThreshold) schedule(static)
  for (int64_t r = 0; r < p.rows; ++r) {
    RmsNormRow(p.x + r * p.cols, p.gamma, p.y + r * p.cols, p.cols, p.eps);
  }
  return absl::OkStatus();
}

absl::Status Softmax(const Device& device, const SoftmaxParams& params) {
  constexpr const char* kOp = "Softmax";
  const SoftmaxParams& p = params;
  int64_t n = 0;
  RECSYS_KERNEL_RETURN_IF_ERROR(CheckDevice(device));
  RECSYS_KERNEL_RETURN_IF_ERROR(CheckRowShape(kOp, p.rows, p.cols, &n));
  RECSYS_KERNEL_RETURN_IF_ERROR(CheckPointer(kOp, "x", p.x, n));
  RECSYS_KERNEL_RETURN_IF_ERROR(CheckPointer(kOp, "y", p.y, n));
  if (n == 0) return absl::OkStatus();
  if (device.backend == Backend::kCuda) return cuda::Softmax(device, p);
#pragma omp parallel for if (n > kParallelThreshold) schedule(static)
  for (int64_t r = 0; r < p.rows; ++r) SoftmaxRow(p.x + r * p.cols, p.y + r * p.cols, p.cols);
  return absl::OkStatus();
}

absl::Status Activate(const Device& device, Activation activation, const float* x, float* y,
                      int64_t n) {
  constexpr const char* kOp = "Activate";
  RECSYS_KERNEL_RETURN_IF_ERROR(CheckDevice(device));
  RECSYS_KERNEL_RETURN_IF_ERROR(CheckNonNegative(kOp, "n", n));
  RECSYS_KERNEL_RETURN_IF_ERROR(CheckPointer(kOp, "x", x, n));
  RECSYS_KERNEL_RETURN_IF_ERROR(CheckPointer(kOp, "y", y, n));
  if (activation < Activation::kRelu || activation > Activation::kSigmoid) {
    return Invalid(kOp, "activation",
                   absl::StrCat("(", static_cast<int>(activation), ") is not an Activation"));
  }
  if (n == 0) return absl::OkStatus();
  if (device.backend == Backend::kCuda) return cuda::Activate(device, activation, x, y, n);
  switch (activation) {
    // `x < 0 ? 0 : x` rather than max() so NaN propagates, as torch.relu does.
    case Activation::kRelu:
      Map(x, y, n, [](float v) { return v < 0.0f ? 0.0f : v; });
      break;
    case Activation::kGeluErf:
      Map(x, y, n, [](float v) { return GeluErf(v); });
      break;
    case Activation::kGeluTanh:
      Map(x, y, n, [](float v) { return GeluTanh(v); });
      break;
    case Activation::kSilu:
      Map(x, y, n, [](float v) { return Silu(v); });
      break;
    case Activation::kSigmoid:
      Map(x, y, n, [](float v) { return Sigmoid(v); });
      break;
    default:
      return Invalid(kOp, "activation",
                     absl::StrCat("(", static_cast<int>(activation), ") is not an Activation"));
  }
  return absl::OkStatus();
}

absl::Status SwiGlu(const Device& device, const float* gate, const float* up, float* out,
                    int64_t n) {
  constexpr const char* kOp = "SwiGlu";
  RECSYS_KERNEL_RETURN_IF_ERROR(CheckDevice(device));
  RECSYS_KERNEL_RETURN_IF_ERROR(CheckNonNegative(kOp, "n", n));
  RECSYS_KERNEL_RETURN_IF_ERROR(CheckPointer(kOp, "gate", gate, n));
  RECSYS_KERNEL_RETURN_IF_ERROR(CheckPointer(kOp, "up", up, n));
  RECSYS_KERNEL_RETURN_IF_ERROR(CheckPointer(kOp, "out", out, n));
  if (n == 0) return absl::OkStatus();
  if (device.backend == Backend::kCuda) return cuda::SwiGlu(device, gate, up, out, n);
  // Element i reads gate[i] and up[i] before writing out[i], so aliasing either is safe.
#pragma omp parallel for if (n > kParallelThreshold) schedule(static)
  for (int64_t i = 0; i < n; ++i) out[i] = Silu(gate[i]) * up[i];
  return absl::OkStatus();
}

absl::Status Rope(const Device& device, const RopeParams& params) {
  constexpr const char* kOp = "Rope";
  const RopeParams& p = params;
  int64_t n = 0;
  RECSYS_KERNEL_RETURN_IF_ERROR(CheckDevice(device));
  RECSYS_KERNEL_RETURN_IF_ERROR(CheckNonNegative(kOp, "tokens", p.tokens));
  RECSYS_KERNEL_RETURN_IF_ERROR(CheckNonNegative(kOp, "heads", p.heads));
  RECSYS_KERNEL_RETURN_IF_ERROR(CheckNonNegative(kOp, "head_dim", p.head_dim));
  if (p.head_dim % 2 != 0) {
    return Invalid(kOp, "head_dim", absl::StrCat("(", p.head_dim, ") must be even"));
  }
  RECSYS_KERNEL_RETURN_IF_ERROR(
      CheckProduct(kOp, "tokens * heads * head_dim", {p.tokens, p.heads, p.head_dim}, &n));
  RECSYS_KERNEL_RETURN_IF_ERROR(CheckPointer(kOp, "x", p.x, n));
  RECSYS_KERNEL_RETURN_IF_ERROR(CheckPointer(kOp, "positions", p.positions, p.tokens));
  RECSYS_KERNEL_RETURN_IF_ERROR(CheckPositiveFinite(kOp, "theta", p.theta));
  if (n == 0) return absl::OkStatus();
  // Device positions are not read back to be checked: a negative one rotates backwards.
  if (device.backend == Backend::kCuda) return cuda::Rope(device, p);
  for (int64_t t = 0; t < p.tokens; ++t) {
    if (p.positions[t] < 0) {
      return Invalid(kOp, absl::StrCat("positions[", t, "]").c_str(),
                     absl::StrCat("(", p.positions[t], ") must be >= 0"));
    }
  }
  if (n == 0) return absl::OkStatus();
  RopeCpu(p);
  return absl::OkStatus();
}

}  // namespace recsys::kernels
