#include "recsys/kernels/memory.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "recsys/kernels/device.h"

namespace recsys::kernels {
namespace {

TEST(DeviceBufferTest, CpuBufferIsAlignedAndCopiesRoundTrip) {
  const Device cpu = Device::Cpu();
  absl::StatusOr<DeviceBuffer> buffer = DeviceBuffer::Allocate(cpu, 1000 * sizeof(float));
  ASSERT_TRUE(buffer.ok()) << buffer.status();
  EXPECT_EQ(reinterpret_cast<uintptr_t>(buffer->data()) % 64, 0u);
  std::vector<float> in(1000), out(1000);
  for (int i = 0; i < 1000; ++i) in[i] = i * 0.5f;
  ASSERT_TRUE(CopyToDevice(cpu, buffer->data(), in.data(), buffer->size_bytes()).ok());
  ASSERT_TRUE(Synchronize(cpu).ok());
  ASSERT_TRUE(CopyToHost(cpu, out.data(), buffer->data(), buffer->size_bytes()).ok());
  EXPECT_EQ(in, out);
}

TEST(DeviceBufferTest, MovesTransferOwnership) {
  absl::StatusOr<DeviceBuffer> buffer = DeviceBuffer::Allocate(Device::Cpu(), 64);
  ASSERT_TRUE(buffer.ok());
  void* data = buffer->data();
  DeviceBuffer moved = std::move(*buffer);
  EXPECT_EQ(moved.data(), data);
  EXPECT_EQ(moved.size_bytes(), 64);
  EXPECT_EQ(buffer->data(), nullptr);  // NOLINT(bugprone-use-after-move): checked on purpose
  DeviceBuffer assigned;
  assigned = std::move(moved);
  EXPECT_EQ(assigned.data(), data);
}

TEST(DeviceBufferTest, EmptyAndInvalidRequests) {
  absl::StatusOr<DeviceBuffer> empty = DeviceBuffer::Allocate(Device::Cpu(), 0);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->data(), nullptr);
  EXPECT_EQ(DeviceBuffer::Allocate(Device::Cpu(), -1).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CopyToDevice(Device::Cpu(), nullptr, nullptr, 0).code(), absl::StatusCode::kOk);
  EXPECT_EQ(CopyToDevice(Device::Cpu(), nullptr, nullptr, 4).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(DeviceBufferTest, CudaWithoutADeviceIsAPreconditionFailure) {
  if (CudaDeviceCount() > 0) GTEST_SKIP() << "a CUDA device is present";
  EXPECT_EQ(DeviceBuffer::Allocate(Device::Cuda(0), 64).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Synchronize(Device::Cuda(0)).code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace recsys::kernels
