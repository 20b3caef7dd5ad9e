#include "recsys/kernels/context.h"

#include "absl/strings/str_cat.h"
#include "kernels/src/check.h"
#include "recsys/kernels/device.h"

namespace recsys::kernels {

Device DefaultDevice() { return CudaDeviceCount() > 0 ? Device::Cuda(0) : Device::Cpu(); }

absl::Status CheckDevice(const Device& device) {
  if (device.backend == Backend::kCpu) {
    UseOneThreadPool();
    return absl::OkStatus();
  }
  if (!CudaBuilt()) {
    return absl::FailedPreconditionError(
        "CUDA device requested but the kernels were built without CUDA (RECSYS_CUDA=OFF or no "
        "nvcc)");
  }
  const int count = CudaDeviceCount();
  if (device.ordinal < 0 || device.ordinal >= count) {
    return absl::FailedPreconditionError(absl::StrCat(
        "CUDA device ", device.ordinal, " requested but ", count, " device(s) are visible"));
  }
  return absl::OkStatus();
}

}  // namespace recsys::kernels
