#include "kernels/src/vector_math.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

namespace recsys::kernels::internal {
namespace {

TEST(ExpNonPositive, RelativeErrorBelowOnePartInTenMillion) {
  double worst = 0;
  for (float x = -86.99f; x <= 0.0f; x += 1e-3f) {
    const double want = std::exp(static_cast<double>(x));
    worst = std::max(worst, std::abs(ExpNonPositive(x) - want) / want);
  }
  EXPECT_LT(worst, 1e-7);
  EXPECT_EQ(ExpNonPositive(0.0f), 1.0f);
}

TEST(ExpNonPositive, MaskedAndInvalidArguments) {
  EXPECT_EQ(ExpNonPositive(-std::numeric_limits<float>::infinity()), 0.0f);
  EXPECT_EQ(ExpNonPositive(-1000.0f), 0.0f);
  EXPECT_TRUE(std::isnan(ExpNonPositive(std::numeric_limits<float>::quiet_NaN())));
}

TEST(ExpNonPositive, SmallPositiveArgumentsAndUnderflow) {
  for (const float x : {1e-6f, 1e-3f, 0.3f, 1.0f}) {
    EXPECT_NEAR(ExpNonPositive(x), std::exp(static_cast<double>(x)), 2e-7 * std::exp(x)) << x;
  }
  // Below about -87.3 the result is subnormal, then exactly 0; never negative or NaN.
  for (const float x : {-87.2f, -87.5f, -87.7f, -88.0f, -88.5f, -100.0f, -1e30f}) {
    const float got = ExpNonPositive(x);
    EXPECT_GE(got, 0.0f) << x;
    EXPECT_LE(got, 2e-38f) << x;
  }
  EXPECT_EQ(ExpNonPositive(-88.0f), 0.0f);
}

std::vector<float> Normal(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist;
  std::vector<float> v(n);
  for (float& e : v) e = dist(rng);
  return v;
}

// Lengths below, at and around multiples of kLanes (the ragged-end path) and block sizes.
const int64_t kLengths[] = {0, 1, 2, 15, 16, 17, 31, 32, 33, 47, 100, 255, 256, 257};

TEST(LaneReductions, MatchDoubleReferences) {
  for (const int64_t n : kLengths) {
    SCOPED_TRACE(n);
    const auto x = Normal(n, 1), y = Normal(n, 2);
    double sum = 0, dot = 0, magnitude = 1;
    for (int64_t j = 0; j < n; ++j) {
      sum += x[j];
      dot += static_cast<double>(x[j]) * y[j];
      magnitude += std::abs(x[j]) + std::abs(x[j] * y[j]);
    }
    EXPECT_NEAR(LaneSum(n, [&](int64_t j) { return x[j]; }), sum, 1e-6 * magnitude);
    EXPECT_NEAR(Dot(x.data(), y.data(), n), dot, 1e-6 * magnitude);
    if (n > 0) {
      EXPECT_EQ(LaneMax(x.data(), n), *std::max_element(x.begin(), x.end()));
    }
  }
}

TEST(LaneReductions, MaxIgnoresNaN) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (const int64_t n : {3, 16, 20, 40}) {
    std::vector<float> x(n, nan);
    EXPECT_EQ(LaneMax(x.data(), n), -std::numeric_limits<float>::infinity()) << n;
    x[n / 2] = -5.0f;
    x[n - 1] = -7.0f;
    EXPECT_EQ(LaneMax(x.data(), n), -5.0f) << n;
  }
}

TEST(GemmTile, MatchesNaiveProduct) {
  constexpr int64_t kLdb = kGemmCols + 5, kLdc = kGemmCols + 3;
  for (const int64_t k : {0, 1, 7, 50}) {
    SCOPED_TRACE(k);
    const auto a_data = Normal(kGemmRows * k, 3), b = Normal(k * kLdb, 4);
    const float* a[kGemmRows];
    for (int r = 0; r < kGemmRows; ++r) a[r] = a_data.data() + r * k;
    std::vector<float> c(kGemmRows * kLdc, 42.0f);
    GemmTile(a, b.data(), kLdb, k, c.data(), kLdc);
    for (int r = 0; r < kGemmRows; ++r) {
      for (int j = 0; j < kGemmCols; ++j) {
        double want = 0, magnitude = 1;
        for (int64_t i = 0; i < k; ++i) {
          want += static_cast<double>(a[r][i]) * b[i * kLdb + j];
          magnitude += std::abs(a[r][i] * b[i * kLdb + j]);
        }
        EXPECT_NEAR(c[r * kLdc + j], want, 1e-6 * magnitude) << r << ", " << j;
      }
      EXPECT_EQ(c[r * kLdc + kGemmCols], 42.0f);  // nothing past the tile's columns
    }
  }
}

}  // namespace
}  // namespace recsys::kernels::internal
