// Catalogue top-K on CUDA: a chunk of users scored against every item with one cuBLAS GEMM,
// excluded items overwritten with NaN (not eligible), then one block per user selects its
// top-K with block_topk.cuh. Scratch is [chunk, num_items], chunk * num_items capped.
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

// One block per user of the chunk: its excluded ids (CSR) get a 1 in its row of the
// exclusion map (zeroed before).
__global__ void ExcludeKernel(CatalogTopKParams p, uint8_t* excluded, int64_t u0) {
  const int64_t u = u0 + blockIdx.x;
  uint8_t* row = excluded + blockIdx.x * p.num_items;
  for (int64_t e = p.exclude_offsets[u] + threadIdx.x; e < p.exclude_offsets[u + 1];
       e += blockDim.x) {
    const int64_t id = p.exclude_ids[e];
    if (id >= 0 && id < p.num_items) row[id] = 1;
  }
}

__global__ void __launch_bounds__(kTopKThreads)
    SelectKernel(CatalogTopKParams p, const float* scores, const uint8_t* excluded, int64_t u0) {
  __shared__ TopKShared sh;
  const int64_t u = u0 + blockIdx.x;
  // As on the CPU, a NaN score ranks as -inf but stays eligible; excluded items never are.
  const RowView row{scores + blockIdx.x * p.num_items, p.item_bias, nullptr,
                    excluded == nullptr ? nullptr : excluded + blockIdx.x * p.num_items,
                    static_cast<int>(p.num_items), /*nan_is_lowest=*/true};
  const int k = static_cast<int>(p.k);
  const int selected = BlockTopK(row, k, sh);
  for (int r = threadIdx.x; r < k; r += blockDim.x) {
    const bool real = r < selected;
    p.out_ids[u * k + r] = real ? sh.sorted_position[r] : -1;
    p.out_scores[u * k + r] = real ? sh.sorted_score[r] : kNegInf;
  }
}

// Per chunk of users: one GEMM for the scores, the exclusions, one block per user to select.
absl::Status ScoreAndSelect(const Device& device, const CatalogTopKParams& p, int64_t chunk,
                            float* scores, uint8_t* excluded) {
  constexpr char kOp[] = "CatalogTopK";
  cudaStream_t stream = StreamOf(device);
  for (int64_t u0 = 0; u0 < p.batch; u0 += chunk) {
    const int64_t rows = std::min(chunk, p.batch - u0);
    if (p.num_items > 0) {
      GemmParams gemm;  // scores[rows, N] = users[u0 : u0 + rows] . items^T
      gemm.transpose_b = true;
      gemm.m = rows;
      gemm.n = p.num_items;
      gemm.k = p.dim;
      gemm.a = p.users + u0 * p.dim;
      gemm.lda = std::max<int64_t>(1, p.dim);
      gemm.b = p.items;
      gemm.ldb = std::max<int64_t>(1, p.dim);
      gemm.c = scores;
      gemm.ldc = p.num_items;
      RECSYS_RETURN_IF_ERROR(cuda::Gemm(device, gemm));
      if (excluded != nullptr) {
        RECSYS_CUDA_RETURN_IF_ERROR(kOp, cudaMemsetAsync(excluded, 0, rows * p.num_items, stream));
        ExcludeKernel<<<static_cast<unsigned>(rows), 128, 0, stream>>>(p, excluded, u0);
        RECSYS_RETURN_IF_ERROR(CheckLaunch(kOp));
      }
    }
    SelectKernel<<<static_cast<unsigned>(rows), kTopKThreads, 0, stream>>>(p, scores, excluded,
                                                                           u0);
    RECSYS_RETURN_IF_ERROR(CheckLaunch(kOp));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CatalogTopK(const Device& device, const CatalogTopKParams& p) {
  constexpr char kOp[] = "CatalogTopK";
  if (p.k > kMaxTopK) {
    return absl::InvalidArgumentError(
        absl::StrCat(kOp, ": k (", p.k, ") exceeds the CUDA kernel's limit of ", kMaxTopK));
  }
  if (p.num_items > kMaxTopKRow) {
    return absl::InvalidArgumentError(absl::StrCat(
        kOp, ": num_items (", p.num_items, ") exceeds the CUDA kernel's limit of ", kMaxTopKRow));
  }
  RECSYS_KERNEL_CUDA_USE(kOp, device);
  RECSYS_RETURN_IF_ERROR(CheckDevicePointers(kOp, device,
                                             {{"users", p.users},
                                              {"items", p.items},
                                              {"item_bias", p.item_bias},
                                              {"exclude_offsets", p.exclude_offsets},
                                              {"exclude_ids", p.exclude_ids},
                                              {"out_ids", p.out_ids},
                                              {"out_scores", p.out_scores}}));
  if (p.batch == 0) return absl::OkStatus();
  cudaStream_t stream = StreamOf(device);
  const int64_t chunk =
      std::min(p.batch, std::max<int64_t>(1, kScratchScores / std::max<int64_t>(1, p.num_items)));
  void* scratch = nullptr;
  // Scores, then (with exclusions) one byte per score for the exclusion map.
  const int64_t cells = std::max<int64_t>(1, chunk * p.num_items);
  const bool excludes = p.exclude_offsets != nullptr;
  RECSYS_CUDA_RETURN_IF_ERROR(
      kOp, cudaMallocAsync(&scratch, (sizeof(float) + (excludes ? 1 : 0)) * cells, stream));
  float* scores = static_cast<float*>(scratch);
  uint8_t* excluded = excludes ? reinterpret_cast<uint8_t*>(scores + cells) : nullptr;
  const absl::Status status = ScoreAndSelect(device, p, chunk, scores, excluded);
  RECSYS_CUDA_RETURN_IF_ERROR(kOp, cudaFreeAsync(scratch, stream));
  return status;
}

}  // namespace recsys::kernels::cuda
