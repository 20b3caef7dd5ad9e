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
  // cudaFree synchronises the device, so memory still used by queued kernels is safe. The
  // calling thread's current device is left as it was.
  int previous = 0;
  const bool restore = cudaGetDevice(&previous) == cudaSuccess;
  if (cudaSetDevice(device.ordinal) == cudaSuccess) cudaFree(ptr);
  if (restore) cudaSetDevice(previous);
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

absl::Status CreateStream(const Device& device, void** stream) {
  constexpr char kOp[] = "CreateStream";
  RECSYS_KERNEL_CUDA_USE(kOp, device);
  cudaStream_t created = nullptr;
  RECSYS_CUDA_RETURN_IF_ERROR(kOp, cudaStreamCreateWithFlags(&created, cudaStreamNonBlocking));
  *stream = created;
  return absl::OkStatus();
}

absl::Status DestroyStream(const Device& device, void* stream) {
  constexpr char kOp[] = "DestroyStream";
  RECSYS_KERNEL_CUDA_USE(kOp, device);
  const auto s = static_cast<cudaStream_t>(stream);
  RECSYS_CUDA_RETURN_IF_ERROR(kOp, cudaStreamSynchronize(s));
  RECSYS_CUDA_RETURN_IF_ERROR(kOp, cudaStreamDestroy(s));
  return absl::OkStatus();
}

absl::Status CheckDeviceMemory(const char* op, const char* field, const Device& device,
                               const void* ptr) {
  RECSYS_KERNEL_CUDA_USE(op, device);
  return CheckDevicePointers(op, device, {{field, ptr}});
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
        // Mapped pinned memory, when kernels can use the host address itself.
        if (attributes.devicePointer == ptr) break;
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
