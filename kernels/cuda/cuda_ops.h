// The CUDA implementations behind the public ops, one per op. The public entry points (cpu/)
// validate shapes and pointers first and call these when the Device is CUDA, so these see only
// valid, non-empty parameters. Built from kernels/cuda/*.cu by nvcc; a build without CUDA links
// kernels/src/cuda_unavailable.cc instead, whose bodies report that (CheckDevice already
// refuses CUDA devices there, so they are never reached in practice).
//
// All CUDA ops are enqueued on device.stream and return once launched: call Synchronize (or
// a copy to the host) before reading results.
#pragma once

#include <cstdint>

#include "absl/status/status.h"
#include "recsys/kernels/attention.h"
#include "recsys/kernels/attention_mass.h"
#include "recsys/kernels/context.h"
#include "recsys/kernels/elementwise.h"
#include "recsys/kernels/gemm.h"
#include "recsys/kernels/rows.h"
#include "recsys/kernels/target_attention.h"
#include "recsys/kernels/topk.h"

namespace recsys::kernels::cuda {

// Limits of the CUDA kernels (the CPU path has none of these).
constexpr int64_t kMaxHeadDim = 256;  // Attention
constexpr int64_t kMaxTopK = 1024;    // TargetAttentionTopK, CatalogTopK
// Rows (history_len, num_items) one top-K block scans; positions are 32-bit inside it.
constexpr int64_t kMaxTopKRow = (int64_t{1} << 31) - 4096;

// Memory.
absl::Status Allocate(const Device& device, int64_t bytes, void** ptr);
void Free(const Device& device, void* ptr);
absl::Status CopyToDevice(const Device& device, void* dst, const void* src, int64_t bytes);
absl::Status CopyToHost(const Device& device, void* dst, const void* src, int64_t bytes);
absl::Status CopyOnDevice(const Device& device, void* dst, const void* src, int64_t bytes);
absl::Status Synchronize(const Device& device);
absl::Status CreateStream(const Device& device, void** stream);
absl::Status DestroyStream(const Device& device, void* stream);
// INVALID_ARGUMENT naming op and field unless ptr is memory the device can address.
absl::Status CheckDeviceMemory(const char* op, const char* field, const Device& device,
                               const void* ptr);

// GEMM; leading dimensions are already resolved (never 0).
absl::Status Gemm(const Device& device, const GemmParams& params);
absl::Status BatchedGemm(const Device& device, const BatchedGemmParams& params);
absl::Status MixedGemm(const Device& device, const MixedGemmParams& params);

absl::Status LayerNorm(const Device& device, const LayerNormParams& params);
absl::Status RmsNorm(const Device& device, const RmsNormParams& params);
absl::Status Softmax(const Device& device, const SoftmaxParams& params);
absl::Status Activate(const Device& device, Activation activation, const float* x, float* y,
                      int64_t n);
absl::Status SwiGlu(const Device& device, const float* gate, const float* up, float* out,
                    int64_t n);
absl::Status Rope(const Device& device, const RopeParams& params);

absl::Status GatherRows(const Device& device, const GatherRowsParams& params);
absl::Status AddBias(const Device& device, float* x, const float* bias, int64_t rows,
                     int64_t cols);
absl::Status AddInPlace(const Device& device, float* x, const float* y, int64_t n);
absl::Status ZeroRows(const Device& device, float* x, const uint8_t* keep, int64_t rows,
                      int64_t cols);

absl::Status Attention(const Device& device, const AttentionParams& params);
absl::Status AttentionMass(const Device& device, const AttentionMassParams& params);
absl::Status TargetAttentionTopK(const Device& device, const TargetAttentionParams& params);
absl::Status CatalogTopK(const Device& device, const CatalogTopKParams& params);

}  // namespace recsys::kernels::cuda
