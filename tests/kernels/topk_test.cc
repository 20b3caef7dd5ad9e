#include "recsys/kernels/topk.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <set>
#include <vector>

#include "tests/testing/status_matchers.h"

namespace recsys::kernels {
namespace {

using ::recsys::testing::IsOk;
using ::recsys::testing::StatusIs;
using ::testing::HasSubstr;

constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;
constexpr float kInf = std::numeric_limits<float>::infinity();

// One CatalogTopK problem with owned buffers. Embeddings are integer-valued by default so
// every score is exact in fp32 and the expected ids (ties included) are unambiguous.
struct Case {
  int64_t batch = 0, num_items = 0, dim = 0, k = 0;
  std::vector<float> users, items, bias;
  std::vector<int64_t> offsets, excluded;  // CSR exclusions; empty offsets = none
  std::vector<int64_t> out_ids;
  std::vector<float> out_scores;

  Case(int64_t batch_in, int64_t num_items_in, int64_t dim_in, int64_t k_in, uint32_t seed = 1,
       int max_abs = 50)
      : batch(batch_in), num_items(num_items_in), dim(dim_in), k(k_in) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> dist(-max_abs, max_abs);
    users.resize(batch * dim);
    items.resize(num_items * dim);
    for (float& x : users) x = static_cast<float>(dist(rng));
    for (float& x : items) x = static_cast<float>(dist(rng));
  }

  CatalogTopKParams Params() {
    out_ids.assign(batch * k, -7);
    out_scores.assign(batch * k, 7.0f);
    CatalogTopKParams p;
    p.users = users.data();
    p.items = items.data();
    p.batch = batch;
    p.num_items = num_items;
    p.dim = dim;
    p.k = k;
    p.item_bias = bias.empty() ? nullptr : bias.data();
    p.exclude_offsets = offsets.empty() ? nullptr : offsets.data();
    p.exclude_ids = offsets.empty() ? nullptr : excluded.data();
    p.out_ids = out_ids.data();
    p.out_scores = out_scores.data();
    return p;
  }

  // Double-precision scores of user b over the whole catalogue.
  std::vector<double> Scores(int64_t b) const {
    std::vector<double> s(num_items);
    for (int64_t j = 0; j < num_items; ++j) {
      double dot = bias.empty() ? 0.0 : bias[j];
      for (int64_t d = 0; d < dim; ++d) {
        dot += static_cast<double>(users[b * dim + d]) * items[j * dim + d];
      }
      s[j] = std::isnan(dot) ? -kInf : dot;
    }
    return s;
  }

  // Brute force: eligible rows stably sorted by score (ties keep the lower row first).
  void Reference(int64_t b, std::vector<int64_t>* ids, std::vector<double>* scores) const {
    const std::vector<double> s = Scores(b);
    std::set<int64_t> skip;
    if (!offsets.empty())
      skip.insert(excluded.begin() + offsets[b], excluded.begin() + offsets[b + 1]);
    std::vector<int64_t> rows;
    for (int64_t j = 0; j < num_items; ++j) {
      if (skip.count(j) == 0) rows.push_back(j);
    }
    std::stable_sort(rows.begin(), rows.end(), [&s](int64_t x, int64_t y) { return s[x] > s[y]; });
    ids->assign(k, -1);
    scores->assign(k, -kInf);
    for (int64_t i = 0; i < k && i < static_cast<int64_t>(rows.size()); ++i) {
      (*ids)[i] = rows[i];
      (*scores)[i] = s[rows[i]];
    }
  }

  // Runs the op and checks ids exactly and scores within 1e-4 relative.
  void RunAndExpectExact() {
    ASSERT_THAT(CatalogTopK(Device::Cpu(), Params()), IsOk());
    std::vector<int64_t> want_ids;
    std::vector<double> want_scores;
    for (int64_t b = 0; b < batch; ++b) {
      Reference(b, &want_ids, &want_scores);
      for (int64_t i = 0; i < k; ++i) {
        ASSERT_EQ(out_ids[b * k + i], want_ids[i]) << "user " << b << " rank " << i;
        const float got = out_scores[b * k + i];
        if (std::isinf(want_scores[i])) {
          ASSERT_EQ(got, want_scores[i]) << "user " << b << " rank " << i;
        } else {
          ASSERT_NEAR(got, want_scores[i], 1e-4 * std::max(1.0, std::abs(want_scores[i])))
              << "user " << b << " rank " << i;
        }
      }
    }
  }
};

struct Shape {
  int64_t batch, num_items, dim, k;
};

TEST(CatalogTopK, MatchesReferenceAcrossShapes) {
  const Shape shapes[] = {{1, 1, 8, 1},       {3, 5, 8, 10},       {3, 5, 8, 5},
                          {17, 1000, 8, 10},  {1, 1000, 8, 1},     {3, 1000, 1, 10},
                          {3, 1000, 64, 10},  {17, 1000, 64, 100}, {3, 100003, 8, 10},
                          {17, 100003, 8, 1}, {1, 100003, 8, 10},  {300, 5000, 8, 10},
                          {17, 9000, 64, 10}, {3, 4096, 8, 4096},  {2, 4097, 8, 5000}};
  uint32_t seed = 1;
  for (const Shape& s : shapes) {
    SCOPED_TRACE(::testing::Message() << "batch=" << s.batch << " num_items=" << s.num_items
                                      << " dim=" << s.dim << " k=" << s.k);
    Case c(s.batch, s.num_items, s.dim, s.k, seed++);
    c.RunAndExpectExact();
  }
}

TEST(CatalogTopK, ItemBias) {
  Case c(17, 10000, 8, 10, 3);
  std::mt19937 rng(4);
  std::uniform_int_distribution<int> dist(-3000, 3000);
  c.bias.resize(c.num_items);
  for (float& x : c.bias) x = static_cast<float>(dist(rng));
  c.RunAndExpectExact();
}

TEST(CatalogTopK, ExclusionsSkipRowsAndIgnoreOutOfRangeIds) {
  Case c(4, 10000, 8, 10, 5, /*max_abs=*/4);  // few distinct scores: many exact ties
  // Exclude each user's unconstrained top 20 (plus noise) so exclusions matter.
  std::vector<std::vector<int64_t>> per_user(c.batch);
  for (int64_t b = 0; b < c.batch; ++b) {
    Case plain = c;
    plain.k = 20;
    std::vector<int64_t> top;
    std::vector<double> unused;
    plain.Reference(b, &top, &unused);
    per_user[b] = top;
  }
  per_user[0].insert(per_user[0].end(), {-1, 10000, std::numeric_limits<int64_t>::max(), 0, 4095,
                                         4096, 8191, 8192, 9999});
  const std::vector<int64_t> twice = per_user[1];
  per_user[1].insert(per_user[1].end(), twice.begin(), twice.end());  // duplicates
  std::reverse(per_user[1].begin(), per_user[1].end());
  per_user[2].clear();  // no exclusions
  c.offsets = {0};
  for (const auto& ids : per_user) {
    c.excluded.insert(c.excluded.end(), ids.begin(), ids.end());
    c.offsets.push_back(static_cast<int64_t>(c.excluded.size()));
  }
  c.RunAndExpectExact();
}

TEST(CatalogTopK, AllExcludedGivesPadding) {
  Case c(2, 7, 8, 3, 6);
  c.offsets = {0, 7, 9};
  c.excluded = {6, 5, 4, 3, 2, 1, 0, 2, 5};  // user 0: everything; user 1: rows 2 and 5
  c.RunAndExpectExact();
  for (int64_t i = 0; i < 3; ++i) {
    EXPECT_EQ(c.out_ids[i], -1);
    EXPECT_EQ(c.out_scores[i], -kInf);
  }
}

TEST(CatalogTopK, ExactTiesGoToLowerRow) {
  Case c(3, 12000, 16, 10, 7);
  // Copies of row 100 at rows spread over several blocks, and a dominating item repeated.
  const int64_t copies[] = {3, 4095, 4096, 7000, 11999};
  for (int64_t r : copies) {
    std::copy_n(c.items.begin() + 100 * c.dim, c.dim, c.items.begin() + r * c.dim);
  }
  for (int64_t r : {11000, 50, 9000}) {
    for (int64_t d = 0; d < c.dim; ++d) c.items[r * c.dim + d] = c.users[d] * 10.0f;
  }
  c.RunAndExpectExact();
  // User 0 sees the dominating item first, lowest row first.
  EXPECT_EQ(c.out_ids[0], 50);
  EXPECT_EQ(c.out_ids[1], 9000);
  EXPECT_EQ(c.out_ids[2], 11000);
}

TEST(CatalogTopK, ZeroDimScoresEqualBias) {
  Case c(3, 20, 0, 4);
  c.RunAndExpectExact();  // all scores 0: rows 0..3
  EXPECT_EQ(c.out_ids[0], 0);
  EXPECT_EQ(c.out_ids[3], 3);
  c.bias.assign(20, 0.0f);
  c.bias[17] = 2.0f;
  c.bias[9] = 1.0f;
  c.RunAndExpectExact();
  EXPECT_EQ(c.out_ids[0], 17);
  EXPECT_EQ(c.out_ids[1], 9);
}

TEST(CatalogTopK, NaNAndMinusInfinityRankLast) {
  Case c(2, 6, 4, 8, 8);
  c.bias.assign(6, 0.0f);
  c.bias[1] = -kInf;
  c.bias[4] = std::numeric_limits<float>::quiet_NaN();
  // Both are still eligible, after every finite score, as -inf, lower row first; then padding.
  c.RunAndExpectExact();
  for (int64_t b = 0; b < 2; ++b) {
    EXPECT_EQ(c.out_ids[b * 8 + 4], 1);
    EXPECT_EQ(c.out_ids[b * 8 + 5], 4);
    EXPECT_EQ(c.out_scores[b * 8 + 5], -kInf);
    EXPECT_EQ(c.out_ids[b * 8 + 6], -1);
  }
}

TEST(CatalogTopK, RealValuedDataWithinTolerance) {
  const int64_t batch = 5, num_items = 20000, dim = 64, k = 50;
  std::mt19937 rng(9);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  Case c(batch, num_items, dim, k);
  for (float& x : c.users) x = dist(rng);
  for (float& x : c.items) x = dist(rng);
  ASSERT_THAT(CatalogTopK(Device::Cpu(), c.Params()), IsOk());
  for (int64_t b = 0; b < batch; ++b) {
    std::vector<int64_t> want_ids;
    std::vector<double> want_scores;
    c.Reference(b, &want_ids, &want_scores);
    const std::vector<double> all = c.Scores(b);
    std::set<int64_t> seen;
    for (int64_t i = 0; i < k; ++i) {
      const int64_t id = c.out_ids[b * k + i];
      const double tol = 1e-4 * std::max(1.0, std::abs(want_scores[i]));
      ASSERT_NEAR(c.out_scores[b * k + i], want_scores[i], tol) << "user " << b << " rank " << i;
      // Near-ties may swap ids, but each id must be a distinct row carrying its score.
      ASSERT_TRUE(id >= 0 && id < num_items);
      ASSERT_TRUE(seen.insert(id).second) << "duplicate id " << id;
      ASSERT_NEAR(all[id], c.out_scores[b * k + i], tol);
    }
  }
}

TEST(CatalogTopK, EmptyShapes) {
  Case none(0, 10, 4, 3);
  CatalogTopKParams p = none.Params();
  p.users = nullptr;
  p.out_ids = nullptr;
  p.out_scores = nullptr;
  EXPECT_THAT(CatalogTopK(Device::Cpu(), p), IsOk());
  Case no_items(3, 0, 4, 2);
  no_items.RunAndExpectExact();  // all padding
  EXPECT_EQ(no_items.out_ids[5], -1);
  EXPECT_EQ(no_items.out_scores[5], -kInf);
}

TEST(CatalogTopK, InvalidArgumentsNameTheField) {
  Case c(2, 10, 4, 3);
  const CatalogTopKParams good = c.Params();
  const auto expect_invalid = [](const CatalogTopKParams& p, const char* text) {
    EXPECT_THAT(CatalogTopK(Device::Cpu(), p), StatusIs(kInvalid, HasSubstr(text)));
  };
  CatalogTopKParams p = good;
  p.k = 0;
  expect_invalid(p, "CatalogTopK: k (0) must be > 0");
  p.k = -5;
  expect_invalid(p, "k (-5)");
  p = good;
  p.batch = -1;
  expect_invalid(p, "batch (-1)");
  p = good;
  p.num_items = -3;
  expect_invalid(p, "num_items (-3)");
  p = good;
  p.dim = -2;
  expect_invalid(p, "dim (-2)");
  p = good;
  p.users = nullptr;
  expect_invalid(p, "CatalogTopK: users is null");
  p = good;
  p.items = nullptr;
  expect_invalid(p, "items is null");
  p = good;
  p.out_ids = nullptr;
  expect_invalid(p, "out_ids is null");
  p = good;
  p.out_scores = nullptr;
  expect_invalid(p, "out_scores is null");
  const std::vector<int64_t> ids = {1, 2, 3};
  p = good;
  p.exclude_ids = ids.data();
  expect_invalid(p, "exclude_offsets is null");
  const std::vector<int64_t> not_from_zero = {1, 2, 3};
  p.exclude_offsets = not_from_zero.data();
  expect_invalid(p, "exclude_offsets[0] (1) must be 0");
  const std::vector<int64_t> decreasing = {0, 2, 1};
  p.exclude_offsets = decreasing.data();
  expect_invalid(p, "exclude_offsets[2] (1)");
  const std::vector<int64_t> valid = {0, 1, 3};
  p.exclude_offsets = valid.data();
  p.exclude_ids = nullptr;
  expect_invalid(p, "exclude_ids is null");
  // With no exclusions at all, the (empty) ids may be null.
  const std::vector<int64_t> empty = {0, 0, 0};
  p.exclude_offsets = empty.data();
  EXPECT_THAT(CatalogTopK(Device::Cpu(), p), IsOk());
  EXPECT_FALSE(CatalogTopK(Device::Cuda(0), good).ok());
}

}  // namespace
}  // namespace recsys::kernels
