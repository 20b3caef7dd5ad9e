// ICR attention mass on CUDA, in the same two passes as the CPU path:
//   1. one block per (query row, head): running max and normaliser of that row's logits;
//   2. one thread per key: the probability each (row, head) puts on it, summed over heads and
//      averaged over the rows, written straight to mass (no [q_len, kv_len] matrix).
#include <cuda_runtime.h>

#include "absl/strings/str_cat.h"
#include "kernels/cuda/cuda_common.cuh"
#include "kernels/cuda/cuda_ops.h"

namespace recsys::kernels::cuda {
namespace {

constexpr int kStatsThreads = 256;
constexpr int kMassThreads = 128;

struct Plan {
  AttentionMassParams p;
  int64_t group;
  float scale;
  float* row_max;  // [q_len, num_heads]
  float* row_sum;
};

__device__ __forceinline__ float Logit(const Plan& plan, const float* q, int64_t t, int64_t g) {
  const AttentionMassParams& p = plan.p;
  const float* k = p.k + (t * p.num_kv_heads + g) * p.head_dim;
  float dot = 0.0f;
  for (int64_t e = 0; e < p.head_dim; ++e) dot += q[e] * k[e];
  return dot * plan.scale;
}

// Merges two (max, sum of exp(x - max)) pairs.
__device__ __forceinline__ void Merge(float& m, float& s, float m2, float s2) {
  const float m_new = fmaxf(m, m2);
  if (m_new == kNegInf) return;
  s = s * expf(m - m_new) + s2 * expf(m2 - m_new);
  m = m_new;
}

__global__ void __launch_bounds__(kStatsThreads) RowStatsKernel(Plan plan) {
  __shared__ float shared_m[32], shared_s[32];
  const AttentionMassParams& p = plan.p;
  const int64_t i = blockIdx.x / p.num_heads, h = blockIdx.x % p.num_heads;
  const float* q = p.q + (i * p.num_heads + h) * p.head_dim;
  const int64_t visible = p.q_position + i + 1;
  float m = kNegInf, s = 0.0f;
  for (int64_t t = threadIdx.x; t < visible; t += blockDim.x) {
    Merge(m, s, Logit(plan, q, t, h / plan.group), 1.0f);
  }
  for (int offset = 16; offset > 0; offset >>= 1) {
    const float m2 = __shfl_xor_sync(0xffffffffu, m, offset);
    const float s2 = __shfl_xor_sync(0xffffffffu, s, offset);
    Merge(m, s, m2, s2);
  }
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) {
    shared_m[warp] = m;
    shared_s[warp] = s;
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    for (int w = 1; w < static_cast<int>(blockDim.x >> 5); ++w) Merge(m, s, shared_m[w], shared_s[w]);
    plan.row_max[blockIdx.x] = m;
    plan.row_sum[blockIdx.x] = s;
  }
}

__global__ void __launch_bounds__(kMassThreads) MassKernel(Plan plan) {
  const AttentionMassParams& p = plan.p;
  const int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (t >= p.kv_len) return;
  // Query i sees key t when t <= q_position + i.
  const int64_t first_row = t > p.q_position ? t - p.q_position : 0;
  float total = 0.0f;
  for (int64_t h = 0; h < p.num_heads; ++h) {
    for (int64_t i = first_row; i < p.q_len; ++i) {
      const int64_t row = i * p.num_heads + h;
      const float logit = Logit(plan, p.q + row * p.head_dim, t, h / plan.group);
      total += expf(logit - plan.row_max[row]) / plan.row_sum[row];
    }
  }
  total /= static_cast<float>(p.q_len);
  p.mass[t] = p.accumulate ? p.mass[t] + total : total;
}

absl::Status LaunchPasses(const Plan& plan, int64_t rows, cudaStream_t stream) {
  constexpr char kOp[] = "AttentionMass";
  RowStatsKernel<<<static_cast<unsigned>(rows), kStatsThreads, 0, stream>>>(plan);
  RECSYS_RETURN_IF_ERROR(CheckLaunch(kOp));
  const int64_t blocks = (plan.p.kv_len + kMassThreads - 1) / kMassThreads;
  MassKernel<<<static_cast<unsigned>(blocks), kMassThreads, 0, stream>>>(plan);
  return CheckLaunch(kOp);
}

}  // namespace

absl::Status AttentionMass(const Device& device, const AttentionMassParams& p) {
  constexpr char kOp[] = "AttentionMass";
  RECSYS_KERNEL_CUDA_USE(kOp, device);
  RECSYS_RETURN_IF_ERROR(
      CheckDevicePointers(kOp, device, {{"q", p.q}, {"k", p.k}, {"mass", p.mass}}));
  if (p.kv_len == 0) return absl::OkStatus();
  cudaStream_t stream = StreamOf(device);
  if (p.q_len == 0) {
    if (!p.accumulate) {
      RECSYS_CUDA_RETURN_IF_ERROR(kOp,
                                  cudaMemsetAsync(p.mass, 0, sizeof(float) * p.kv_len, stream));
    }
    return absl::OkStatus();
  }
  const int64_t rows = p.q_len * p.num_heads;
  if (rows > 0x7fffffff) {
    return absl::InvalidArgumentError(
        absl::StrCat(kOp, ": q_len * num_heads (", rows, ") exceeds the CUDA grid limit"));
  }
  Plan plan;
  plan.p = p;
  plan.group = p.num_heads / p.num_kv_heads;
  plan.scale = p.scale > 0 ? p.scale : 1.0f / sqrtf(static_cast<float>(p.head_dim));
  void* stats = nullptr;
  RECSYS_CUDA_RETURN_IF_ERROR(kOp, cudaMallocAsync(&stats, sizeof(float) * 2 * rows, stream));
  plan.row_max = static_cast<float*>(stats);
  plan.row_sum = plan.row_max + rows;
  const absl::Status launched = LaunchPasses(plan, rows, stream);
  RECSYS_CUDA_RETURN_IF_ERROR(kOp, cudaFreeAsync(stats, stream));
  return launched;
}

}  // namespace recsys::kernels::cuda
