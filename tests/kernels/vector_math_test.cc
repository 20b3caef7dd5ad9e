#include "kernels/src/vector_math.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

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

}  // namespace
}  // namespace recsys::kernels::internal
