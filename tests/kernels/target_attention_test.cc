#include "recsys/kernels/target_attention.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

namespace recsys::kernels {
namespace {

using ::testing::HasSubstr;

struct Case {
  int64_t candidates, history, att_dim, value_dim, split_dim, top_k;
  float scale0 = 0, scale1 = 0;
  std::vector<uint8_t> key_valid;  // empty = all valid
};

struct Result {
  std::vector<float> out, weights, scores;
  std::vector<int64_t> selected;
};

std::vector<float> Random(size_t n, std::mt19937& rng, float lo = -1, float hi = 1) {
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// Plain double reference: every score, a stable sort (ties to the lower position), top_k of
// the valid positions, softmax over them, weighted sum of values.
Result Reference(const Case& c, const std::vector<float>& q, const std::vector<float>& k,
                 const std::vector<float>& v) {
  const int64_t split = c.split_dim == 0 ? c.att_dim : c.split_dim;
  const int64_t rest = c.att_dim - split;
  const double s0 = c.scale0 > 0 ? c.scale0 : 1.0 / std::sqrt(double(split));
  const double s1 = rest == 0 ? 0.0 : (c.scale1 > 0 ? c.scale1 : 1.0 / std::sqrt(double(rest)));
  Result r;
  r.out.assign(c.candidates * c.value_dim, 0.0f);
  r.weights.assign(c.candidates * c.top_k, 0.0f);
  r.scores.assign(c.candidates * c.top_k, -std::numeric_limits<float>::infinity());
  r.selected.assign(c.candidates * c.top_k, -1);
  for (int64_t ci = 0; ci < c.candidates; ++ci) {
    std::vector<std::pair<double, int64_t>> scored;
    for (int64_t j = 0; j < c.history; ++j) {
      if (!c.key_valid.empty() && c.key_valid[j] == 0) continue;
      double a = 0, b = 0;
      for (int64_t d = 0; d < c.att_dim; ++d) {
        (d < split ? a : b) += double(q[ci * c.att_dim + d]) * k[j * c.att_dim + d];
      }
      scored.push_back({s0 * a + s1 * b, j});
    }
    std::stable_sort(scored.begin(), scored.end(),
                     [](const auto& x, const auto& y) { return x.first > y.first; });
    scored.resize(std::min<size_t>(scored.size(), c.top_k));
    double total = 0;
    for (const auto& [s, j] : scored) total += std::exp(s - scored.front().first);
    for (size_t i = 0; i < scored.size(); ++i) {
      const double w = std::exp(scored[i].first - scored.front().first) / total;
      r.selected[ci * c.top_k + i] = scored[i].second;
      r.weights[ci * c.top_k + i] = float(w);
      r.scores[ci * c.top_k + i] = float(scored[i].first);
      for (int64_t d = 0; d < c.value_dim; ++d) {
        r.out[ci * c.value_dim + d] += float(w * v[scored[i].second * c.value_dim + d]);
      }
    }
  }
  return r;
}

absl::Status RunOp(const Case& c, const std::vector<float>& q, const std::vector<float>& k,
                   const std::vector<float>& v, Result* r) {
  r->out.assign(c.candidates * c.value_dim, std::nanf(""));
  r->weights.assign(c.candidates * c.top_k, std::nanf(""));
  r->scores.assign(c.candidates * c.top_k, std::nanf(""));
  r->selected.assign(c.candidates * c.top_k, -7);
  TargetAttentionParams p;
  p.queries = q.data();
  p.keys = k.data();
  p.values = v.data();
  p.num_candidates = c.candidates;
  p.history_len = c.history;
  p.att_dim = c.att_dim;
  p.value_dim = c.value_dim;
  p.split_dim = c.split_dim;
  p.scale0 = c.scale0;
  p.scale1 = c.scale1;
  p.key_valid = c.key_valid.empty() ? nullptr : c.key_valid.data();
  p.top_k = c.top_k;
  p.out = r->out.data();
  p.selected = r->selected.data();
  p.weights = r->weights.data();
  p.scores = r->scores.data();
  return TargetAttentionTopK(Device::Cpu(), p);
}

void ExpectMatches(const Case& c, uint32_t seed) {
  std::mt19937 rng(seed);
  const auto q = Random(c.candidates * c.att_dim, rng);
  const auto k = Random(c.history * c.att_dim, rng);
  const auto v = Random(c.history * c.value_dim, rng);
  Result got;
  ASSERT_TRUE(RunOp(c, q, k, v, &got).ok());
  const Result want = Reference(c, q, k, v);
  EXPECT_EQ(got.selected, want.selected);
  for (size_t i = 0; i < want.weights.size(); ++i) {
    EXPECT_NEAR(got.weights[i], want.weights[i], 1e-5) << i;
    if (std::isinf(want.scores[i])) {
      EXPECT_TRUE(std::isinf(got.scores[i]) && got.scores[i] < 0) << i;
    } else {
      EXPECT_NEAR(got.scores[i], want.scores[i], 1e-4 * (1 + std::abs(want.scores[i]))) << i;
    }
  }
  for (size_t i = 0; i < want.out.size(); ++i) {
    EXPECT_NEAR(got.out[i], want.out[i], 1e-5) << i;
  }
}

TEST(TargetAttentionTopK, MatchesReferenceOnDareShapes) {
  // DARE defaults: 3 x 16-d parts (item, category | time), top 20 of 200.
  ExpectMatches({/*candidates=*/3, /*history=*/200, /*att_dim=*/48, /*value_dim=*/48,
                 /*split_dim=*/32, /*top_k=*/20},
                1);
}

TEST(TargetAttentionTopK, AttentionAndRepresentationDimsDiffer) {
  ExpectMatches({5, 333, 24, 48, 16, 7}, 2);  // d_A = d_R / 2
}

TEST(TargetAttentionTopK, OnePartAndExplicitScales) {
  ExpectMatches({4, 100, 13, 5, 0, 10}, 3);
  ExpectMatches({4, 100, 13, 5, 8, 10, 0.7f, 0.2f}, 4);
}

TEST(TargetAttentionTopK, HistoryShorterThanTopKSelectsOnlyRealBehaviours) {
  ExpectMatches({2, 5, 8, 4, 0, 20}, 5);
  Case padded{2, 30, 8, 4, 0, 20};
  padded.key_valid.assign(30, 0);
  for (int j = 25; j < 30; ++j) padded.key_valid[j] = 1;  // left padding, 5 real behaviours
  ExpectMatches(padded, 6);
  std::mt19937 rng(6);
  const auto q = Random(2 * 8, rng), k = Random(30 * 8, rng), v = Random(30 * 4, rng);
  Result got;
  ASSERT_TRUE(RunOp(padded, q, k, v, &got).ok());
  for (int i = 5; i < 20; ++i) {
    EXPECT_EQ(got.selected[i], -1);
    EXPECT_EQ(got.weights[i], 0.0f);
  }
  EXPECT_NEAR(std::accumulate(got.weights.begin(), got.weights.begin() + 20, 0.0), 1.0, 1e-6);
}

TEST(TargetAttentionTopK, EmptyOrFullyMaskedHistoryGivesZeros) {
  for (int64_t history : {0, 9}) {
    Case c{3, history, 6, 4, 0, 4};
    if (history > 0) c.key_valid.assign(history, 0);
    std::mt19937 rng(7);
    const auto q = Random(3 * 6, rng), k = Random(history * 6, rng), v = Random(history * 4, rng);
    Result got;
    ASSERT_TRUE(RunOp(c, q, k, v, &got).ok());
    for (float x : got.out) EXPECT_EQ(x, 0.0f);
    for (int64_t s : got.selected) EXPECT_EQ(s, -1);
    for (float w : got.weights) EXPECT_EQ(w, 0.0f);
  }
}

TEST(TargetAttentionTopK, MinusInfinityAndNanScoresAreNeverSelected) {
  // Queries of 1s: a key with a -inf entry scores -inf, one with NaN scores NaN. Over a long
  // history too (the blocked path), and a candidate whose keys are all such gets padding.
  for (int64_t history : {6, 5000}) {
    SCOPED_TRACE(history);
    const int64_t d = 4, top_k = 8;
    Case c{1, history, d, 3, 0, top_k};
    std::mt19937 rng(9);
    std::vector<float> q(d, 1.0f), k = Random(history * d, rng), v = Random(history * 3, rng);
    const float inf = std::numeric_limits<float>::infinity();
    for (int64_t j = 0; j < history; ++j) {
      if (j % 3 != 0) k[j * d + j % d] = j % 2 ? -inf : std::nanf("");
    }
    Result got;
    ASSERT_TRUE(RunOp(c, q, k, v, &got).ok());
    int64_t real = 0;
    for (int64_t j : got.selected) {
      if (j < 0) continue;
      ++real;
      EXPECT_EQ(j % 3, 0) << j;
    }
    EXPECT_EQ(real, std::min<int64_t>(top_k, (history + 2) / 3));
    for (int64_t j = 0; j < history; j += 3) k[j * d] = -inf;  // now every score is -inf or NaN
    ASSERT_TRUE(RunOp(c, q, k, v, &got).ok());
    for (int64_t j : got.selected) EXPECT_EQ(j, -1);
    for (float x : got.out) EXPECT_EQ(x, 0.0f);
  }
}

TEST(TargetAttentionTopK, TiesGoToTheEarlierBehaviour) {
  Case c{1, 10, 4, 1, 0, 3};
  std::vector<float> q = {1, 0, 0, 0};
  std::vector<float> k(40, 0.0f), v(10);
  for (int j : {2, 5, 7, 8}) k[j * 4] = 1.0f;  // four equal best scores
  std::iota(v.begin(), v.end(), 0.0f);
  Result got;
  ASSERT_TRUE(RunOp(c, q, k, v, &got).ok());
  EXPECT_EQ(got.selected, (std::vector<int64_t>{2, 5, 7}));
  EXPECT_NEAR(got.out[0], (2 + 5 + 7) / 3.0, 1e-5);
}

TEST(TargetAttentionTopK, LongHistoryAcrossBlocks) {
  ExpectMatches({2, 100'000, 16, 16, 8, 20}, 8);
  ExpectMatches({1, 4099, 8, 8, 0, 64}, 9);
}

// Few distinct scores over a long history: the heap fills early and most later scores tie
// with its worst, so runs that are passed over must never hold a better (earlier) tie.
TEST(TargetAttentionTopK, ManyTiesOverALongHistory) {
  for (int64_t candidates : {1, 3}) {
    Case c{candidates, 5000, 4, 3, 0, 7};
    std::mt19937 rng(11);
    std::uniform_int_distribution<int> level(0, 2);
    std::vector<float> q(candidates * 4, 1.0f), k(c.history * 4);
    for (float& x : k) x = static_cast<float>(level(rng));
    const auto v = Random(c.history * c.value_dim, rng);
    Result got;
    ASSERT_TRUE(RunOp(c, q, k, v, &got).ok());
    EXPECT_EQ(got.selected, Reference(c, q, k, v).selected) << candidates;
  }
}

TEST(TargetAttentionTopK, MaskedPositionsOverALongHistory) {
  Case c{5, 20'000, 8, 4, 4, 16};
  std::mt19937 rng(12);
  c.key_valid.resize(c.history);
  for (auto& valid : c.key_valid) valid = rng() % 3 != 0;
  ExpectMatches(c, 13);
}

// value_dim 0: the search alone (positions and weights), for callers that sum their own values.
TEST(TargetAttentionTopK, SearchWithoutValues) {
  ExpectMatches({4, 3000, 8, 0, 0, 10}, 14);
  ExpectMatches({1, 3000, 8, 0, 0, 10}, 15);
}

TEST(TargetAttentionTopK, ManyCandidates) { ExpectMatches({257, 700, 12, 6, 6, 16}, 10); }

TEST(TargetAttentionTopK, InvalidArgumentsNameTheField) {
  std::vector<float> buf(64, 0.0f);
  std::vector<int64_t> sel(8);
  TargetAttentionParams p;
  p.queries = p.keys = p.values = buf.data();
  p.out = p.weights = buf.data();
  p.selected = sel.data();
  p.num_candidates = 1;
  p.history_len = 4;
  p.att_dim = 4;
  p.value_dim = 4;
  p.top_k = 2;
  ASSERT_TRUE(TargetAttentionTopK(Device::Cpu(), p).ok());

  auto expect_invalid = [](TargetAttentionParams bad, const char* field) {
    const absl::Status s = TargetAttentionTopK(Device::Cpu(), bad);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << field;
    EXPECT_THAT(std::string(s.message()), HasSubstr(field));
  };
  TargetAttentionParams bad = p;
  bad.top_k = 0;
  expect_invalid(bad, "top_k");
  bad = p;
  bad.keys = nullptr;
  expect_invalid(bad, "keys");
  bad = p;
  bad.split_dim = 5;
  expect_invalid(bad, "split_dim");
  bad = p;
  bad.history_len = -1;
  expect_invalid(bad, "history_len");
  bad = p;
  bad.scale0 = std::nanf("");
  expect_invalid(bad, "scale0");
  EXPECT_FALSE(TargetAttentionTopK(Device::Cuda(0), p).ok());
}

}  // namespace
}  // namespace recsys::kernels
