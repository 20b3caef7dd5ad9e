#include "recsys/kernels/attention_mass.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <random>
#include <vector>

namespace recsys::kernels {
namespace {

using ::testing::HasSubstr;

struct Shape {
  int64_t q_len, kv_len, heads, kv_heads, head_dim, q_position;
  float scale = 0;
};

std::vector<float> Random(size_t n, std::mt19937& rng) {
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// Materialises every probability in double.
std::vector<double> Reference(const Shape& s, const std::vector<float>& q,
                              const std::vector<float>& k) {
  const double scale = s.scale > 0 ? s.scale : 1.0 / std::sqrt(double(s.head_dim));
  std::vector<double> mass(s.kv_len, 0.0);
  for (int64_t h = 0; h < s.heads; ++h) {
    const int64_t g = h / (s.heads / s.kv_heads);
    for (int64_t i = 0; i < s.q_len; ++i) {
      const int64_t visible = s.q_position + i + 1;
      std::vector<double> logits(visible);
      for (int64_t t = 0; t < visible; ++t) {
        double dot = 0;
        for (int64_t d = 0; d < s.head_dim; ++d) {
          dot += double(q[(i * s.heads + h) * s.head_dim + d]) *
                 k[(t * s.kv_heads + g) * s.head_dim + d];
        }
        logits[t] = scale * dot;
      }
      const double max = *std::max_element(logits.begin(), logits.end());
      double total = 0;
      for (double& l : logits) total += (l = std::exp(l - max));
      for (int64_t t = 0; t < visible; ++t) mass[t] += logits[t] / total / s.q_len;
    }
  }
  return mass;
}

absl::Status RunOp(const Shape& s, const std::vector<float>& q, const std::vector<float>& k,
                   std::vector<float>* mass, bool accumulate = false) {
  AttentionMassParams p;
  p.q = q.data();
  p.k = k.data();
  p.q_len = s.q_len;
  p.kv_len = s.kv_len;
  p.num_heads = s.heads;
  p.num_kv_heads = s.kv_heads;
  p.head_dim = s.head_dim;
  p.scale = s.scale;
  p.q_position = s.q_position;
  p.mass = mass->data();
  p.accumulate = accumulate;
  return AttentionMass(Device::Cpu(), p);
}

void ExpectMatches(const Shape& s, uint32_t seed) {
  std::mt19937 rng(seed);
  const auto q = Random(s.q_len * s.heads * s.head_dim, rng);
  const auto k = Random(s.kv_len * s.kv_heads * s.head_dim, rng);
  std::vector<float> mass(s.kv_len, std::nanf(""));
  ASSERT_TRUE(RunOp(s, q, k, &mass).ok());
  const std::vector<double> want = Reference(s, q, k);
  for (int64_t t = 0; t < s.kv_len; ++t) {
    EXPECT_NEAR(mass[t], want[t], 1e-5 * (1 + want[t])) << "t=" << t;
  }
  // Each head contributes a distribution over keys: the total is the number of heads.
  EXPECT_NEAR(std::accumulate(mass.begin(), mass.end(), 0.0), double(s.heads), 1e-3);
}

TEST(AttentionMass, QuerySpanAtTheEndOfThePrompt) {
  ExpectMatches({/*q_len=*/12, /*kv_len=*/300, /*heads=*/4, /*kv_heads=*/4, /*head_dim=*/16,
                 /*q_position=*/288},
                1);
}

TEST(AttentionMass, GroupedQueryHeadsAndTilesThatDoNotDivide) {
  ExpectMatches({7, 1300, 8, 2, 24, 1293}, 2);  // 1300 keys = 2 tiles + a remainder
}

TEST(AttentionMass, QueriesInTheMiddleSeeOnlyEarlierKeys) {
  Shape s{5, 100, 2, 1, 8, 40};
  ExpectMatches(s, 3);
  std::mt19937 rng(3);
  const auto q = Random(5 * 2 * 8, rng), k = Random(100 * 8, rng);
  std::vector<float> mass(100);
  ASSERT_TRUE(RunOp(s, q, k, &mass).ok());
  for (int t = 45; t < 100; ++t) EXPECT_EQ(mass[t], 0.0f) << t;  // after the last query
}

TEST(AttentionMass, SingleTokenAndExplicitScale) {
  ExpectMatches({1, 1, 1, 1, 1, 0}, 4);
  ExpectMatches({1, 50, 3, 3, 5, 49, 0.05f}, 5);
}

TEST(AttentionMass, AccumulateAddsLayers) {
  Shape s{3, 64, 2, 2, 8, 61};
  std::mt19937 rng(6);
  const auto q = Random(3 * 2 * 8, rng), k = Random(64 * 2 * 8, rng);
  std::vector<float> once(64), twice(64);
  ASSERT_TRUE(RunOp(s, q, k, &once).ok());
  ASSERT_TRUE(RunOp(s, q, k, &twice).ok());
  ASSERT_TRUE(RunOp(s, q, k, &twice, /*accumulate=*/true).ok());
  for (int t = 0; t < 64; ++t) EXPECT_NEAR(twice[t], 2 * once[t], 1e-6);
}

TEST(AttentionMass, EmptyQuerySpanZeroesTheOutput) {
  Shape s{0, 10, 2, 2, 4, 3};
  std::vector<float> q, k(10 * 2 * 4, 1.0f), mass(10, 5.0f);
  ASSERT_TRUE(RunOp(s, q, k, &mass).ok());
  for (float m : mass) EXPECT_EQ(m, 0.0f);
}

TEST(AttentionMass, LongPromptStaysFinite) {
  Shape s{4, 8192, 2, 1, 32, 8188};
  ExpectMatches(s, 7);
}

TEST(AttentionMass, InvalidArgumentsNameTheField) {
  std::vector<float> buf(1024, 0.0f);
  AttentionMassParams p;
  p.q = p.k = buf.data();
  p.mass = buf.data();
  p.q_len = 2;
  p.kv_len = 8;
  p.num_heads = 4;
  p.num_kv_heads = 2;
  p.head_dim = 4;
  p.q_position = 6;
  std::vector<float> mass(8);
  p.mass = mass.data();
  ASSERT_TRUE(AttentionMass(Device::Cpu(), p).ok());
  auto expect_invalid = [](AttentionMassParams bad, const char* field) {
    const absl::Status s = AttentionMass(Device::Cpu(), bad);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << field;
    EXPECT_THAT(std::string(s.message()), HasSubstr(field));
  };
  AttentionMassParams bad = p;
  bad.q_position = 7;
  expect_invalid(bad, "q_position");
  bad = p;
  bad.num_kv_heads = 3;
  expect_invalid(bad, "num_heads");
  bad = p;
  bad.k = nullptr;
  expect_invalid(bad, "k");
  bad = p;
  bad.head_dim = 0;
  expect_invalid(bad, "head_dim");
  EXPECT_FALSE(AttentionMass(Device::Cuda(0), p).ok());
}

}  // namespace
}  // namespace recsys::kernels
