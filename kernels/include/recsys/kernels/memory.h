// Memory on a Device: an owning buffer and copies between the host and the device. For the
// CPU these are plain host allocations and memcpy, so code written against this header runs
// unchanged on either backend.
//
// CUDA copies are ordered on device.stream; CopyToHost returns once the data is on the host.
#pragma once

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "recsys/kernels/context.h"

namespace recsys::kernels {

class DeviceBuffer {
 public:
  // bytes >= 0 of uninitialised memory on device (64-byte aligned on the CPU, 256 on CUDA).
  // RESOURCE_EXHAUSTED when the device is out of memory.
  static absl::StatusOr<DeviceBuffer> Allocate(const Device& device, int64_t bytes);

  DeviceBuffer() = default;
  DeviceBuffer(DeviceBuffer&& other) noexcept;
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer();

  void* data() const { return data_; }
  template <typename T>
  T* as() const {
    return static_cast<T*>(data_);
  }
  int64_t size_bytes() const { return bytes_; }
  const Device& device() const { return device_; }

 private:
  void Release();

  Device device_;
  void* data_ = nullptr;
  int64_t bytes_ = 0;
};

// dst (device memory) <- src (host memory), bytes >= 0.
absl::Status CopyToDevice(const Device& device, void* dst, const void* src, int64_t bytes);
// dst (host memory) <- src (device memory); waits for the stream's earlier work.
absl::Status CopyToHost(const Device& device, void* dst, const void* src, int64_t bytes);
// dst <- src, both device memory, bytes >= 0; ordered on device.stream (the KV cache's copies).
absl::Status CopyOnDevice(const Device& device, void* dst, const void* src, int64_t bytes);
// Waits until every op enqueued on device.stream has finished; reports a kernel that failed.
absl::Status Synchronize(const Device& device);

// A new CUDA stream on device (a cudaStream_t, to put in Device::stream); nullptr for the CPU.
// Each serving thread can own one so its ops do not queue behind other threads' work.
absl::StatusOr<void*> CreateStream(const Device& device);
// Waits for and destroys a stream from CreateStream.
absl::Status DestroyStream(const Device& device, void* stream);

}  // namespace recsys::kernels
