// DARE target attention on CUDA: queries pre-scaled per part (so one dot product gives the
// two-part score), a chunk of candidates scored against the whole history with one cuBLAS
// GEMM, then one block per candidate selects its top-K (block_topk.cuh), softmaxes them and
// sums their value rows. Scratch is [chunk, L] with chunk * L capped at kScratchScores, so
// memory stays O(L) however many candidates come, never O(C * L).
#include <cuda_runtime.h>

#include <algorithm>
#include <climits>

#include "absl/strings/str_cat.h"
#include "kernels/cuda/block_topk.cuh"
#include "kernels/cuda/cuda_common.cuh"
#include "kernels/cuda/cuda_ops.h"

namespace recsys::kernels::cuda {
namespace {

constexpr int64_t kScratchScores = int64_t{1} << 24;  // 64 MiB of fp32 scores

__global__ void ScaleQueriesKernel(const float* queries, float* scaled, int64_t rows,
                                   int64_t dim, int64_t split, float scale0, float scale1) {
  const int64_t n = rows * dim;
  for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < n;
       idx += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    scaled[idx] = queries[idx] * (idx % dim < split ? scale0 : scale1);
  }
}

// One block per candidate of the chunk starting at c0.
__global__ void __launch_bounds__(kTopKThreads)
    SelectAndAggregateKernel(TargetAttentionParams p, const float* scores, int64_t c0) {
  __shared__ TopKShared sh;
  __shared__ float reduce[32];
  const int64_t c = c0 + blockIdx.x;
  // As on the CPU, a NaN score is never selected.
  const RowView row{scores + blockIdx.x * p.history_len, nullptr, p.key_valid, nullptr,
                    static_cast<int>(p.history_len), /*nan_is_lowest=*/false};
  const int k = static_cast<int>(p.top_k);
  int selected = BlockTopK(row, k, sh);
  // As on the CPU, a -inf score is never selected either: winners are sorted best first, so
  // any -inf ones are the tail (every thread reads the same shared list after the barrier).
  while (selected > 0 && sh.sorted_score[selected - 1] == kNegInf) --selected;
  // Softmax over the winners (sorted: the first is the max).
  float part = 0.0f;
  for (int r = threadIdx.x; r < selected; r += blockDim.x) {
    part += expf(sh.sorted_score[r] - sh.sorted_score[0]);
  }
  const float total = BlockSum(part, reduce);
  for (int r = threadIdx.x; r < k; r += blockDim.x) {
    const bool real = r < selected;
    const float weight = real ? expf(sh.sorted_score[r] - sh.sorted_score[0]) / total : 0.0f;
    p.selected[c * k + r] = real ? sh.sorted_position[r] : -1;
    p.weights[c * k + r] = weight;
    sh.score[r] = weight;  // the unsorted copy is spent: reuse it as the weight table
    if (p.scores != nullptr) p.scores[c * k + r] = real ? sh.sorted_score[r] : kNegInf;
  }
  __syncthreads();
  for (int64_t e = threadIdx.x; e < p.value_dim; e += blockDim.x) {
    float sum = 0.0f;
    for (int r = 0; r < selected; ++r) {
      sum += sh.score[r] * p.values[static_cast<int64_t>(sh.sorted_position[r]) * p.value_dim + e];
    }
    p.out[c * p.value_dim + e] = sum;
  }
}

// Scales the queries into scratch, then per chunk of candidates: one GEMM for the scores and
// one block per candidate for selection and aggregation.
absl::Status ScoreAndSelect(const Device& device, const TargetAttentionParams& p, int64_t chunk,
                            int64_t split, float scale0, float scale1, float* scratch) {
  constexpr char kOp[] = "TargetAttentionTopK";
  cudaStream_t stream = StreamOf(device);
  float* scaled = scratch;
  float* scores = scaled + p.num_candidates * p.att_dim;
  if (p.att_dim > 0) {
    ScaleQueriesKernel<<<GridFor(p.num_candidates * p.att_dim, 256), 256, 0, stream>>>(
        p.queries, scaled, p.num_candidates, p.att_dim, split, scale0, scale1);
    RECSYS_RETURN_IF_ERROR(CheckLaunch(kOp));
  }
  for (int64_t c0 = 0; c0 < p.num_candidates; c0 += chunk) {
    const int64_t rows = std::min(chunk, p.num_candidates - c0);
    if (p.history_len > 0) {
      // scores[rows, L] = scaled[c0 : c0 + rows] . keys^T (att_dim 0 gives zeros via beta 0).
      GemmParams gemm;
      gemm.transpose_b = true;
      gemm.m = rows;
      gemm.n = p.history_len;
      gemm.k = p.att_dim;
      gemm.a = scaled + c0 * p.att_dim;
      gemm.lda = std::max<int64_t>(1, p.att_dim);
      gemm.b = p.keys;
      gemm.ldb = std::max<int64_t>(1, p.att_dim);
      gemm.c = scores;
      gemm.ldc = p.history_len;
      RECSYS_RETURN_IF_ERROR(cuda::Gemm(device, gemm));
    }
    SelectAndAggregateKernel<<<static_cast<unsigned>(rows), kTopKThreads, 0, stream>>>(p, scores,
                                                                                      c0);
    RECSYS_RETURN_IF_ERROR(CheckLaunch(kOp));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status TargetAttentionTopK(const Device& device, const TargetAttentionParams& p) {
  constexpr char kOp[] = "TargetAttentionTopK";
  if (p.top_k > kMaxTopK) {
    return absl::InvalidArgumentError(absl::StrCat(
        kOp, ": top_k (", p.top_k, ") exceeds the CUDA kernel's limit of ", kMaxTopK));
  }
  if (p.history_len > kMaxTopKRow) {
    return absl::InvalidArgumentError(absl::StrCat(kOp, ": history_len (", p.history_len,
                                                   ") exceeds the CUDA kernel's limit of ",
                                                   kMaxTopKRow));
  }
  RECSYS_KERNEL_CUDA_USE(kOp, device);
  RECSYS_RETURN_IF_ERROR(CheckDevicePointers(kOp, device,
                                             {{"queries", p.queries},
                                              {"keys", p.keys},
                                              {"values", p.values},
                                              {"key_valid", p.key_valid},
                                              {"out", p.out},
                                              {"selected", p.selected},
                                              {"weights", p.weights},
                                              {"scores", p.scores}}));
  if (p.num_candidates == 0) return absl::OkStatus();
  cudaStream_t stream = StreamOf(device);
  const int64_t split = p.split_dim == 0 ? p.att_dim : p.split_dim;
  const int64_t rest = p.att_dim - split;
  const float scale0 = p.scale0 > 0 ? p.scale0 : 1.0f / sqrtf(static_cast<float>(split));
  const float scale1 =
      rest == 0 ? 0.0f : (p.scale1 > 0 ? p.scale1 : 1.0f / sqrtf(static_cast<float>(rest)));
  const int64_t chunk = std::min(
      p.num_candidates, std::max<int64_t>(1, kScratchScores / std::max<int64_t>(1, p.history_len)));

  void* scratch = nullptr;
  const int64_t scratch_floats = p.num_candidates * p.att_dim + chunk * p.history_len;
  RECSYS_CUDA_RETURN_IF_ERROR(kOp,
                              cudaMallocAsync(&scratch, sizeof(float) * std::max<int64_t>(1, scratch_floats), stream));
  const absl::Status status =
      ScoreAndSelect(device, p, chunk, split, scale0, scale1, static_cast<float*>(scratch));
  RECSYS_CUDA_RETURN_IF_ERROR(kOp, cudaFreeAsync(scratch, stream));
  return status;
}

}  // namespace recsys::kernels::cuda
