#include "recsys/kernels/memory.h"

#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

#include "absl/strings/str_cat.h"
#include "kernels/cuda/cuda_ops.h"
#include "kernels/src/check.h"

namespace recsys::kernels {
namespace {

constexpr size_t kCpuAlignment = 64;

absl::Status CheckCopy(const char* op, const Device& device, void* dst, const void* src,
                       int64_t bytes) {
  RECSYS_RETURN_IF_ERROR(CheckDevice(device));
  RECSYS_RETURN_IF_ERROR(internal::CheckNonNegative(op, "bytes", bytes));
  RECSYS_RETURN_IF_ERROR(internal::CheckPointer(op, "dst", dst, bytes));
  return internal::CheckPointer(op, "src", src, bytes);
}

}  // namespace

absl::StatusOr<DeviceBuffer> DeviceBuffer::Allocate(const Device& device, int64_t bytes) {
  RECSYS_RETURN_IF_ERROR(CheckDevice(device));
  RECSYS_RETURN_IF_ERROR(internal::CheckNonNegative("DeviceBuffer", "bytes", bytes));
  DeviceBuffer buffer;
  buffer.device_ = device;
  buffer.bytes_ = bytes;
  if (bytes == 0) return buffer;
  if (device.backend == Backend::kCuda) {
    RECSYS_RETURN_IF_ERROR(cuda::Allocate(device, bytes, &buffer.data_));
    return buffer;
  }
  const size_t rounded =
      (static_cast<size_t>(bytes) + kCpuAlignment - 1) / kCpuAlignment * kCpuAlignment;
  buffer.data_ = std::aligned_alloc(kCpuAlignment, rounded);
  if (buffer.data_ == nullptr) {
    return absl::ResourceExhaustedError(
        absl::StrCat("DeviceBuffer: cannot allocate ", bytes, " bytes of host memory"));
  }
  return buffer;
}

DeviceBuffer::DeviceBuffer(DeviceBuffer&& other) noexcept
    : device_(other.device_),
      data_(std::exchange(other.data_, nullptr)),
      bytes_(std::exchange(other.bytes_, 0)) {}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& other) noexcept {
  if (this != &other) {
    Release();
    device_ = other.device_;
    data_ = std::exchange(other.data_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
  }
  return *this;
}

DeviceBuffer::~DeviceBuffer() { Release(); }

void DeviceBuffer::Release() {
  if (data_ == nullptr) return;
  if (device_.backend == Backend::kCuda) {
    cuda::Free(device_, data_);
  } else {
    std::free(data_);
  }
  data_ = nullptr;
  bytes_ = 0;
}

absl::Status CopyToDevice(const Device& device, void* dst, const void* src, int64_t bytes) {
  RECSYS_RETURN_IF_ERROR(CheckCopy("CopyToDevice", device, dst, src, bytes));
  if (bytes == 0) return absl::OkStatus();
  if (device.backend == Backend::kCuda) return cuda::CopyToDevice(device, dst, src, bytes);
  std::memcpy(dst, src, static_cast<size_t>(bytes));
  return absl::OkStatus();
}

absl::Status CopyToHost(const Device& device, void* dst, const void* src, int64_t bytes) {
  RECSYS_RETURN_IF_ERROR(CheckCopy("CopyToHost", device, dst, src, bytes));
  if (bytes == 0) return absl::OkStatus();
  if (device.backend == Backend::kCuda) return cuda::CopyToHost(device, dst, src, bytes);
  std::memcpy(dst, src, static_cast<size_t>(bytes));
  return absl::OkStatus();
}

absl::Status CopyOnDevice(const Device& device, void* dst, const void* src, int64_t bytes) {
  RECSYS_RETURN_IF_ERROR(CheckCopy("CopyOnDevice", device, dst, src, bytes));
  if (bytes == 0) return absl::OkStatus();
  if (device.backend == Backend::kCuda) return cuda::CopyOnDevice(device, dst, src, bytes);
  std::memmove(dst, src, static_cast<size_t>(bytes));
  return absl::OkStatus();
}

absl::StatusOr<void*> CreateStream(const Device& device) {
  RECSYS_RETURN_IF_ERROR(CheckDevice(device));
  if (device.backend == Backend::kCpu) return nullptr;
  void* stream = nullptr;
  RECSYS_RETURN_IF_ERROR(cuda::CreateStream(device, &stream));
  return stream;
}

absl::Status DestroyStream(const Device& device, void* stream) {
  RECSYS_RETURN_IF_ERROR(CheckDevice(device));
  if (device.backend == Backend::kCpu || stream == nullptr) return absl::OkStatus();
  return cuda::DestroyStream(device, stream);
}

absl::Status Synchronize(const Device& device) {
  RECSYS_RETURN_IF_ERROR(CheckDevice(device));
  if (device.backend == Backend::kCuda) return cuda::Synchronize(device);
  return absl::OkStatus();
}

}  // namespace recsys::kernels
