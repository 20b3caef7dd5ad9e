// Label gpu: runs on a machine with a CUDA device, skips elsewhere.
#include <gtest/gtest.h>

#include "recsys/kernels/device.h"

namespace recsys::kernels {
namespace {

TEST(CudaDevices, ListedWithNameAndMemory) {
  if (CudaDeviceCount() == 0) GTEST_SKIP() << "no CUDA device (or built without CUDA)";
  const std::vector<DeviceInfo> devices = ListDevices();
  ASSERT_GE(devices.size(), 2u);
  EXPECT_EQ(devices[1].name, "cuda:0");
  EXPECT_NE(devices[1].description.find("sm_"), std::string::npos) << devices[1].description;
  EXPECT_GT(devices[1].memory_bytes, int64_t{1} << 30);
}

}  // namespace
}  // namespace recsys::kernels
