#include "recsys/kernels/elementwise.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "tests/testing/status_matchers.h"

namespace recsys::kernels {
namespace {

using ::recsys::testing::IsOk;
using ::recsys::testing::StatusIs;
using ::testing::AnyOf;
using ::testing::HasSubstr;

constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;
constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr double kPi = 3.14159265358979323846;
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

struct Shape {
  int64_t rows, cols;
};
// Odd sizes so no vector width divides them; 300 x 129 crosses the OpenMP threshold; rows of
// 1031 span several of the fp32 partial-sum blocks of the row statistics.
const Shape kShapes[] = {{7, 50}, {7, 129}, {1, 1}, {1, 7}, {3, 1}, {300, 129}, {3, 1031}};

std::vector<float> Uniform(int64_t n, float lo, float hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& e : v) e = dist(rng);
  return v;
}

// |actual - expected| <= max(atol, rtol * |expected|) everywhere; NaN never passes.
::testing::AssertionResult AllClose(const std::vector<float>& actual,
                                    const std::vector<double>& expected, double rtol = 1e-5,
                                    double atol = 1e-6) {
  if (actual.size() != expected.size()) {
    return ::testing::AssertionFailure() << "size " << actual.size() << " vs " << expected.size();
  }
  for (size_t i = 0; i < actual.size(); ++i) {
    const double tol = std::max(atol, rtol * std::abs(expected[i]));
    if (!(std::abs(actual[i] - expected[i]) <= tol)) {
      return ::testing::AssertionFailure()
             << "index " << i << ": got " << actual[i] << ", want " << expected[i];
    }
  }
  return ::testing::AssertionSuccess();
}

// ---- Double-precision references. ----

std::vector<double> RefLayerNorm(const std::vector<float>& x, const std::vector<float>& gamma,
                                 const std::vector<float>* beta, Shape s, double eps) {
  std::vector<double> y(x.size());
  for (int64_t r = 0; r < s.rows; ++r) {
    const float* row = &x[r * s.cols];
    double mean = 0, var = 0;
    for (int64_t j = 0; j < s.cols; ++j) mean += row[j];
    mean /= s.cols;
    for (int64_t j = 0; j < s.cols; ++j) var += (row[j] - mean) * (row[j] - mean);
    var /= s.cols;
    for (int64_t j = 0; j < s.cols; ++j) {
      y[r * s.cols + j] =
          (row[j] - mean) / std::sqrt(var + eps) * gamma[j] + (beta != nullptr ? (*beta)[j] : 0.0);
    }
  }
  return y;
}

std::vector<double> RefRmsNorm(const std::vector<float>& x, const std::vector<float>& gamma,
                               Shape s, double eps) {
  std::vector<double> y(x.size());
  for (int64_t r = 0; r < s.rows; ++r) {
    double ms = 0;
    for (int64_t j = 0; j < s.cols; ++j) ms += double{x[r * s.cols + j]} * x[r * s.cols + j];
    ms /= s.cols;
    for (int64_t j = 0; j < s.cols; ++j) {
      y[r * s.cols + j] = x[r * s.cols + j] / std::sqrt(ms + eps) * gamma[j];
    }
  }
  return y;
}

std::vector<double> RefSoftmax(const std::vector<float>& x, Shape s) {
  std::vector<double> y(x.size(), 0.0);
  for (int64_t r = 0; r < s.rows; ++r) {
    const float* row = &x[r * s.cols];
    const double max = *std::max_element(row, row + s.cols);
    if (max == -kInf) continue;  // fully masked row stays zero
    double sum = 0;
    for (int64_t j = 0; j < s.cols; ++j) sum += std::exp(row[j] - max);
    for (int64_t j = 0; j < s.cols; ++j) y[r * s.cols + j] = std::exp(row[j] - max) / sum;
  }
  return y;
}

double RefActivation(Activation a, double x) {
  switch (a) {
    case Activation::kRelu:
      return x > 0 ? x : 0;
    case Activation::kGeluErf:
      return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
    case Activation::kGeluTanh:
      return 0.5 * x * (1 + std::tanh(std::sqrt(2 / kPi) * (x + 0.044715 * x * x * x)));
    case Activation::kSilu:
      return x / (1 + std::exp(-x));
    case Activation::kSigmoid:
      return 1 / (1 + std::exp(-x));
  }
  return std::nan("");
}

std::vector<double> RefActivate(Activation a, const std::vector<float>& x) {
  std::vector<double> y(x.size());
  for (size_t i = 0; i < x.size(); ++i) y[i] = RefActivation(a, x[i]);
  return y;
}

// Builds each head's head_dim x head_dim rotation matrix explicitly and applies it.
std::vector<double> RefRope(const std::vector<float>& x, const std::vector<int64_t>& positions,
                            int64_t heads, int64_t dim, double theta, bool interleaved) {
  std::vector<double> y(x.size());
  const int64_t half = dim / 2;
  for (size_t t = 0; t < positions.size(); ++t) {
    std::vector<double> rot(dim * dim, 0.0);
    for (int64_t i = 0; i < half; ++i) {
      const int64_t a = interleaved ? 2 * i : i;
      const int64_t b = interleaved ? 2 * i + 1 : i + half;
      const double angle = positions[t] * std::pow(theta, -2.0 * i / dim);
      rot[a * dim + a] = std::cos(angle);
      rot[a * dim + b] = -std::sin(angle);
      rot[b * dim + a] = std::sin(angle);
      rot[b * dim + b] = std::cos(angle);
    }
    for (int64_t h = 0; h < heads; ++h) {
      const int64_t base = (t * heads + h) * dim;
      for (int64_t r = 0; r < dim; ++r) {
        double acc = 0;
        for (int64_t c = 0; c < dim; ++c) acc += rot[r * dim + c] * x[base + c];
        y[base + r] = acc;
      }
    }
  }
  return y;
}

const Activation kActivations[] = {Activation::kRelu, Activation::kGeluErf, Activation::kGeluTanh,
                                   Activation::kSilu, Activation::kSigmoid};

// ---- LayerNorm ----

TEST(LayerNormTest, MatchesReferenceWithAndWithoutBeta) {
  for (const Shape s : kShapes) {
    SCOPED_TRACE(::testing::Message() << s.rows << "x" << s.cols);
    const auto x = Uniform(s.rows * s.cols, -3, 5, 1);
    const auto gamma = Uniform(s.cols, 0.5, 1.5, 2);
    const auto beta = Uniform(s.cols, -1, 1, 3);
    for (const bool with_beta : {true, false}) {
      std::vector<float> y(x.size(), NAN);
      LayerNormParams p{x.data(), gamma.data(), with_beta ? beta.data() : nullptr,
                        y.data(), s.rows,       s.cols};
      ASSERT_THAT(LayerNorm(Device::Cpu(), p), IsOk());
      EXPECT_TRUE(AllClose(y, RefLayerNorm(x, gamma, with_beta ? &beta : nullptr, s, p.eps)));
    }
  }
}

TEST(LayerNormTest, InPlace) {
  for (const Shape s : {Shape{7, 129}, Shape{300, 129}}) {
    const auto x = Uniform(s.rows * s.cols, -2, 2, 4);
    const auto gamma = Uniform(s.cols, 0.5, 1.5, 5);
    const auto beta = Uniform(s.cols, -1, 1, 6);
    std::vector<float> buf = x;
    LayerNormParams p{buf.data(), gamma.data(), beta.data(), buf.data(), s.rows, s.cols};
    ASSERT_THAT(LayerNorm(Device::Cpu(), p), IsOk());
    EXPECT_TRUE(AllClose(buf, RefLayerNorm(x, gamma, &beta, s, p.eps)));
  }
}

TEST(LayerNormTest, LargeOffsetKeepsPrecision) {
  // Mean 1e4 with unit spread: an fp32 mean would shift every output by up to ~1e-3.
  const Shape s{7, 50};
  auto x = Uniform(s.rows * s.cols, -1, 1, 7);
  for (float& v : x) v += 1e4f;
  const auto gamma = Uniform(s.cols, 0.5, 1.5, 8);
  const auto beta = Uniform(s.cols, -1, 1, 9);
  for (const bool with_beta : {true, false}) {
    std::vector<float> y(x.size());
    LayerNormParams p{x.data(), gamma.data(), with_beta ? beta.data() : nullptr,
                      y.data(), s.rows,       s.cols};
    ASSERT_THAT(LayerNorm(Device::Cpu(), p), IsOk());
    EXPECT_TRUE(AllClose(y, RefLayerNorm(x, gamma, with_beta ? &beta : nullptr, s, p.eps)));
  }
}

TEST(LayerNormTest, RowsFarFromTheirFirstEntriesAndConstantRows) {
  // Row 1 starts with 8 entries far above the rest (moments taken about them are redone about
  // the mean); row 2 is constant (zero variance).
  const Shape s{3, 300};
  auto x = Uniform(s.rows * s.cols, -2, 2, 10);
  for (int64_t j = 0; j < 8; ++j) x[s.cols + j] += 40.0f;
  std::fill(x.begin() + 2 * s.cols, x.end(), 3.5f);
  const auto gamma = Uniform(s.cols, 0.5, 1.5, 11);
  const auto beta = Uniform(s.cols, -1, 1, 12);
  std::vector<float> y(x.size(), NAN);
  LayerNormParams p{x.data(), gamma.data(), beta.data(), y.data(), s.rows, s.cols};
  ASSERT_THAT(LayerNorm(Device::Cpu(), p), IsOk());
  EXPECT_TRUE(AllClose(y, RefLayerNorm(x, gamma, &beta, s, p.eps)));
}

TEST(LayerNormTest, ZeroSizedIsNoOp) {
  std::vector<float> x(4, 1.0f), gamma(4, 1.0f), y(4, 42.0f);
  EXPECT_THAT(LayerNorm(Device::Cpu(), {x.data(), gamma.data(), nullptr, y.data(), 0, 4}), IsOk());
  EXPECT_THAT(y, ::testing::Each(42.0f));
  EXPECT_THAT(LayerNorm(Device::Cpu(), {nullptr, nullptr, nullptr, nullptr, 5, 0}), IsOk());
}

TEST(LayerNormTest, RejectsInvalidArguments) {
  std::vector<float> x(8), gamma(4), y(8);
  const LayerNormParams ok{x.data(), gamma.data(), nullptr, y.data(), 2, 4};
  ASSERT_THAT(LayerNorm(Device::Cpu(), ok), IsOk());
  auto with = [&](auto edit) {
    LayerNormParams p = ok;
    edit(p);
    return LayerNorm(Device::Cpu(), p);
  };
  EXPECT_THAT(with([](auto& p) { p.x = nullptr; }), StatusIs(kInvalid, HasSubstr("LayerNorm: x")));
  EXPECT_THAT(with([](auto& p) { p.gamma = nullptr; }), StatusIs(kInvalid, HasSubstr("gamma")));
  EXPECT_THAT(with([](auto& p) { p.y = nullptr; }), StatusIs(kInvalid, HasSubstr("y is null")));
  EXPECT_THAT(with([](auto& p) { p.rows = -1; }), StatusIs(kInvalid, HasSubstr("rows")));
  EXPECT_THAT(with([](auto& p) { p.cols = -3; }), StatusIs(kInvalid, HasSubstr("cols")));
  EXPECT_THAT(with([](auto& p) { p.rows = kInt64Max; }), StatusIs(kInvalid, HasSubstr("overflow")));
  for (const float eps : {0.0f, -1e-5f, NAN, kInf}) {
    EXPECT_THAT(with([&](auto& p) { p.eps = eps; }), StatusIs(kInvalid, HasSubstr("eps")));
  }
}

// ---- RmsNorm ----

TEST(RmsNormTest, MatchesReference) {
  for (const Shape s : kShapes) {
    SCOPED_TRACE(::testing::Message() << s.rows << "x" << s.cols);
    const auto x = Uniform(s.rows * s.cols, -3, 3, 11);
    const auto gamma = Uniform(s.cols, 0.5, 1.5, 12);
    std::vector<float> y(x.size(), NAN);
    RmsNormParams p{x.data(), gamma.data(), y.data(), s.rows, s.cols};
    ASSERT_THAT(RmsNorm(Device::Cpu(), p), IsOk());
    EXPECT_TRUE(AllClose(y, RefRmsNorm(x, gamma, s, p.eps)));
  }
}

TEST(RmsNormTest, InPlaceAndLargeMagnitude) {
  const Shape s{7, 50};
  const auto gamma = Uniform(s.cols, 0.5, 1.5, 13);
  // 1e20 squared overflows fp32; the sum of squares must not.
  for (const float scale : {1.0f, 1e4f, 1e20f}) {
    SCOPED_TRACE(scale);
    auto x = Uniform(s.rows * s.cols, -1, 1, 14);
    for (float& v : x) v *= scale;
    std::vector<float> buf = x;
    RmsNormParams p{buf.data(), gamma.data(), buf.data(), s.rows, s.cols};
    ASSERT_THAT(RmsNorm(Device::Cpu(), p), IsOk());
    EXPECT_TRUE(AllClose(buf, RefRmsNorm(x, gamma, s, p.eps)));
  }
}

TEST(RmsNormTest, ZeroSizedIsNoOp) {
  std::vector<float> x(4), gamma(4), y(4, 42.0f);
  EXPECT_THAT(RmsNorm(Device::Cpu(), {x.data(), gamma.data(), y.data(), 0, 4}), IsOk());
  EXPECT_THAT(y, ::testing::Each(42.0f));
  EXPECT_THAT(RmsNorm(Device::Cpu(), {nullptr, nullptr, nullptr, 3, 0}), IsOk());
}

TEST(RmsNormTest, RejectsInvalidArguments) {
  std::vector<float> x(8), gamma(4), y(8);
  const RmsNormParams ok{x.data(), gamma.data(), y.data(), 2, 4};
  auto with = [&](auto edit) {
    RmsNormParams p = ok;
    edit(p);
    return RmsNorm(Device::Cpu(), p);
  };
  EXPECT_THAT(with([](auto& p) { p.x = nullptr; }), StatusIs(kInvalid, HasSubstr("RmsNorm: x")));
  EXPECT_THAT(with([](auto& p) { p.gamma = nullptr; }), StatusIs(kInvalid, HasSubstr("gamma")));
  EXPECT_THAT(with([](auto& p) { p.rows = -2; }), StatusIs(kInvalid, HasSubstr("rows")));
  EXPECT_THAT(with([](auto& p) { p.eps = 0; }), StatusIs(kInvalid, HasSubstr("eps")));
}

// ---- Softmax ----

TEST(SoftmaxTest, MatchesReferenceAndSumsToOne) {
  for (const Shape s : kShapes) {
    SCOPED_TRACE(::testing::Message() << s.rows << "x" << s.cols);
    const auto x = Uniform(s.rows * s.cols, -8, 8, 21);
    std::vector<float> y(x.size(), NAN);
    ASSERT_THAT(Softmax(Device::Cpu(), {x.data(), y.data(), s.rows, s.cols}), IsOk());
    EXPECT_TRUE(AllClose(y, RefSoftmax(x, s)));
    for (int64_t r = 0; r < s.rows; ++r) {
      double sum = 0;
      for (int64_t j = 0; j < s.cols; ++j) sum += y[r * s.cols + j];
      EXPECT_NEAR(sum, 1.0, 1e-5);
    }
  }
}

TEST(SoftmaxTest, InPlace) {
  const Shape s{300, 129};
  const auto x = Uniform(s.rows * s.cols, -5, 5, 22);
  std::vector<float> buf = x;
  ASSERT_THAT(Softmax(Device::Cpu(), {buf.data(), buf.data(), s.rows, s.cols}), IsOk());
  EXPECT_TRUE(AllClose(buf, RefSoftmax(x, s)));
}

TEST(SoftmaxTest, MaskedEntries) {
  const Shape s{7, 50};
  auto x = Uniform(s.rows * s.cols, -4, 4, 23);
  std::fill(x.begin() + 2 * s.cols, x.begin() + 3 * s.cols, -kInf);   // row 2 fully masked
  for (int64_t j = 0; j < s.cols; j += 3) x[4 * s.cols + j] = -kInf;  // row 4 partly masked
  std::vector<float> y(x.size(), NAN);
  ASSERT_THAT(Softmax(Device::Cpu(), {x.data(), y.data(), s.rows, s.cols}), IsOk());
  EXPECT_TRUE(AllClose(y, RefSoftmax(x, s)));
  for (int64_t j = 0; j < s.cols; ++j) {
    EXPECT_EQ(y[2 * s.cols + j], 0.0f) << j;
    if (j % 3 == 0) {
      EXPECT_EQ(y[4 * s.cols + j], 0.0f) << j;
    }
  }
  // A single masked entry alone in its row.
  float one = -kInf;
  ASSERT_THAT(Softmax(Device::Cpu(), {&one, &one, 1, 1}), IsOk());
  EXPECT_EQ(one, 0.0f);
}

TEST(SoftmaxTest, LargeMagnitudeDoesNotOverflow) {
  const Shape s{7, 129};
  auto wide = Uniform(s.rows * s.cols, -1e4, 1e4, 24);
  auto offset = Uniform(s.rows * s.cols, -3, 3, 25);
  for (float& v : offset) v += 1e4f;
  for (const auto* x : {&wide, &offset}) {
    std::vector<float> y(x->size(), NAN);
    ASSERT_THAT(Softmax(Device::Cpu(), {x->data(), y.data(), s.rows, s.cols}), IsOk());
    EXPECT_TRUE(AllClose(y, RefSoftmax(*x, s)));
  }
}

TEST(SoftmaxTest, PositiveInfinityTakesTheWholeMass) {
  // The limit of the distribution as those logits grow: shared by the +inf entries, no NaN.
  std::vector<float> x = {1.0f, kInf, 3.0f, kInf, -kInf};
  ASSERT_THAT(Softmax(Device::Cpu(), {x.data(), x.data(), 1, 5}), IsOk());
  EXPECT_THAT(x, ::testing::ElementsAre(0.0f, 0.5f, 0.0f, 0.5f, 0.0f));
}

TEST(SoftmaxTest, ZeroSizedAndInvalid) {
  std::vector<float> x(4), y(4, 42.0f);
  EXPECT_THAT(Softmax(Device::Cpu(), {x.data(), y.data(), 0, 4}), IsOk());
  EXPECT_THAT(y, ::testing::Each(42.0f));
  EXPECT_THAT(Softmax(Device::Cpu(), {nullptr, nullptr, 4, 0}), IsOk());
  EXPECT_THAT(Softmax(Device::Cpu(), {nullptr, y.data(), 1, 4}),
              StatusIs(kInvalid, HasSubstr("Softmax: x")));
  EXPECT_THAT(Softmax(Device::Cpu(), {x.data(), nullptr, 1, 4}),
              StatusIs(kInvalid, HasSubstr("y is null")));
  EXPECT_THAT(Softmax(Device::Cpu(), {x.data(), y.data(), -1, 4}),
              StatusIs(kInvalid, HasSubstr("rows")));
  EXPECT_THAT(Softmax(Device::Cpu(), {x.data(), y.data(), 1, -4}),
              StatusIs(kInvalid, HasSubstr("cols")));
}

// ---- Activate / SwiGlu ----

std::vector<float> ActivationSweep() {
  std::vector<float> x = {0.0f, -0.0f, 20.0f, -20.0f, 1e-3f, -1e-3f, 0.5f, -0.5f, 1,  -1,
                          3,    -3,    5,     -5,     8,     -8,     10,   -10,   15, -15};
  for (float v = -12.0f; v <= 12.0f; v += 0.37f) x.push_back(v);
  return x;
}

TEST(ActivateTest, MatchesReferenceOnSweep) {
  const auto x = ActivationSweep();
  for (const Activation a : kActivations) {
    SCOPED_TRACE(static_cast<int>(a));
    std::vector<float> y(x.size(), NAN);
    ASSERT_THAT(Activate(Device::Cpu(), a, x.data(), y.data(), x.size()), IsOk());
    EXPECT_TRUE(AllClose(y, RefActivate(a, x)));
  }
}

TEST(ActivateTest, InPlaceLargeInputUsesParallelPath) {
  const auto x = Uniform(100003, -10, 10, 31);
  for (const Activation a : kActivations) {
    SCOPED_TRACE(static_cast<int>(a));
    std::vector<float> buf = x;
    ASSERT_THAT(Activate(Device::Cpu(), a, buf.data(), buf.data(), buf.size()), IsOk());
    EXPECT_TRUE(AllClose(buf, RefActivate(a, x)));
  }
}

TEST(ActivateTest, LargeMagnitudeDoesNotOverflow) {
  // exp(1e4) and x^3 for 1e30 overflow fp32; the results must still be finite and right.
  const std::vector<float> x = {1e4f, -1e4f, 1e30f, -1e30f, 88.8f, -88.8f, 100, -100};
  for (const Activation a : kActivations) {
    SCOPED_TRACE(static_cast<int>(a));
    std::vector<float> y(x.size(), NAN);
    ASSERT_THAT(Activate(Device::Cpu(), a, x.data(), y.data(), x.size()), IsOk());
    for (const float v : y) EXPECT_TRUE(std::isfinite(v)) << v;
    EXPECT_TRUE(AllClose(y, RefActivate(a, x)));
  }
}

// The same functions via identities that do not cancel for x << 0 (even in double,
// 1 + erf(-6.4) rounds to 0): 1 + erf(z) = erfc(-z) and 0.5 (1 + tanh(u)) = sigmoid(2u).
double RefActivationTail(Activation a, double x) {
  const double u = std::sqrt(2 / kPi) * (x + 0.044715 * x * x * x);
  switch (a) {
    case Activation::kGeluErf:
      return 0.5 * x * std::erfc(-x / std::sqrt(2.0));
    case Activation::kGeluTanh:
      return x / (1 + std::exp(-2 * u));
    default:
      return RefActivation(a, x);
  }
}

TEST(ActivateTest, NegativeTailsKeepRelativeAccuracy) {
  // Values far below the 1e-6 absolute floor, where 1 + erf(.) or 1 + tanh(.) in fp32 would
  // cancel to 0: check relative error alone.
  std::vector<float> x;
  for (float v = -9.0f; v <= -2.0f; v += 0.25f) x.push_back(v);
  for (const Activation a : kActivations) {
    if (a == Activation::kRelu) continue;
    SCOPED_TRACE(static_cast<int>(a));
    std::vector<float> y(x.size());
    ASSERT_THAT(Activate(Device::Cpu(), a, x.data(), y.data(), x.size()), IsOk());
    std::vector<double> want(x.size());
    for (size_t i = 0; i < x.size(); ++i) want[i] = RefActivationTail(a, x[i]);
    EXPECT_TRUE(AllClose(y, want, /*rtol=*/1e-4, /*atol=*/0));
  }
}

TEST(ActivateTest, ZeroSizedAndInvalid) {
  std::vector<float> x(4), y(4);
  EXPECT_THAT(Activate(Device::Cpu(), Activation::kRelu, nullptr, nullptr, 0), IsOk());
  EXPECT_THAT(Activate(Device::Cpu(), Activation::kSilu, nullptr, y.data(), 4),
              StatusIs(kInvalid, HasSubstr("Activate: x")));
  EXPECT_THAT(Activate(Device::Cpu(), Activation::kSilu, x.data(), nullptr, 4),
              StatusIs(kInvalid, HasSubstr("y is null")));
  EXPECT_THAT(Activate(Device::Cpu(), Activation::kSilu, x.data(), y.data(), -1),
              StatusIs(kInvalid, HasSubstr("n")));
  EXPECT_THAT(Activate(Device::Cpu(), static_cast<Activation>(99), x.data(), y.data(), 4),
              StatusIs(kInvalid, HasSubstr("activation")));
}

std::vector<double> RefSwiGlu(const std::vector<float>& gate, const std::vector<float>& up) {
  std::vector<double> out(gate.size());
  for (size_t i = 0; i < gate.size(); ++i) {
    out[i] = RefActivation(Activation::kSilu, gate[i]) * up[i];
  }
  return out;
}

TEST(SwiGluTest, MatchesReferenceIncludingAliasing) {
  for (const int64_t n : {1, 50, 129, 100003}) {
    SCOPED_TRACE(n);
    auto gate = Uniform(n, -10, 10, 41);
    gate[0] = 20.0f;
    const auto up = Uniform(n, -2, 2, 42);
    const auto want = RefSwiGlu(gate, up);
    std::vector<float> out(n, NAN);
    ASSERT_THAT(SwiGlu(Device::Cpu(), gate.data(), up.data(), out.data(), n), IsOk());
    EXPECT_TRUE(AllClose(out, want));
    std::vector<float> g = gate, u = up;
    ASSERT_THAT(SwiGlu(Device::Cpu(), g.data(), up.data(), g.data(), n), IsOk());
    EXPECT_TRUE(AllClose(g, want)) << "out == gate";
    ASSERT_THAT(SwiGlu(Device::Cpu(), gate.data(), u.data(), u.data(), n), IsOk());
    EXPECT_TRUE(AllClose(u, want)) << "out == up";
  }
}

TEST(SwiGluTest, ZeroSizedAndInvalid) {
  std::vector<float> v(4);
  EXPECT_THAT(SwiGlu(Device::Cpu(), nullptr, nullptr, nullptr, 0), IsOk());
  EXPECT_THAT(SwiGlu(Device::Cpu(), nullptr, v.data(), v.data(), 4),
              StatusIs(kInvalid, HasSubstr("gate")));
  EXPECT_THAT(SwiGlu(Device::Cpu(), v.data(), nullptr, v.data(), 4),
              StatusIs(kInvalid, HasSubstr("up")));
  EXPECT_THAT(SwiGlu(Device::Cpu(), v.data(), v.data(), nullptr, 4),
              StatusIs(kInvalid, HasSubstr("out")));
  EXPECT_THAT(SwiGlu(Device::Cpu(), v.data(), v.data(), v.data(), -4),
              StatusIs(kInvalid, HasSubstr("n")));
}

// ---- Rope ----

struct RopeCase {
  int64_t tokens, heads, head_dim;
  float theta;
};

TEST(RopeTest, BothLayoutsMatchExplicitRotation) {
  // head_dim 6 has an odd number of pairs; 64 x 8 x 128 crosses the OpenMP threshold.
  const RopeCase cases[] = {
      {7, 3, 6, 10000.0f}, {5, 2, 2, 10000.0f}, {9, 4, 64, 500000.0f}, {64, 8, 128, 10000.0f}};
  for (const RopeCase& c : cases) {
    for (const bool interleaved : {false, true}) {
      SCOPED_TRACE(::testing::Message() << c.tokens << "x" << c.heads << "x" << c.head_dim
                                        << (interleaved ? " interleaved" : " rotate_half"));
      const auto x = Uniform(c.tokens * c.heads * c.head_dim, -1, 1, 51);
      std::vector<int64_t> positions(c.tokens);
      std::mt19937 rng(52);
      for (auto& pos : positions) pos = std::uniform_int_distribution<int64_t>(0, 8191)(rng);
      positions[0] = 0;
      positions.back() = 100000;
      std::vector<float> buf = x;
      RopeParams p{buf.data(), positions.data(), c.tokens,   c.heads,
                   c.head_dim, c.theta,          interleaved};
      ASSERT_THAT(Rope(Device::Cpu(), p), IsOk());
      EXPECT_TRUE(AllClose(buf, RefRope(x, positions, c.heads, c.head_dim, c.theta, interleaved)));
    }
  }
}

TEST(RopeTest, PositionZeroIsIdentity) {
  const auto x = Uniform(3 * 4 * 10, -1, 1, 53);
  const std::vector<int64_t> positions(3, 0);
  for (const bool interleaved : {false, true}) {
    std::vector<float> buf = x;
    RopeParams p{buf.data(), positions.data(), 3, 4, 10};
    p.interleaved = interleaved;
    ASSERT_THAT(Rope(Device::Cpu(), p), IsOk());
    EXPECT_EQ(buf, x);
  }
}

TEST(RopeTest, LayoutsPairDifferentElements) {
  // One token at position 1, head_dim 4: rotate_half pairs (0,2),(1,3); interleaved (0,1),(2,3).
  const std::vector<int64_t> pos = {1};
  std::vector<float> half = {1, 0, 0, 0}, inter = {1, 0, 0, 0};
  ASSERT_THAT(Rope(Device::Cpu(), {half.data(), pos.data(), 1, 1, 4}), IsOk());
  ASSERT_THAT(Rope(Device::Cpu(), {inter.data(), pos.data(), 1, 1, 4, 10000.0f, true}), IsOk());
  EXPECT_NEAR(half[0], std::cos(1.0), 1e-6);
  EXPECT_NEAR(half[2], std::sin(1.0), 1e-6);
  EXPECT_EQ(half[1], 0.0f);
  EXPECT_NEAR(inter[0], std::cos(1.0), 1e-6);
  EXPECT_NEAR(inter[1], std::sin(1.0), 1e-6);
  EXPECT_EQ(inter[2], 0.0f);
}

TEST(RopeTest, FrequencyFactorsDivideEachPairsFrequency) {
  // Factor 2 on pair i turns position 8 into position 4 for that pair only (Llama 3 scaling).
  const auto x = Uniform(1 * 2 * 8, -1, 1, 54);
  const std::vector<float> factors = {1, 2, 1, 2};
  for (const bool interleaved : {false, true}) {
    std::vector<float> scaled = x, at8 = x, at4 = x;
    const std::vector<int64_t> p8 = {8}, p4 = {4};
    RopeParams p{scaled.data(), p8.data(), 1, 2, 8, 10000.0f, interleaved, factors.data()};
    ASSERT_THAT(Rope(Device::Cpu(), p), IsOk());
    ASSERT_THAT(Rope(Device::Cpu(), {at8.data(), p8.data(), 1, 2, 8, 10000.0f, interleaved}),
                IsOk());
    ASSERT_THAT(Rope(Device::Cpu(), {at4.data(), p4.data(), 1, 2, 8, 10000.0f, interleaved}),
                IsOk());
    for (int h = 0; h < 2; ++h) {
      for (int i = 0; i < 4; ++i) {
        const int lo = h * 8 + (interleaved ? 2 * i : i), hi = lo + (interleaved ? 1 : 4);
        const std::vector<float>& want = factors[i] == 2 ? at4 : at8;
        EXPECT_FLOAT_EQ(scaled[lo], want[lo]) << h << " " << i;
        EXPECT_FLOAT_EQ(scaled[hi], want[hi]) << h << " " << i;
      }
    }
  }
}

TEST(RopeTest, ZeroSizedAndInvalid) {
  std::vector<float> x(2 * 3 * 4);
  std::vector<int64_t> pos = {0, 5};
  const RopeParams ok{x.data(), pos.data(), 2, 3, 4};
  ASSERT_THAT(Rope(Device::Cpu(), ok), IsOk());
  EXPECT_THAT(Rope(Device::Cpu(), {nullptr, nullptr, 0, 3, 4}), IsOk());
  EXPECT_THAT(Rope(Device::Cpu(), {nullptr, pos.data(), 2, 0, 4}), IsOk());
  auto with = [&](auto edit) {
    RopeParams p = ok;
    edit(p);
    return Rope(Device::Cpu(), p);
  };
  EXPECT_THAT(with([](auto& p) { p.head_dim = 3; }),
              StatusIs(kInvalid, HasSubstr("head_dim (3) must be even")));
  EXPECT_THAT(with([](auto& p) { p.x = nullptr; }), StatusIs(kInvalid, HasSubstr("Rope: x")));
  EXPECT_THAT(with([](auto& p) { p.positions = nullptr; }),
              StatusIs(kInvalid, HasSubstr("positions")));
  EXPECT_THAT(with([](auto& p) { p.tokens = -1; }), StatusIs(kInvalid, HasSubstr("tokens")));
  EXPECT_THAT(with([](auto& p) { p.heads = -1; }), StatusIs(kInvalid, HasSubstr("heads")));
  EXPECT_THAT(with([](auto& p) { p.head_dim = -2; }), StatusIs(kInvalid, HasSubstr("head_dim")));
  EXPECT_THAT(with([](auto& p) { p.theta = 0; }), StatusIs(kInvalid, HasSubstr("theta")));
  pos[1] = -5;
  EXPECT_THAT(Rope(Device::Cpu(), ok), StatusIs(kInvalid, HasSubstr("positions[1] (-5)")));
}

// ---- Device ----

TEST(ElementwiseDeviceTest, CudaDeviceIsRejected) {
  // Without a GPU (or CUDA): FAILED_PRECONDITION. With one, these host pointers are refused
  // as INVALID_ARGUMENT before any kernel could fault on them. Never a crash.
  const Device cuda = Device::Cuda(0);
  const auto not_ok = ::testing::ResultOf(
      [](const absl::Status& st) { return st.code(); },
      AnyOf(absl::StatusCode::kFailedPrecondition, absl::StatusCode::kInvalidArgument));
  std::vector<float> x(8, 1.0f), gamma(4, 1.0f), y(8);
  std::vector<int64_t> pos = {0, 1};
  EXPECT_THAT(LayerNorm(cuda, {x.data(), gamma.data(), nullptr, y.data(), 2, 4}), not_ok);
  EXPECT_THAT(RmsNorm(cuda, {x.data(), gamma.data(), y.data(), 2, 4}), not_ok);
  EXPECT_THAT(Softmax(cuda, {x.data(), y.data(), 2, 4}), not_ok);
  EXPECT_THAT(Activate(cuda, Activation::kRelu, x.data(), y.data(), 8), not_ok);
  EXPECT_THAT(SwiGlu(cuda, x.data(), x.data(), y.data(), 8), not_ok);
  EXPECT_THAT(Rope(cuda, {x.data(), pos.data(), 2, 1, 4}), not_ok);
}

}  // namespace
}  // namespace recsys::kernels
