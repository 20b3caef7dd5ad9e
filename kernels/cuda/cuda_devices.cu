#include <cuda_runtime.h>

#include <string>

#include "kernels/cuda/cuda_devices.h"

namespace recsys::kernels::cuda {

int VisibleDeviceCount() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no driver / no device" error
    return 0;
  }
  return count;
}

std::vector<DeviceInfo> VisibleDevices() {
  std::vector<DeviceInfo> devices;
  const int count = VisibleDeviceCount();
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) {
      cudaGetLastError();
      continue;
    }
    devices.push_back({"cuda:" + std::to_string(i),
                       std::string(prop.name) + " (sm_" + std::to_string(prop.major) +
                           std::to_string(prop.minor) + ")",
                       static_cast<int64_t>(prop.totalGlobalMem)});
  }
  return devices;
}

}  // namespace recsys::kernels::cuda
