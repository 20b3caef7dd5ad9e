// Device memory, copies and pointer checks.
#include <cuda_runtime.h>

#include "absl/strings/str_cat.h"
#include "kernels/cuda/cuda_common.cuh"
#include "kernels/cuda/cuda_ops.h"

namespace recsys::kernels::cuda {

absl::Status Allocate(const Device& device, int64_t bytes, void** ptr) {
  constexpr char kOp[] = "DeviceBuffer";
  RECSYS_KERNEL_CUDA_USE(kOp, device);
  const cudaError_t error = cudaMalloc(ptr, static_cast<size_t>(bytes));
  if (error == cudaErrorMemoryAllocation) {
    cudaGetLastError();  // not sticky, but clear it so later launch checks stay clean
    return absl::ResourceExhaustedError(
        absl::StrCat(kOp, ": cannot allocate ", bytes, " bytes on cuda:", device.ordinal));
  }
  if (error != cudaSuccess) return CudaError(kOp, "cudaMalloc", error);
  return absl::OkStatus();
}

void Free(const Device& device, void* ptr) {
  // cudaFree synchronises the device, so memory still used by queued kernels is safe.
  if (cudaSetDevice(device.ordinal) == cudaSuccess) cudaFree(ptr);
}

absl::Status CopyToDevice(const Device& device, void* dst, const void* src, int64_t bytes) {
  constexpr char kOp[] = "CopyToDevice";
  RECSYS_KERNEL_CUDA_USE(kOp, device);
  RECSYS_CUDA_RETURN_IF_ERROR(kOp, cudaMemcpyAsync(dst, src, static_cast<size_t>(bytes),
                                                   cudaMemcpyHostToDevice, StreamOf(device)));
  // The source is caller-owned host memory that may be freed right after we return.
  RECSYS_CUDA_RETURN_IF_ERROR(kOp, cudaStreamSynchronize(StreamOf(device)));
  return absl::OkStatus();
}

absl::Status CopyToHost(const Device& device, void* dst, const void* src, int64_t bytes) {
  constexpr char kOp[] = "CopyToHost";
  RECSYS_KERNEL_CUDA_USE(kOp, device);
  RECSYS_CUDA_RETURN_IF_ERROR(kOp, cudaMemcpyAsync(dst, src, static_cast<size_t>(bytes),
                                                   cudaMemcpyDeviceToHost, StreamOf(device)));
  RECSYS_CUDA_RETURN_IF_ERROR(kOp, cudaStreamSynchronize(StreamOf(device)));
  return absl::OkStatus();
}

absl::Status CopyOnDevice(const Device& device, void* dst, const void* src, int64_t bytes) {
  constexpr char kOp[] = "CopyOnDevice";
  RECSYS_KERNEL_CUDA_USE(kOp, device);
  RECSYS_CUDA_RETURN_IF_ERROR(kOp, cudaMemcpyAsync(dst, src, static_cast<size_t>(bytes),
                                                   cudaMemcpyDeviceToDevice, StreamOf(device)));
  return absl::OkStatus();
}

absl::Status Synchronize(const Device& device) {
  constexpr char kOp[] = "Synchronize";
  RECSYS_KERNEL_CUDA_USE(kOp, device);
  RECSYS_CUDA_RETURN_IF_ERROR(kOp, cudaStreamSynchronize(StreamOf(device)));
  return absl::OkStatus();
}

absl::Status CheckDevicePointers(const char* op, const Device& device,
                                 std::initializer_list<std::pair<const char*, const void*>> ptrs) {
  for (const auto& [field, ptr] : ptrs) {
    if (ptr == nullptr) continue;
    cudaPointerAttributes attributes{};
    const cudaError_t error = cudaPointerGetAttributes(&attributes, ptr);
    if (error != cudaSuccess) {
      cudaGetLastError();
      return absl::InvalidArgumentError(
          absl::StrCat(op, ": ", field, " is not a pointer CUDA knows (", cudaGetErrorName(error),
                       "); pass device memory (DeviceBuffer) on a CUDA device"));
    }
    switch (attributes.type) {
      case cudaMemoryTypeManaged:
        break;
      case cudaMemoryTypeDevice:
        if (attributes.device != device.ordinal) {
          return absl::InvalidArgumentError(absl::StrCat(op, ": ", field, " lives on cuda:",
                                                         attributes.device, " but the op runs on cuda:",
                                                         device.ordinal));
        }
        break;
      case cudaMemoryTypeHost:
        if (attributes.devicePointer != nullptr) break;  // mapped pinned memory
        [[fallthrough]];
      default:
        return absl::InvalidArgumentError(
            absl::StrCat(op, ": ", field,
                         " is host memory; pass device memory (DeviceBuffer) on a CUDA device"));
    }
  }
  return absl::OkStatus();
}

}  // namespace recsys::kernels::cuda
