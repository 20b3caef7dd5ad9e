// Exact top-K of one row of scores by one thread block, shared by target attention and the
// catalogue top-K. The row lives in global memory (scores of one candidate against 10^5
// behaviours, or one user against 10^6 items), so selection is a radix select on the
// order-preserving integer image of each score (four 8-bit digit passes, histograms in shared
// memory) followed by a gather and a rank sort of the K winners. Ties go to the lower
// position, as on the CPU. Rows have at most kMaxTopKRow entries (int positions).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/cuda/cuda_common.cuh"
#include "kernels/cuda/cuda_ops.h"

namespace recsys::kernels::cuda {

constexpr int kTopKThreads = 256;
constexpr int kMaxTopKShared = static_cast<int>(kMaxTopK);

struct TopKShared {
  unsigned histogram[256];
  float score[kMaxTopKShared];
  int position[kMaxTopKShared];
  float sorted_score[kMaxTopKShared];
  int sorted_position[kMaxTopKShared];
  unsigned prefix, remaining;  // radix select state
  int eligible, count, taken;  // totals and gather cursors
  int warp_counts[kTopKThreads / 32];
};

// Larger float <-> larger key; -0 and +0 map to the same key.
__device__ __forceinline__ unsigned OrderedKey(float s) {
  if (s == 0.0f) s = 0.0f;
  const unsigned bits = __float_as_uint(s);
  return (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
}

// Reads score j of the row: row[j] (+ bias[j]). Not eligible when valid[j] == 0 or
// excluded[j] != 0; a NaN score is either not eligible or ranks as -inf (nan_is_lowest),
// matching what the CPU path of each op does.
struct RowView {
  const float* row;
  const float* bias;        // optional, per position
  const uint8_t* valid;     // optional, per position
  const uint8_t* excluded;  // optional, per position
  int n;
  bool nan_is_lowest;
  __device__ __forceinline__ bool Get(int j, float* s) const {
    if (valid != nullptr && valid[j] == 0) return false;
    if (excluded != nullptr && excluded[j] != 0) return false;
    float v = row[j];
    if (bias != nullptr) v += bias[j];
    if (isnan(v)) {
      if (!nan_is_lowest) return false;
      v = kNegInf;
    }
    *s = v;
    return true;
  }
};

// Selects the min(k, eligible) best positions of the row into sh.sorted_* (best first) and
// returns that count. k <= kMaxTopKShared. Every thread of the block must call it.
__device__ inline int BlockTopK(const RowView& row, int k, TopKShared& sh) {
  const int tid = threadIdx.x;
  if (tid == 0) {
    sh.prefix = 0;
    sh.eligible = 0;
  }
  unsigned mask = 0;
  for (int shift = 24; shift >= 0; shift -= 8) {
    for (int b = tid; b < 256; b += blockDim.x) sh.histogram[b] = 0;
    __syncthreads();
    const unsigned prefix = sh.prefix;
    for (int j = tid; j < row.n; j += blockDim.x) {
      float s;
      if (!row.Get(j, &s)) continue;
      const unsigned key = OrderedKey(s);
      if ((key & mask) == prefix) atomicAdd(&sh.histogram[(key >> shift) & 255u], 1u);
    }
    __syncthreads();
    if (tid == 0) {
      if (shift == 24) {  // the first pass sees every eligible score
        unsigned total = 0;
        for (int b = 0; b < 256; ++b) total += sh.histogram[b];
        sh.eligible = static_cast<int>(total);
        sh.remaining = static_cast<unsigned>(min(k, sh.eligible));
      }
      // Walk digits from the top until the bucket holding the remaining-th best.
      unsigned above = 0;
      int digit = 255;
      for (; digit > 0; --digit) {
        if (above + sh.histogram[digit] >= sh.remaining) break;
        above += sh.histogram[digit];
      }
      sh.prefix |= static_cast<unsigned>(digit) << shift;
      sh.remaining -= above;
    }
    mask |= 255u << shift;
    __syncthreads();
  }
  const int selected = min(k, sh.eligible);
  if (selected == 0) return 0;
  // sh.prefix is now the key of the selected-th best score; sh.remaining of the scores equal
  // to it make the cut. Gather everything strictly better first (order does not matter).
  const unsigned threshold = sh.prefix;
  if (tid == 0) sh.count = 0;
  __syncthreads();
  for (int j = tid; j < row.n; j += blockDim.x) {
    float s;
    if (row.Get(j, &s) && OrderedKey(s) > threshold) {
      const int slot = atomicAdd(&sh.count, 1);
      sh.score[slot] = s;
      sh.position[slot] = j;
    }
  }
  __syncthreads();
  // Then the ties, lowest positions first: a block-wide ordered scan over the row.
  const int lane = tid & 31, warp = tid >> 5, warps = blockDim.x >> 5;
  const int needed = static_cast<int>(sh.remaining);
  const int base = sh.count;
  if (tid == 0) sh.taken = 0;
  __syncthreads();
  for (int j0 = 0; j0 < row.n; j0 += blockDim.x) {
    const int taken = sh.taken;
    if (taken >= needed) break;  // block-uniform: read after the barrier below
    const int j = j0 + tid;
    float s = 0.0f;
    const bool tie = j < row.n && row.Get(j, &s) && OrderedKey(s) == threshold;
    const unsigned ballot = __ballot_sync(0xffffffffu, tie);
    if (lane == 0) sh.warp_counts[warp] = __popc(ballot);
    __syncthreads();
    int rank = taken + __popc(ballot & ((1u << lane) - 1u));
    for (int w = 0; w < warp; ++w) rank += sh.warp_counts[w];
    if (tie && rank < needed) {
      sh.score[base + rank] = s;
      sh.position[base + rank] = j;
    }
    __syncthreads();
    if (tid == 0) {
      int total = 0;
      for (int w = 0; w < warps; ++w) total += sh.warp_counts[w];
      sh.taken = taken + total;
    }
    __syncthreads();
  }
  // Rank sort: the position of each winner is the number of winners better than it.
  for (int a = tid; a < selected; a += blockDim.x) {
    const float sa = sh.score[a];
    const int pa = sh.position[a];
    int rank = 0;
    for (int b = 0; b < selected; ++b) {
      const float sb = sh.score[b];
      rank += (sb > sa || (sb == sa && sh.position[b] < pa)) ? 1 : 0;
    }
    sh.sorted_score[rank] = sa;
    sh.sorted_position[rank] = pa;
  }
  __syncthreads();
  return selected;
}

}  // namespace recsys::kernels::cuda
