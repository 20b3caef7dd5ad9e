// Row-wise normalisations, softmax, activations and RoPE. Row ops give each row to one warp
// (rows are short in these models: 50-4096 columns), elementwise ops use grid-stride loops.
#include <cuda_runtime.h>

#include "kernels/cuda/cuda_common.cuh"
#include "kernels/cuda/cuda_ops.h"

namespace recsys::kernels::cuda {
namespace {

constexpr int kRowThreads = 256;  // 8 rows per block
constexpr int kRowsPerBlock = kRowThreads / 32;
constexpr int kMapThreads = 256;

unsigned RowGrid(int64_t rows) { return GridFor(rows, kRowsPerBlock); }

// Yields the rows of this warp in a grid-stride loop.
#define RECSYS_FOR_WARP_ROWS(row, rows)                                                   \
  for (int64_t row = static_cast<int64_t>(blockIdx.x) * kRowsPerBlock + (threadIdx.x >> 5); \
       row < (rows); row += static_cast<int64_t>(gridDim.x) * kRowsPerBlock)

__device__ __forceinline__ double WarpSumDouble(double v) {
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

// Statistics in double, as on the CPU: an fp32 sum loses the mean when |mean| is large
// against the spread, and an fp32 sum of squares overflows for |x| beyond ~1e19. Two passes
// (mean, then the spread around it) keep the variance free of cancellation.
__global__ void LayerNormKernel(LayerNormParams p) {
  const int lane = threadIdx.x & 31;
  RECSYS_FOR_WARP_ROWS(r, p.rows) {
    const float* x = p.x + r * p.cols;
    float* y = p.y + r * p.cols;
    double sum = 0.0;
    for (int64_t j = lane; j < p.cols; j += 32) sum += x[j];
    const double mean = WarpSumDouble(sum) / static_cast<double>(p.cols);
    double sq = 0.0;
    for (int64_t j = lane; j < p.cols; j += 32) {
      const double d = x[j] - mean;
      sq += d * d;
    }
    const double rstd = rsqrt(WarpSumDouble(sq) / static_cast<double>(p.cols) + p.eps);
    // Each lane writes only the elements it read, so y == x is safe.
    for (int64_t j = lane; j < p.cols; j += 32) {
      const float v = static_cast<float>((x[j] - mean) * rstd) * p.gamma[j];
      y[j] = p.beta != nullptr ? v + p.beta[j] : v;
    }
  }
}

__global__ void RmsNormKernel(RmsNormParams p) {
  const int lane = threadIdx.x & 31;
  RECSYS_FOR_WARP_ROWS(r, p.rows) {
    const float* x = p.x + r * p.cols;
    float* y = p.y + r * p.cols;
    double sq = 0.0;
    for (int64_t j = lane; j < p.cols; j += 32) sq += static_cast<double>(x[j]) * x[j];
    const float rstd =
        static_cast<float>(rsqrt(WarpSumDouble(sq) / static_cast<double>(p.cols) + p.eps));
    for (int64_t j = lane; j < p.cols; j += 32) y[j] = x[j] * rstd * p.gamma[j];
  }
}

__global__ void SoftmaxKernel(SoftmaxParams p) {
  const int lane = threadIdx.x & 31;
  RECSYS_FOR_WARP_ROWS(r, p.rows) {
    const float* x = p.x + r * p.cols;
    float* y = p.y + r * p.cols;
    float max = kNegInf;
    for (int64_t j = lane; j < p.cols; j += 32) max = fmaxf(max, x[j]);
    max = WarpMax(max);
    if (max == kNegInf) {  // every entry masked: zeros, not NaN
      for (int64_t j = lane; j < p.cols; j += 32) y[j] = 0.0f;
      continue;
    }
    float sum = 0.0f;
    for (int64_t j = lane; j < p.cols; j += 32) {
      const float e = x[j] == max ? 1.0f : expf(x[j] - max);
      y[j] = e;
      sum += e;
    }
    const float inv = 1.0f / WarpSum(sum);
    for (int64_t j = lane; j < p.cols; j += 32) y[j] *= inv;
  }
}

__device__ __forceinline__ float Apply(Activation activation, float v) {
  switch (activation) {
    case Activation::kRelu:
      return v < 0.0f ? 0.0f : v;  // NaN propagates, as torch.relu
    case Activation::kGeluErf:
      return 0.5f * v * erfcf(-v * 0.70710678118654752440f);
    case Activation::kGeluTanh: {
      const float u = 0.79788456080286535588f * (v + 0.044715f * v * v * v);
      return v * SigmoidF(2.0f * u);
    }
    case Activation::kSilu:
      return v * SigmoidF(v);
    case Activation::kSigmoid:
    default:
      return SigmoidF(v);
  }
}

__global__ void ActivateKernel(Activation activation, const float* x, float* y, int64_t n) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    y[i] = Apply(activation, x[i]);
  }
}

__global__ void SwiGluKernel(const float* gate, const float* up, float* out, int64_t n) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const float g = gate[i];
    out[i] = g * SigmoidF(g) * up[i];
  }
}

// One thread per rotated pair. The angle is formed in double, as on the CPU: positions reach
// 10^4-10^5 and an fp32 angle would lose the low bits that matter for sin/cos.
__global__ void RopeKernel(RopeParams p) {
  const int64_t half = p.head_dim / 2;
  const int64_t pairs = p.tokens * p.heads * half;
  const int64_t step = p.interleaved ? 2 : 1;
  const int64_t hi_offset = p.interleaved ? 1 : half;
  for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < pairs;
       idx += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t i = idx % half;
    const int64_t th = idx / half;  // token * heads + head
    const int64_t t = th / p.heads;
    double inv_freq = pow(static_cast<double>(p.theta), -2.0 * static_cast<double>(i) / p.head_dim);
    if (p.freq_factors != nullptr) inv_freq /= static_cast<double>(p.freq_factors[i]);
    double s, c;
    sincos(static_cast<double>(p.positions[t]) * inv_freq, &s, &c);
    const float cos_t = static_cast<float>(c), sin_t = static_cast<float>(s);
    float* v = p.x + th * p.head_dim;
    const float x0 = v[i * step], x1 = v[i * step + hi_offset];
    v[i * step] = x0 * cos_t - x1 * sin_t;
    v[i * step + hi_offset] = x1 * cos_t + x0 * sin_t;
  }
}

}  // namespace

absl::Status LayerNorm(const Device& device, const LayerNormParams& p) {
  constexpr char kOp[] = "LayerNorm";
  RECSYS_KERNEL_CUDA_USE(kOp, device);
  RECSYS_RETURN_IF_ERROR(CheckDevicePointers(
      kOp, device, {{"x", p.x}, {"gamma", p.gamma}, {"beta", p.beta}, {"y", p.y}}));
  LayerNormKernel<<<RowGrid(p.rows), kRowThreads, 0, StreamOf(device)>>>(p);
  return CheckLaunch(kOp);
}

absl::Status RmsNorm(const Device& device, const RmsNormParams& p) {
  constexpr char kOp[] = "RmsNorm";
  RECSYS_KERNEL_CUDA_USE(kOp, device);
  RECSYS_RETURN_IF_ERROR(
      CheckDevicePointers(kOp, device, {{"x", p.x}, {"gamma", p.gamma}, {"y", p.y}}));
  RmsNormKernel<<<RowGrid(p.rows), kRowThreads, 0, StreamOf(device)>>>(p);
  return CheckLaunch(kOp);
}

absl::Status Softmax(const Device& device, const SoftmaxParams& p) {
  constexpr char kOp[] = "Softmax";
  RECSYS_KERNEL_CUDA_USE(kOp, device);
  RECSYS_RETURN_IF_ERROR(CheckDevicePointers(kOp, device, {{"x", p.x}, {"y", p.y}}));
  SoftmaxKernel<<<RowGrid(p.rows), kRowThreads, 0, StreamOf(device)>>>(p);
  return CheckLaunch(kOp);
}

absl::Status Activate(const Device& device, Activation activation, const float* x, float* y,
                      int64_t n) {
  constexpr char kOp[] = "Activate";
  RECSYS_KERNEL_CUDA_USE(kOp, device);
  RECSYS_RETURN_IF_ERROR(CheckDevicePointers(kOp, device, {{"x", x}, {"y", y}}));
  ActivateKernel<<<GridFor(n, kMapThreads), kMapThreads, 0, StreamOf(device)>>>(activation, x,
                                                                                  y, n);
  return CheckLaunch(kOp);
}

absl::Status SwiGlu(const Device& device, const float* gate, const float* up, float* out,
                    int64_t n) {
  constexpr char kOp[] = "SwiGlu";
  RECSYS_KERNEL_CUDA_USE(kOp, device);
  RECSYS_RETURN_IF_ERROR(
      CheckDevicePointers(kOp, device, {{"gate", gate}, {"up", up}, {"out", out}}));
  SwiGluKernel<<<GridFor(n, kMapThreads), kMapThreads, 0, StreamOf(device)>>>(gate, up, out, n);
  return CheckLaunch(kOp);
}

absl::Status Rope(const Device& device, const RopeParams& p) {
  constexpr char kOp[] = "Rope";
  RECSYS_KERNEL_CUDA_USE(kOp, device);
  RECSYS_RETURN_IF_ERROR(CheckDevicePointers(
      kOp, device, {{"x", p.x}, {"positions", p.positions}, {"freq_factors", p.freq_factors}}));
  const int64_t pairs = p.tokens * p.heads * (p.head_dim / 2);
  RopeKernel<<<GridFor(pairs, kMapThreads), kMapThreads, 0, StreamOf(device)>>>(p);
  return CheckLaunch(kOp);
}

}  // namespace recsys::kernels::cuda
