// CUDA device queries, compiled by nvcc. Only kernels/src/device.cc includes this.
#pragma once

#include <vector>

#include "recsys/kernels/device.h"

namespace recsys::kernels::cuda {

// 0 when there is no driver or no device (never an error).
int VisibleDeviceCount();
std::vector<DeviceInfo> VisibleDevices();

}  // namespace recsys::kernels::cuda
