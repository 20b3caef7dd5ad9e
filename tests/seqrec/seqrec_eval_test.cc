// The offline evaluator: file reading, metrics, negative sampling and the ranks it computes
// through SeqRecModel on a committed fixture (parity with the PyTorch evaluator on a freshly
// trained model is seqrec_eval_parity_test).
#include "services/seqrec/eval/seqrec_eval.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include "absl/strings/str_cat.h"

namespace recsys::seqrec {
namespace {

namespace fs = std::filesystem;

std::string WriteFile(const std::string& name, const std::string& text) {
  const fs::path path = fs::path(testing::TempDir()) / name;
  std::ofstream(path) << text;
  return path.string();
}

TEST(ReadInteractions, GroupsByUserInFileOrder) {
  auto log = ReadInteractions(WriteFile("log.txt", "7 10\n7 11\n\n3 12\n7 13\n"));
  ASSERT_TRUE(log.ok()) << log.status();
  ASSERT_EQ(log->sequences.size(), 2u);
  EXPECT_EQ(log->sequences[0], (std::vector<int64_t>{10, 11, 13}));
  EXPECT_EQ(log->sequences[1], (std::vector<int64_t>{12}));
}

TEST(ReadInteractions, NamesTheBadLineAndTheMissingFile) {
  auto bad = ReadInteractions(WriteFile("bad.txt", "1 2\n1\n"));
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("bad.txt:2"), std::string::npos) << bad.status();
  EXPECT_EQ(ReadInteractions("/nonexistent/log.txt").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(MetricsFromRanks, MatchesTheDefinitions) {
  const EvalMetrics m = MetricsFromRanks({0, 4, 20});
  EXPECT_EQ(m.users, 3);
  EXPECT_DOUBLE_EQ(m.hr1, 1.0 / 3);
  EXPECT_DOUBLE_EQ(m.hr5, 2.0 / 3);
  EXPECT_DOUBLE_EQ(m.hr10, 2.0 / 3);
  EXPECT_NEAR(m.ndcg5, (1.0 + 1.0 / std::log2(6.0)) / 3, 1e-12);
  EXPECT_NEAR(m.ndcg10, m.ndcg5, 1e-12);
  EXPECT_NEAR(m.mrr, (1.0 + 1.0 / 5 + 1.0 / 21) / 3, 1e-12);
}

TEST(SampleNegatives, NeverDrawsRatedItems) {
  std::mt19937_64 rng(1);
  const std::vector<int64_t> rated = {2, 3, 5};
  const auto negatives = SampleNegatives(rng, rated, 6, 1000, {});
  ASSERT_EQ(negatives.size(), 1000u);
  std::vector<int> seen(7, 0);
  for (int64_t n : negatives) {
    ASSERT_GE(n, 1);
    ASSERT_LE(n, 6);
    ++seen[n];
  }
  EXPECT_EQ(seen[2] + seen[3] + seen[5], 0);
  EXPECT_GT(seen[1], 250);  // uniform over the three unrated items
  EXPECT_GT(seen[4], 250);
  EXPECT_GT(seen[6], 250);
}

TEST(SampleNegatives, FollowsPopularityAndSkipsItemsNobodyTouched) {
  std::mt19937_64 rng(2);
  // Counts per row 0..4: padding 0, item 1: 30, item 2: 0, item 3: 10, item 4: 60.
  const std::vector<double> cumulative = {0, 30, 30, 40, 100};
  const auto negatives = SampleNegatives(rng, {4}, 4, 4000, cumulative);
  ASSERT_EQ(negatives.size(), 4000u);
  int ones = 0, threes = 0;
  for (int64_t n : negatives) {
    ASSERT_TRUE(n == 1 || n == 3) << n;
    (n == 1 ? ones : threes)++;
  }
  EXPECT_NEAR(static_cast<double>(ones) / 4000, 0.75, 0.03);  // 30 : 10
  EXPECT_NEAR(static_cast<double>(threes) / 4000, 0.25, 0.03);
}

TEST(SampleNegatives, ReturnsNothingWhenNoItemIsLeft) {
  std::mt19937_64 rng(3);
  EXPECT_TRUE(SampleNegatives(rng, {1, 2, 3}, 3, 10, {}).empty());
  EXPECT_TRUE(SampleNegatives(rng, {1, 3}, 3, 10, {0, 5, 5, 9}).empty());  // item 2 unseen
}

class RankHeldOutTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto model = SeqRecModel::Load(absl::StrCat(RECSYS_TESTDATA_DIR, "/", GetParam(), "/1"));
    ASSERT_TRUE(model.ok()) << model.status();
    model_ = std::move(*model);
    // Ten users walking the catalogue with different strides, by catalogue id.
    for (int64_t u = 0; u < 10; ++u) {
      std::vector<int64_t> seq;
      for (int64_t j = 0; j < 4 + u; ++j) {
        seq.push_back(model_->ItemId(1 + (u + j * (u + 1)) % model_->num_items()));
      }
      log_.sequences.push_back(seq);
    }
    log_.sequences.push_back({model_->ItemId(1), model_->ItemId(2)});  // too short: skipped
  }

  // The full-catalogue rank by brute force: items scored above the held-out one, the
  // user's other items left out.
  int64_t BruteForceRank(const std::vector<int64_t>& seq, bool test) {
    std::vector<int64_t> rows;
    for (int64_t id : seq) rows.push_back(*model_->Row(id));
    const size_t cut = rows.size() - (test ? 1 : 2);
    std::vector<int64_t> history(rows.begin(), rows.begin() + static_cast<long>(cut));
    if (static_cast<int64_t>(history.size()) > model_->max_history()) {
      history.erase(history.begin(), history.end() - model_->max_history());
    }
    auto user = model_->UserVectors({history});
    EXPECT_TRUE(user.ok()) << user.status();
    const int64_t d = model_->hidden();
    auto score = [&](int64_t row) {
      double s = model_->bias() ? model_->bias()[row] : 0.0;
      for (int64_t i = 0; i < d; ++i) s += (*user)[i] * model_->table()[row * d + i];
      return s;
    };
    const double target = score(rows[cut]);
    int64_t higher = 0;
    for (int64_t r = 1; r <= model_->num_items(); ++r) {
      if (std::find(rows.begin(), rows.end(), r) == rows.end()) higher += score(r) > target;
    }
    return higher;
  }

  std::unique_ptr<SeqRecModel> model_;
  InteractionLog log_;
};

TEST_P(RankHeldOutTest, FullRankingCountsHigherUnratedItems) {
  for (bool test : {true, false}) {
    EvalOptions options;
    options.protocol = Protocol::kFull;
    options.test = test;
    options.batch_size = 3;  // several chunks
    auto ranks = RankHeldOut(*model_, log_, options);
    ASSERT_TRUE(ranks.ok()) << ranks.status();
    ASSERT_EQ(ranks->size(), 10u);
    for (size_t u = 0; u < 10; ++u) {
      EXPECT_EQ((*ranks)[u], BruteForceRank(log_.sequences[u], test)) << "user " << u;
    }
  }
}

TEST_P(RankHeldOutTest, SampledProtocolsRankAmongTheNegatives) {
  for (Protocol protocol : {Protocol::kUniform, Protocol::kPopularity}) {
    EvalOptions options;
    options.protocol = protocol;
    options.num_negatives = 7;
    options.max_users = 6;
    auto ranks = RankHeldOut(*model_, log_, options);
    ASSERT_TRUE(ranks.ok()) << ranks.status();
    ASSERT_EQ(ranks->size(), 6u);
    for (int64_t r : *ranks) {
      EXPECT_GE(r, 0);
      EXPECT_LE(r, 7);
    }
    auto again = RankHeldOut(*model_, log_, options);  // seeded: the same sample
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, *ranks);
  }
}

TEST_P(RankHeldOutTest, UnknownItemsAreNamed) {
  log_.sequences.push_back({model_->ItemId(1), 987654321, model_->ItemId(2)});
  auto ranks = RankHeldOut(*model_, log_, EvalOptions{});
  EXPECT_EQ(ranks.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(ranks.status().message().find("987654321"), std::string::npos) << ranks.status();
}

INSTANTIATE_TEST_SUITE_P(Fixtures, RankHeldOutTest,
                         ::testing::Values("sasrec-tiny", "bert4rec-tiny"));

}  // namespace
}  // namespace recsys::seqrec
