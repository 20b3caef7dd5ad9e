// Fused attention on CUDA. A block owns kWarps consecutive query rows of one (batch, head);
// each warp owns one row. Keys stream through shared memory kTile at a time; inside a tile
// lane j scores key j, the warp folds the tile into an online softmax (running max m, sum l)
// and accumulates P V into per-lane registers (lane owns dims lane, lane + 32, ...). Scratch
// is one K tile per block: the [q_len, kv_len] matrix never exists.
#include <cuda_runtime.h>

#include "absl/strings/str_cat.h"
#include "kernels/cuda/cuda_common.cuh"
#include "kernels/cuda/cuda_ops.h"

namespace recsys::kernels::cuda {
namespace {

constexpr int kWarps = 8;
constexpr int kTile = 32;  // keys per tile: one per lane
constexpr int kDimsPerLane = static_cast<int>(kMaxHeadDim / 32);

struct Plan {
  AttentionParams p;
  int64_t group;    // query heads per KV head
  int64_t offset;   // causal: query i sees keys j <= i + offset
  int64_t row_blocks;  // blocks per (batch, head)
  int pitch;        // floats per key row in shared memory (odd: no bank conflicts)
  bool causal, sets;
  float scale;
};

__device__ __forceinline__ bool Visible(const Plan& plan, int64_t b, int64_t i, int64_t j) {
  const AttentionParams& p = plan.p;
  if (plan.causal && j > i + plan.offset) return false;
  if (p.key_valid != nullptr && p.key_valid[b * p.kv_len + j] == 0) return false;
  if (plan.sets) {
    const int32_t* ids = p.set_ids + b * p.kv_len;
    if (ids[i] >= 0 && ids[j] == ids[i] && j != i) return false;
  }
  return true;
}

__global__ void __launch_bounds__(kWarps * 32) AttentionKernel(Plan plan) {
  extern __shared__ float shared[];
  const AttentionParams& p = plan.p;
  const int d = static_cast<int>(p.head_dim);
  float* k_tile = shared;                      // [kTile, pitch]
  float* q_rows = shared + kTile * plan.pitch;  // [kWarps, d], scaled
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int64_t bh = blockIdx.x / plan.row_blocks;
  const int64_t b = bh / p.num_heads, h = bh % p.num_heads, g = h / plan.group;
  const int64_t i0 = (blockIdx.x % plan.row_blocks) * kWarps;
  const int64_t i = i0 + warp;
  const bool active = i < p.q_len;
  const int64_t kv_stride = p.num_kv_heads * p.head_dim;

  float* q = q_rows + warp * d;
  if (active) {
    const float* q_src = p.q + ((b * p.q_len + i) * p.num_heads + h) * p.head_dim;
    for (int e = lane; e < d; e += 32) q[e] = q_src[e] * plan.scale;
  }
  float acc[kDimsPerLane];
#pragma unroll
  for (int r = 0; r < kDimsPerLane; ++r) acc[r] = 0.0f;
  float m = kNegInf, l = 0.0f;

  // Under causality no row of this block sees keys past its last row's limit.
  const int64_t last_row = min(i0 + kWarps, p.q_len) - 1;
  const int64_t key_end = plan.causal ? min(p.kv_len, last_row + plan.offset + 1) : p.kv_len;
  const float* k_base = p.k + b * p.kv_len * kv_stride + g * p.head_dim;
  const float* v_base = p.v + b * p.kv_len * kv_stride + g * p.head_dim;
  for (int64_t j0 = 0; j0 < key_end; j0 += kTile) {
    const int n = key_end - j0 < kTile ? static_cast<int>(key_end - j0) : kTile;
    __syncthreads();  // the previous tile is no longer read
    for (int idx = threadIdx.x; idx < n * d; idx += blockDim.x) {
      const int jj = idx / d, e = idx % d;
      k_tile[jj * plan.pitch + e] = k_base[(j0 + jj) * kv_stride + e];
    }
    __syncthreads();
    if (!active) continue;
    const int64_t j = j0 + lane;
    float s = kNegInf;
    if (lane < n && Visible(plan, b, i, j)) {
      const float* k = k_tile + lane * plan.pitch;
      float dot = 0.0f;
      for (int e = 0; e < d; ++e) dot += q[e] * k[e];
      if (p.bias != nullptr) {
        dot += p.bias[b * p.bias_batch_stride + h * p.bias_head_stride + i * p.kv_len + j];
      }
      s = dot;
    }
    const float tile_max = WarpMax(s);
    if (tile_max == kNegInf) continue;  // nothing visible in this tile (warp-uniform)
    const float m_new = fmaxf(m, tile_max);
    const float alpha = expf(m - m_new);  // 0 on the first visible tile (m = -inf)
    const float prob = s == kNegInf ? 0.0f : expf(s - m_new);
    l = l * alpha + WarpSum(prob);
    m = m_new;
#pragma unroll
    for (int r = 0; r < kDimsPerLane; ++r) acc[r] *= alpha;
    for (int jj = 0; jj < n; ++jj) {
      const float pj = __shfl_sync(0xffffffffu, prob, jj);
      if (pj == 0.0f) continue;  // uniform across the warp
      const float* v = v_base + (j0 + jj) * kv_stride;
#pragma unroll
      for (int r = 0; r < kDimsPerLane; ++r) {
        const int e = lane + 32 * r;
        if (e < d) acc[r] += pj * v[e];
      }
    }
  }
  if (!active) return;
  const int64_t row = (b * p.q_len + i) * p.num_heads + h;
  float* out = p.out + row * p.head_dim;
  const float inv = l > 0.0f ? 1.0f / l : 0.0f;  // fully masked rows: zeros
#pragma unroll
  for (int r = 0; r < kDimsPerLane; ++r) {
    const int e = lane + 32 * r;
    if (e >= d) continue;
    float o = acc[r] * inv;
    if (p.gate != nullptr && l > 0.0f) {
      o *= SigmoidF(p.gate[row * p.gate_dim + (p.gate_dim == 1 ? 0 : e)]);
    }
    out[e] = o;
  }
}

}  // namespace

absl::Status Attention(const Device& device, const AttentionParams& p) {
  constexpr char kOp[] = "Attention";
  if (p.head_dim > kMaxHeadDim) {
    return absl::InvalidArgumentError(absl::StrCat(
        kOp, ": head_dim (", p.head_dim, ") exceeds the CUDA kernel's limit of ", kMaxHeadDim));
  }
  RECSYS_KERNEL_CUDA_USE(kOp, device);
  RECSYS_RETURN_IF_ERROR(CheckDevicePointers(kOp, device,
                                             {{"q", p.q},
                                              {"k", p.k},
                                              {"v", p.v},
                                              {"out", p.out},
                                              {"key_valid", p.key_valid},
                                              {"set_ids", p.set_ids},
                                              {"bias", p.bias},
                                              {"gate", p.gate}}));
  Plan plan;
  plan.p = p;
  plan.group = p.num_heads / p.num_kv_heads;
  plan.offset = p.kv_len - p.q_len;
  plan.row_blocks = (p.q_len + kWarps - 1) / kWarps;
  plan.pitch = static_cast<int>(p.head_dim | 1);
  plan.causal = p.mask != AttentionMask::kBidirectional;
  plan.sets = p.mask == AttentionMask::kCausalSets;
  plan.scale = p.scale > 0.0f ? p.scale : 1.0f / sqrtf(static_cast<float>(p.head_dim));
  const int64_t blocks = p.batch * p.num_heads * plan.row_blocks;
  if (blocks > 0x7fffffff) {
    return absl::InvalidArgumentError(
        absl::StrCat(kOp, ": batch * num_heads * ceil(q_len / ", kWarps, ") (", blocks,
                     ") exceeds the CUDA grid limit"));
  }
  const size_t smem = sizeof(float) * (kTile * plan.pitch + kWarps * p.head_dim);
  AttentionKernel<<<static_cast<unsigned>(blocks), kWarps * 32, smem, StreamOf(device)>>>(plan);
  return CheckLaunch(kOp);
}

}  // namespace recsys::kernels::cuda
