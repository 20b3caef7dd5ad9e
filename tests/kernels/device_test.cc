#include "recsys/kernels/device.h"

#include <gtest/gtest.h>

namespace recsys::kernels {
namespace {

TEST(Devices, CpuIsAlwaysFirstAndCudaDevicesFollow) {
  const std::vector<DeviceInfo> devices = ListDevices();
  ASSERT_FALSE(devices.empty());
  EXPECT_EQ(devices[0].name, "cpu");
  EXPECT_FALSE(devices[0].description.empty());
  EXPECT_EQ(static_cast<int>(devices.size()), 1 + CudaDeviceCount());
  if (!CudaBuilt()) {
    EXPECT_EQ(CudaDeviceCount(), 0);
  }
}

}  // namespace
}  // namespace recsys::kernels
