#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "recsys/kernels/gemm.h"

namespace recsys::kernels {
namespace {

TEST(HalfConversionTest, KnownBitPatterns) {
  EXPECT_EQ(FloatToHalf(1.0f, HalfType::kFloat16), 0x3c00);
  EXPECT_EQ(FloatToHalf(-2.0f, HalfType::kFloat16), 0xc000);
  EXPECT_EQ(FloatToHalf(65504.0f, HalfType::kFloat16), 0x7bff);
  EXPECT_EQ(FloatToHalf(1e6f, HalfType::kFloat16), 0x7c00);  // overflows to +inf
  EXPECT_EQ(FloatToHalf(1.0f, HalfType::kBFloat16), 0x3f80);
  EXPECT_EQ(FloatToHalf(-2.0f, HalfType::kBFloat16), 0xc000);
  // 1 + 2^-8 is exactly halfway between two bf16 values: ties go to the even one (1.0).
  EXPECT_EQ(FloatToHalf(1.00390625f, HalfType::kBFloat16), 0x3f80);
  EXPECT_EQ(FloatToHalf(1.01171875f, HalfType::kBFloat16), 0x3f82);  // 1 + 3*2^-8: up to even
  EXPECT_TRUE(std::isnan(
      HalfToFloat(FloatToHalf(std::numeric_limits<float>::quiet_NaN(), HalfType::kBFloat16),
                  HalfType::kBFloat16)));
}

TEST(HalfConversionTest, RoundTripIsWithinHalfAnUlp) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> dist(-100.0f, 100.0f);
  for (int i = 0; i < 10000; ++i) {
    const float x = dist(rng);
    EXPECT_NEAR(HalfToFloat(FloatToHalf(x, HalfType::kFloat16), HalfType::kFloat16), x,
                std::fabs(x) * 0x1p-11f);
    EXPECT_NEAR(HalfToFloat(FloatToHalf(x, HalfType::kBFloat16), HalfType::kBFloat16), x,
                std::fabs(x) * 0x1p-8f);
  }
}

TEST(MixedGemmTest, EqualsDoublePrecisionProductOfTheRoundedInputs) {
  const int64_t m = 13, n = 7, k = 29, lda = k + 2;
  for (HalfType type : {HalfType::kFloat16, HalfType::kBFloat16}) {
    std::mt19937 rng(5);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    std::vector<uint16_t> a(m * lda), b(n * k);  // B stored [n, k], used transposed
    for (uint16_t& x : a) x = FloatToHalf(dist(rng), type);
    for (uint16_t& x : b) x = FloatToHalf(dist(rng), type);
    std::vector<float> c(m * n, 1.0f);
    MixedGemmParams p;
    p.type = type;
    p.shape.m = m, p.shape.n = n, p.shape.k = k, p.shape.lda = lda;
    p.shape.transpose_b = true;
    p.shape.alpha = 2.0f, p.shape.beta = 0.5f;
    p.shape.c = c.data();
    p.a = a.data(), p.b = b.data();
    ASSERT_TRUE(MixedGemm(Device::Cpu(), p).ok());
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        double dot = 0;
        for (int64_t e = 0; e < k; ++e) {
          dot += double(HalfToFloat(a[i * lda + e], type)) * HalfToFloat(b[j * k + e], type);
        }
        EXPECT_NEAR(c[i * n + j], 2.0 * dot + 0.5, 1e-5) << i << "," << j;
      }
    }
  }
}

TEST(MixedGemmTest, RejectsFp32PointersAndBadShapes) {
  std::vector<uint16_t> a(4), b(4);
  std::vector<float> c(4), f(4);
  MixedGemmParams p;
  p.shape.m = 2, p.shape.n = 2, p.shape.k = 2, p.shape.c = c.data();
  p.a = a.data(), p.b = b.data();
  EXPECT_TRUE(MixedGemm(Device::Cpu(), p).ok());
  MixedGemmParams bad = p;
  bad.shape.a = f.data();
  EXPECT_EQ(MixedGemm(Device::Cpu(), bad).code(), absl::StatusCode::kInvalidArgument);
  bad = p;
  bad.b = nullptr;
  EXPECT_EQ(MixedGemm(Device::Cpu(), bad).code(), absl::StatusCode::kInvalidArgument);
  bad = p;
  bad.shape.lda = 1;
  EXPECT_EQ(MixedGemm(Device::Cpu(), bad).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace recsys::kernels
