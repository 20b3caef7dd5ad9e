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

TEST(Devices, ParseDeviceNamesTheBadNameAndRefusesAnUnusableGpu) {
  absl::StatusOr<Device> cpu = ParseDevice("cpu");
  ASSERT_TRUE(cpu.ok());
  EXPECT_EQ(cpu->backend, Backend::kCpu);
  absl::StatusOr<Device> automatic = ParseDevice("auto");
  ASSERT_TRUE(automatic.ok());
  EXPECT_EQ(automatic->backend, CudaDeviceCount() > 0 ? Backend::kCuda : Backend::kCpu);
  for (const char* bad : {"gpu", "cuda:", "cuda:-1", "cuda:x", "CPU", ""}) {
    absl::StatusOr<Device> d = ParseDevice(bad);
    EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(d.status().message().find("cpu, auto, cuda"), std::string::npos) << bad;
  }
  absl::StatusOr<Device> far = ParseDevice("cuda:4096");
  EXPECT_EQ(far.status().code(), absl::StatusCode::kFailedPrecondition);
  absl::StatusOr<Device> first = ParseDevice("cuda");
  EXPECT_EQ(first.ok(), CudaDeviceCount() > 0);
  if (first.ok()) {
    EXPECT_EQ(first->ordinal, 0);
  }
}

}  // namespace
}  // namespace recsys::kernels
