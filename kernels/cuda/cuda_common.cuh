// Shared pieces of the CUDA kernels: status conversion, launch checks, device pointer checks
// and warp/block reductions. Only kernels/cuda/*.cu include this.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <initializer_list>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "kernels/src/check.h"
#include "recsys/kernels/context.h"

// Returns INTERNAL naming the op and the failed call when a CUDA runtime call fails.
#define RECSYS_CUDA_RETURN_IF_ERROR(op, expr)                                             \
  do {                                                                                    \
    const cudaError_t recsys_cuda_error_ = (expr);                                        \
    if (recsys_cuda_error_ != cudaSuccess) {                                              \
      return ::recsys::kernels::cuda::CudaError((op), #expr, recsys_cuda_error_);         \
    }                                                                                     \
  } while (false)

namespace recsys::kernels::cuda {

constexpr float kNegInf = -__builtin_huge_valf();

inline absl::Status CudaError(const char* op, const char* call, cudaError_t error) {
  return absl::InternalError(absl::StrCat(op, ": ", call, " failed: ", cudaGetErrorName(error),
                                          " (", cudaGetErrorString(error), ")"));
}

inline cudaStream_t StreamOf(const Device& device) {
  return static_cast<cudaStream_t>(device.stream);
}

// Makes device current on the calling thread (ops may be called from any thread).
inline absl::Status UseDevice(const char* op, const Device& device) {
  RECSYS_CUDA_RETURN_IF_ERROR(op, cudaSetDevice(device.ordinal));
  return absl::OkStatus();
}

// Returns from the calling function when device cannot be made current.
#define RECSYS_KERNEL_CUDA_USE(op, device)                                         \
  do {                                                                              \
    ::absl::Status recsys_use_status_ = ::recsys::kernels::cuda::UseDevice(op, device); \
    if (!recsys_use_status_.ok()) return recsys_use_status_;                        \
  } while (false)

// Reports a launch that failed to start (bad configuration, no kernel image for this GPU).
inline absl::Status CheckLaunch(const char* op) {
  RECSYS_CUDA_RETURN_IF_ERROR(op, cudaGetLastError());
  return absl::OkStatus();
}

// INVALID_ARGUMENT unless every non-null pointer is memory the device can address: device
// memory of that ordinal, managed memory, or mapped pinned host memory. A plain host pointer
// would otherwise fault inside a kernel and poison the CUDA context.
absl::Status CheckDevicePointers(const char* op, const Device& device,
                                 std::initializer_list<std::pair<const char*, const void*>> ptrs);

// Blocks for a grid-stride loop over n items: enough to fill the GPU, never past the limit.
inline unsigned GridFor(int64_t n, int threads) {
  const int64_t blocks = (n + threads - 1) / threads;
  return static_cast<unsigned>(blocks < 1 ? 1 : (blocks > 65535 * 8 ? 65535 * 8 : blocks));
}

__device__ __forceinline__ float WarpSum(float v) {
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

__device__ __forceinline__ float WarpMax(float v) {
  for (int offset = 16; offset > 0; offset >>= 1) {
    v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
  }
  return v;
}

// Sum over the block; every thread gets the result. shared must hold 32 floats.
__device__ __forceinline__ float BlockSum(float v, float* shared) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  v = WarpSum(v);
  __syncthreads();  // shared may still be read from a previous call
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  if (warp == 0) {
    const int warps = (blockDim.x + 31) >> 5;
    v = WarpSum(lane < warps ? shared[lane] : 0.0f);
    if (lane == 0) shared[0] = v;
  }
  __syncthreads();
  return shared[0];
}

// Overflow-free logistic, as on the CPU.
__device__ __forceinline__ float SigmoidF(float x) {
  if (x >= 0.0f) return 1.0f / (1.0f + expf(-x));
  const float e = expf(x);
  return e / (1.0f + e);
}

}  // namespace recsys::kernels::cuda
