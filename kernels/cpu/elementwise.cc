#include "recsys/kernels/elementwise.h"

#include <algorithm>
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

// Overflow-free logistic: exp() only sees -|x|, and the numerator is a select (1 or e), not
// a branch, so loops calling this vectorise.
RECSYS_VECTOR_INLINE float Sigmoid(float x) {
  const float e = internal::ExpNonPositive(-std::abs(x));
  return (x >= 0.0f ? 1.0f : e) / (1.0f + e);
}

RECSYS_VECTOR_INLINE float Silu(float x) { return x * Sigmoid(x); }

// erfc(z) for z >= 0: Numerical Recipes' Chebyshev fit (erfcc), fractional error < 1.2e-7 in
// exact arithmetic; ~1e-6 in fp32, mostly from rounding z^2 inside exp().
RECSYS_VECTOR_INLINE float ErfcNonNegative(float z) {
  const float t = 1.0f / (1.0f + 0.5f * z);
  float p = 0.17087277f;
  p = p * t - 0.82215223f;
  p = p * t + 1.48851587f;
  p = p * t - 1.13520398f;
  p = p * t + 0.27886807f;
  p = p * t - 0.18628806f;
  p = p * t + 0.09678418f;
  p = p * t + 0.37409196f;
  p = p * t + 1.00002368f;
  p = p * t - 1.26551223f;
  return t * internal::ExpNonPositive(p - z * z);  // z = inf: exp(-inf) = 0, no NaN
}

// 0.5 x (1 + erf(x / sqrt 2)) = max(x, 0) - 0.5 |x| erfc(|x| / sqrt 2): only erfc of a
// non-negative argument, so the negative tail keeps its relative accuracy (no 1 + erf
// cancellation), and no branch.
RECSYS_VECTOR_INLINE float GeluErf(float x) {
  constexpr float kInvSqrt2 = 0.70710678118654752440f;
  const float a = std::abs(x);
  return (0.5f * x + 0.5f * a) - 0.5f * a * ErfcNonNegative(a * kInvSqrt2);
}

// 0.5 x (1 + tanh(u)) == x * sigmoid(2u); the sigmoid form avoids the same cancellation.
RECSYS_VECTOR_INLINE float GeluTanh(float x) {
  constexpr float kSqrt2OverPi = 0.79788456080286535588f;
  const float u = kSqrt2OverPi * (x + 0.044715f * x * x * x);
  return x * Sigmoid(2.0f * u);
}

// Calls span(begin, length) over [0, n) in spans of 8192 elements (32 KiB of floats: the
// per-span dispatch costs nothing measurable), in parallel above kParallelThreshold.
template <typename Span>
void ForEachSpan(int64_t n, Span span) {
  constexpr int64_t kSpan = 8192;
  const int64_t spans = (n + kSpan - 1) / kSpan;
#pragma omp parallel for if (n > kParallelThreshold) schedule(static)
  for (int64_t s = 0; s < spans; ++s) span(s * kSpan, std::min(kSpan, n - s * kSpan));
}

// y[i] = f(x[i]) on one span, compiled for each RECSYS_VECTOR_CLONES instruction set. `omp
// simd` also tells GCC that y may equal x (in place) without a loop-carried dependence.
template <typename F>
RECSYS_VECTOR_CLONES void MapSpan(const float* x, float* y, int64_t n, F f) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = f(x[i]);
}

template <typename F>
void Map(const float* x, float* y, int64_t n, F f) {
  ForEachSpan(n, [&](int64_t i, int64_t len) { MapSpan(x + i, y + i, len, f); });
}

RECSYS_VECTOR_CLONES void SwiGluSpan(const float* gate, const float* up, float* out, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) out[i] = Silu(gate[i]) * up[i];
}

// Row statistics: fp32 lanes within blocks of this many elements (16 terms per lane, so the
// rounding stays ~1e-7 relative), blocks added in double.
constexpr int64_t kSumBlock = 16 * internal::kLanes;
// LayerNorm redoes a row's moments about its mean when (pivot - mean)^2 > this * variance:
// the fp32 sums about the pivot lose accuracy in proportion to that distance.
constexpr double kMaxPivotShift = 1.0;

// sum f(x[j]) over a row: internal::LaneSum per block, blocks added in double.
template <typename F>
RECSYS_VECTOR_INLINE double BlockedSum(const float* x, int64_t n, F f) {
  double sum = 0.0;
  for (int64_t j0 = 0; j0 < n; j0 += kSumBlock) {
    const float* xb = x + j0;
    sum += internal::LaneSum(std::min(kSumBlock, n - j0), [xb, f](int64_t j) { return f(xb[j]); });
  }
  return sum;
}

// Rows whose fp32 statistics overflow (|x| ~ 1e19) or whose eps is below fp32's resolution
// of tiny squares: the original all-double computation.
void LayerNormRowDouble(const float* x, const float* gamma, const float* beta, float* y,
                        int64_t cols, double eps) {
  double sum = 0.0;
  for (int64_t j = 0; j < cols; ++j) sum += x[j];
  const double mean = sum / static_cast<double>(cols);
  double sq = 0.0;
  for (int64_t j = 0; j < cols; ++j) sq += (x[j] - mean) * (x[j] - mean);
  const double rstd = 1.0 / std::sqrt(sq / static_cast<double>(cols) + eps);
  for (int64_t j = 0; j < cols; ++j) {
    y[j] = static_cast<float>((x[j] - mean) * rstd) * gamma[j] + (beta ? beta[j] : 0.0f);
  }
}

struct RowSums {
  double sum = 0.0, sum_sq = 0.0;
};

// Sums of d = (x - hi) - lo and of d^2 over a row: two internal::LaneSum fused, so the row
// is read once.
RECSYS_VECTOR_INLINE RowSums CenteredSums(const float* x, int64_t cols, float hi, float lo) {
  constexpr int kLanes = internal::kLanes;
  RowSums s;
  for (int64_t j0 = 0; j0 < cols; j0 += kSumBlock) {
    const float* xb = x + j0;
    const int64_t n = std::min(kSumBlock, cols - j0);
    auto dev = [xb, hi, lo](int64_t j) { return (xb[j] - hi) - lo; };
    if (n < kLanes) {
      float sum = 0.0f, sum_sq = 0.0f;
      for (int64_t j = 0; j < n; ++j) {
        sum += dev(j);
        sum_sq += dev(j) * dev(j);
      }
      s.sum += sum;
      s.sum_sq += sum_sq;
      continue;
    }
    float acc[kLanes], acc_sq[kLanes];
    for (int l = 0; l < kLanes; ++l) {
      acc[l] = dev(l);
      acc_sq[l] = dev(l) * dev(l);
    }
    int64_t j = kLanes;
    for (; j + kLanes <= n; j += kLanes) {
      for (int l = 0; l < kLanes; ++l) {
        const float d = dev(j + l);
        acc[l] += d;
        acc_sq[l] += d * d;
      }
    }
    if (j < n) {
      const int32_t counted = static_cast<int32_t>(kLanes - (n - j));
      for (int l = 0; l < kLanes; ++l) {
        const float d = dev(n - kLanes + l) * internal::TailWeight(l, counted);
        acc[l] += d;
        acc_sq[l] += d * d;
      }
    }
    s.sum += internal::FoldSum(acc);
    s.sum_sq += internal::FoldSum(acc_sq);
  }
  return s;
}

// One pass for both moments, about a pivot near the mean (that of the first few entries):
// fp32 sums of x - pivot stay accurate when |mean| >> spread, and var = E[d^2] - E[d]^2
// cancels by at most 1 + E[d]^2 / var. A row whose pivot lands far from its mean gets a
// second pass about the mean (the corrected two-pass algorithm). The mean is carried as a
// float pair hi + lo so x - mean keeps the precision of a double mean.
RECSYS_VECTOR_CLONES void LayerNormRow(const float* x, const float* gamma, const float* beta,
                                       float* y, int64_t cols, double eps) {
  float pivot = x[0];
  if (cols >= 8) {  // a pairwise sum keeps this off the critical path
    pivot = (((x[0] + x[1]) + (x[2] + x[3])) + ((x[4] + x[5]) + (x[6] + x[7]))) * 0.125f;
  }
  const double inv_cols = 1.0 / static_cast<double>(cols);
  RowSums s = CenteredSums(x, cols, pivot, 0.0f);
  double shift = s.sum * inv_cols;
  double var = s.sum_sq * inv_cols - shift * shift;
  double mean = pivot + shift;
  float mean_hi = static_cast<float>(mean);
  float mean_lo = static_cast<float>(mean - mean_hi);
  if (!(shift * shift <= kMaxPivotShift * var)) {  // also NaN / inf sums
    s = CenteredSums(x, cols, mean_hi, mean_lo);
    shift = s.sum * inv_cols;
    var = s.sum_sq * inv_cols - shift * shift;
    mean += shift;
    mean_hi = static_cast<float>(mean);
    mean_lo = static_cast<float>(mean - mean_hi);
  }
  if (!std::isfinite(var) || eps < 1e-30) {
    LayerNormRowDouble(x, gamma, beta, y, cols, eps);
    return;
  }
  const float rstd = static_cast<float>(1.0 / std::sqrt(std::max(var, 0.0) + eps));
  // The row is fully read above, so writing y (possibly == x) is safe.
  if (beta == nullptr) {
#pragma omp simd
    for (int64_t j = 0; j < cols; ++j) y[j] = ((x[j] - mean_hi) - mean_lo) * rstd * gamma[j];
  } else {
#pragma omp simd
    for (int64_t j = 0; j < cols; ++j) {
      y[j] = ((x[j] - mean_hi) - mean_lo) * rstd * gamma[j] + beta[j];
    }
  }
}

RECSYS_VECTOR_CLONES void RmsNormRow(const float* x, const float* gamma, float* y, int64_t cols,
                                     double eps) {
  double sq = BlockedSum(x, cols, [](float v) { return v * v; });
  if (!std::isfinite(sq) || eps < 1e-30) {  // fp32 squares overflow (|x| ~ 1e19): redo in double
    sq = 0.0;
    for (int64_t j = 0; j < cols; ++j) sq += static_cast<double>(x[j]) * x[j];
  }
  const float rstd = static_cast<float>(1.0 / std::sqrt(sq / static_cast<double>(cols) + eps));
#pragma omp simd
  for (int64_t j = 0; j < cols; ++j) y[j] = x[j] * rstd * gamma[j];
}

// Rows whose max is infinite: -inf means every entry is masked (zeros, never NaN); with +inf
// entries those share the whole mass, as the x == max limit of the distribution.
void SoftmaxRowInfinite(const float* x, float* y, int64_t cols, float max) {
  int64_t count = 0;
  for (int64_t j = 0; j < cols; ++j) count += x[j] == max ? 1 : 0;
  const float share = max > 0.0f ? 1.0f / static_cast<float>(count) : 0.0f;
  for (int64_t j = 0; j < cols; ++j) y[j] = x[j] == max ? share : 0.0f;
}

RECSYS_VECTOR_CLONES void SoftmaxRow(const float* x, float* y, int64_t cols) {
  constexpr float kInf = std::numeric_limits<float>::infinity();
  const float max = internal::LaneMax(x, cols);
  if (max == -kInf || max == kInf) {
    SoftmaxRowInfinite(x, y, cols, max);
    return;
  }
  // exp into y first, then sum y: the sum re-reads its ragged end, which must not see x
  // already overwritten in place.
#pragma omp simd
  for (int64_t j = 0; j < cols; ++j) y[j] = internal::ExpNonPositive(x[j] - max);  // -inf: 0
  const float inv = static_cast<float>(1.0 / BlockedSum(y, cols, [](float e) { return e; }));
#pragma omp simd
  for (int64_t j = 0; j < cols; ++j) y[j] *= inv;
}

void RopeCpu(const RopeParams& p) {
  const int64_t dim = p.head_dim;
  const int64_t half = dim / 2;
  std::vector<double> inv_freq(half);
  for (int64_t i = 0; i < half; ++i) {
    inv_freq[i] = std::pow(static_cast<double>(p.theta), -2.0 * i / static_cast<double>(dim));
    if (p.freq_factors != nullptr) inv_freq[i] /= static_cast<double>(p.freq_factors[i]);
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
  RECSYS_RETURN_IF_ERROR(CheckNonNegative(op, "rows", rows));
  RECSYS_RETURN_IF_ERROR(CheckNonNegative(op, "cols", cols));
  return CheckProduct(op, "rows * cols", {rows, cols}, n);
}

}  // namespace

absl::Status LayerNorm(const Device& device, const LayerNormParams& params) {
  constexpr const char* kOp = "LayerNorm";
  const LayerNormParams& p = params;
  int64_t n = 0;
  RECSYS_RETURN_IF_ERROR(CheckDevice(device));
  RECSYS_RETURN_IF_ERROR(CheckRowShape(kOp, p.rows, p.cols, &n));
  RECSYS_RETURN_IF_ERROR(CheckPointer(kOp, "x", p.x, n));
  RECSYS_RETURN_IF_ERROR(CheckPointer(kOp, "gamma", p.gamma, p.cols));
  RECSYS_RETURN_IF_ERROR(CheckPointer(kOp, "y", p.y, n));
  RECSYS_RETURN_IF_ERROR(CheckPositiveFinite(kOp, "eps", p.eps));
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
  RECSYS_RETURN_IF_ERROR(CheckDevice(device));
  RECSYS_RETURN_IF_ERROR(CheckRowShape(kOp, p.rows, p.cols, &n));
  RECSYS_RETURN_IF_ERROR(CheckPointer(kOp, "x", p.x, n));
  RECSYS_RETURN_IF_ERROR(CheckPointer(kOp, "gamma", p.gamma, p.cols));
  RECSYS_RETURN_IF_ERROR(CheckPointer(kOp, "y", p.y, n));
  RECSYS_RETURN_IF_ERROR(CheckPositiveFinite(kOp, "eps", p.eps));
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
  RECSYS_RETURN_IF_ERROR(CheckDevice(device));
  RECSYS_RETURN_IF_ERROR(CheckRowShape(kOp, p.rows, p.cols, &n));
  RECSYS_RETURN_IF_ERROR(CheckPointer(kOp, "x", p.x, n));
  RECSYS_RETURN_IF_ERROR(CheckPointer(kOp, "y", p.y, n));
  if (n == 0) return absl::OkStatus();
  if (device.backend == Backend::kCuda) return cuda::Softmax(device, p);
#pragma omp parallel for if (n > kParallelThreshold) schedule(static)
  for (int64_t r = 0; r < p.rows; ++r) SoftmaxRow(p.x + r * p.cols, p.y + r * p.cols, p.cols);
  return absl::OkStatus();
}

absl::Status Activate(const Device& device, Activation activation, const float* x, float* y,
                      int64_t n) {
  constexpr const char* kOp = "Activate";
  RECSYS_RETURN_IF_ERROR(CheckDevice(device));
  RECSYS_RETURN_IF_ERROR(CheckNonNegative(kOp, "n", n));
  RECSYS_RETURN_IF_ERROR(CheckPointer(kOp, "x", x, n));
  RECSYS_RETURN_IF_ERROR(CheckPointer(kOp, "y", y, n));
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
  RECSYS_RETURN_IF_ERROR(CheckDevice(device));
  RECSYS_RETURN_IF_ERROR(CheckNonNegative(kOp, "n", n));
  RECSYS_RETURN_IF_ERROR(CheckPointer(kOp, "gate", gate, n));
  RECSYS_RETURN_IF_ERROR(CheckPointer(kOp, "up", up, n));
  RECSYS_RETURN_IF_ERROR(CheckPointer(kOp, "out", out, n));
  if (n == 0) return absl::OkStatus();
  if (device.backend == Backend::kCuda) return cuda::SwiGlu(device, gate, up, out, n);
  // Element i reads gate[i] and up[i] before writing out[i], so aliasing either is safe.
  ForEachSpan(n, [&](int64_t i, int64_t len) { SwiGluSpan(gate + i, up + i, out + i, len); });
  return absl::OkStatus();
}

absl::Status Rope(const Device& device, const RopeParams& params) {
  constexpr const char* kOp = "Rope";
  const RopeParams& p = params;
  int64_t n = 0;
  RECSYS_RETURN_IF_ERROR(CheckDevice(device));
  RECSYS_RETURN_IF_ERROR(CheckNonNegative(kOp, "tokens", p.tokens));
  RECSYS_RETURN_IF_ERROR(CheckNonNegative(kOp, "heads", p.heads));
  RECSYS_RETURN_IF_ERROR(CheckNonNegative(kOp, "head_dim", p.head_dim));
  if (p.head_dim % 2 != 0) {
    return Invalid(kOp, "head_dim", absl::StrCat("(", p.head_dim, ") must be even"));
  }
  RECSYS_RETURN_IF_ERROR(
      CheckProduct(kOp, "tokens * heads * head_dim", {p.tokens, p.heads, p.head_dim}, &n));
  RECSYS_RETURN_IF_ERROR(CheckPointer(kOp, "x", p.x, n));
  RECSYS_RETURN_IF_ERROR(CheckPointer(kOp, "positions", p.positions, p.tokens));
  RECSYS_RETURN_IF_ERROR(CheckPositiveFinite(kOp, "theta", p.theta));
  if (p.freq_factors != nullptr) {
    RECSYS_RETURN_IF_ERROR(CheckPointer(kOp, "freq_factors", p.freq_factors, p.head_dim / 2));
  }
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
