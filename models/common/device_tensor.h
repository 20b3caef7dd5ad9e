// Where a model's tensors live: Weights for the loaded parameters, Workspace for the
// activations of one call, both in the memory of the model's kernels::Device. On the CPU a
// weight is its host vector (no copy) and workspace buffers are host allocations, so one
// forward-pass code path serves both backends and the CPU tests cover it.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "recsys/kernels/context.h"
#include "recsys/kernels/memory.h"

namespace recsys::models {

class Weights {
 public:
  Weights() = default;

  // host placed on device. On CUDA the host copy is dropped unless keep_host (tables that
  // host-side code also reads, such as the item table for catalogue top-K).
  static absl::StatusOr<Weights> Place(const kernels::Device& device, std::vector<float> host,
                                       bool keep_host = false);

  // Device-resident data (the host vector's on the CPU).
  const float* data() const {
    return device_.data() != nullptr ? device_.as<float>() : host_.data();
  }
  // The host copy: always on the CPU, on CUDA only when placed with keep_host.
  const std::vector<float>& host() const { return host_; }

 private:
  std::vector<float> host_;
  kernels::DeviceBuffer device_;
};

// Buffers for one call, freed together when it returns.
class Workspace {
 public:
  explicit Workspace(const kernels::Device& device) : device_(device) {}

  // n uninitialised floats.
  absl::StatusOr<float*> Floats(int64_t n) { return Allocate<float>(n); }

  // A device copy of host.
  template <typename T>
  absl::StatusOr<T*> Upload(const std::vector<T>& host) {
    absl::StatusOr<T*> out = Allocate<T>(static_cast<int64_t>(host.size()));
    if (!out.ok()) return out.status();
    absl::Status copied = kernels::CopyToDevice(device_, *out, host.data(),
                                                static_cast<int64_t>(host.size() * sizeof(T)));
    if (!copied.ok()) return copied;
    return *out;
  }

 private:
  template <typename T>
  absl::StatusOr<T*> Allocate(int64_t n) {
    absl::StatusOr<kernels::DeviceBuffer> buffer =
        kernels::DeviceBuffer::Allocate(device_, n * static_cast<int64_t>(sizeof(T)));
    if (!buffer.ok()) return buffer.status();
    buffers_.push_back(std::move(*buffer));
    return buffers_.back().as<T>();
  }

  kernels::Device device_;
  std::vector<kernels::DeviceBuffer> buffers_;
};

// n floats of device memory copied to a host vector (waits for the device's queued work).
absl::StatusOr<std::vector<float>> Download(const kernels::Device& device, const float* data,
                                            int64_t n);

}  // namespace recsys::models
