// Helpers for the GPU parity tests (label gpu): a fixture that skips without a CUDA device,
// host <-> device copies, random inputs and tolerant comparisons against the CPU path.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "recsys/kernels/context.h"
#include "recsys/kernels/device.h"
#include "recsys/kernels/memory.h"

namespace recsys::kernels::testing {

class GpuTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (CudaDeviceCount() == 0) GTEST_SKIP() << "no CUDA device (or built without CUDA)";
  }

  // A device copy of host; empty vectors give an empty buffer (null data).
  template <typename T>
  DeviceBuffer Upload(const std::vector<T>& host) {
    absl::StatusOr<DeviceBuffer> buffer =
        DeviceBuffer::Allocate(gpu_, static_cast<int64_t>(host.size() * sizeof(T)));
    EXPECT_TRUE(buffer.ok()) << buffer.status();
    if (!buffer.ok()) return DeviceBuffer();
    EXPECT_TRUE(CopyToDevice(gpu_, buffer->data(), host.data(), buffer->size_bytes()).ok());
    return std::move(*buffer);
  }

  // Synchronises the device, then copies n elements of buffer back.
  template <typename T>
  std::vector<T> Download(const DeviceBuffer& buffer, size_t n) {
    std::vector<T> host(n);
    const absl::Status synced = Synchronize(gpu_);
    EXPECT_TRUE(synced.ok()) << synced;
    const absl::Status copied =
        CopyToHost(gpu_, host.data(), buffer.data(), static_cast<int64_t>(n * sizeof(T)));
    EXPECT_TRUE(copied.ok()) << copied;
    return host;
  }

  const Device gpu_ = Device::Cuda(0);
  const Device cpu_ = Device::Cpu();
};

inline std::vector<float> RandomFloats(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// Elementwise |a - b| <= atol + rtol * |b|, reporting the first few mismatches.
inline void ExpectNear(const std::vector<float>& actual, const std::vector<float>& expected,
                       float atol, float rtol, const char* what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  int reported = 0;
  for (size_t i = 0; i < actual.size(); ++i) {
    const float a = actual[i], e = expected[i];
    if (std::isinf(e) && a == e) continue;
    const bool ok = std::fabs(a - e) <= atol + rtol * std::fabs(e);
    if (!ok && reported++ < 5) {
      ADD_FAILURE() << what << "[" << i << "]: gpu " << a << " vs cpu " << e;
    }
  }
}

}  // namespace recsys::kernels::testing
