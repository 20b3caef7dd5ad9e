#include "models/common/device_tensor.h"

#include "base/status_macros.h"

namespace recsys::models {

absl::StatusOr<Weights> Weights::Place(const kernels::Device& device, std::vector<float> host,
                                       bool keep_host) {
  Weights w;
  if (device.backend == kernels::Backend::kCpu) {
    w.host_ = std::move(host);
    return w;
  }
  const int64_t bytes = static_cast<int64_t>(host.size() * sizeof(float));
  RECSYS_ASSIGN_OR_RETURN(w.device_, kernels::DeviceBuffer::Allocate(device, bytes));
  RECSYS_RETURN_IF_ERROR(kernels::CopyToDevice(device, w.device_.data(), host.data(), bytes));
  if (keep_host) w.host_ = std::move(host);
  return w;
}

absl::StatusOr<std::vector<float>> Download(const kernels::Device& device, const float* data,
                                            int64_t n) {
  std::vector<float> host(static_cast<size_t>(n));
  RECSYS_RETURN_IF_ERROR(kernels::CopyToHost(device, host.data(), data,
                                             n * static_cast<int64_t>(sizeof(float))));
  return host;
}

}  // namespace recsys::models
