// DARE's and TWIN's C++ inference against the PyTorch module they were exported from: golden
// fixtures written by models/training/recsys_train/make_golden_ctr.py (committed under
// testdata/, or a freshly trained set in $RECSYS_GOLDEN_DIR).
#include "models/dare/dare.h"

#include <google/protobuf/struct.pb.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "tests/testing/json_file.h"
#include "tests/testing/status_matchers.h"

namespace recsys::models {
namespace {

using ::recsys::testing::IsOk;
using ::recsys::testing::StatusIs;
using ::testing::HasSubstr;

std::string GoldenDir() { return recsys::testing::GoldenDir(RECSYS_TESTDATA_DIR); }

std::vector<double> Numbers(const google::protobuf::Value& v) {
  std::vector<double> out;
  for (const auto& x : v.list_value().values()) out.push_back(x.number_value());
  return out;
}

std::vector<int64_t> Ints(const google::protobuf::Value& v) {
  std::vector<int64_t> out;
  for (double x : Numbers(v)) out.push_back(static_cast<int64_t>(x));
  return out;
}

google::protobuf::Struct ReadGolden(const std::string& name) {
  return recsys::testing::ReadJsonFile(GoldenDir() + "/" + name + "/golden.json");
}

class DareGoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(DareGoldenTest, MatchesThePyTorchModule) {
  auto model = Dare::Load(GoldenDir() + "/" + GetParam() + "/1");
  ASSERT_THAT(model.status(), IsOk());
  const int64_t k = (*model)->config().top_k;
  const google::protobuf::Struct golden = ReadGolden(GetParam());
  const auto& users = golden.fields().at("users").list_value();
  ASSERT_GE(users.values_size(), 5);
  for (int u = 0; u < users.values_size(); ++u) {
    const auto& f = users.values(u).struct_value().fields();
    const std::vector<int64_t> hist = Ints(f.at("history_items"));
    const std::vector<int64_t> cands = Ints(f.at("candidate_items"));
    auto scores = (*model)->Score(hist, Ints(f.at("history_categories")), cands,
                                  Ints(f.at("candidate_categories")));
    ASSERT_THAT(scores.status(), IsOk()) << "user " << u;
    auto found = (*model)->Search(hist, Ints(f.at("history_categories")), cands,
                                  Ints(f.at("candidate_categories")));
    ASSERT_THAT(found.status(), IsOk()) << "user " << u;
    EXPECT_EQ(found->selected, scores->selected) << "user " << u;
    EXPECT_EQ(found->weights, scores->weights) << "user " << u;
    EXPECT_TRUE(found->probabilities.empty());
    const std::vector<double> want = Numbers(f.at("probabilities"));
    ASSERT_EQ(scores->probabilities.size(), want.size());
    const auto& selected = f.at("selected").list_value();
    const auto& weights = f.at("weights").list_value();
    for (size_t c = 0; c < want.size(); ++c) {
      EXPECT_NEAR(scores->probabilities[c], want[c], 1e-4 * std::max(1.0, std::abs(want[c])))
          << GetParam() << " user " << u << " candidate " << c;
      const std::vector<int64_t> picks = Ints(selected.values(static_cast<int>(c)));
      const std::vector<double> w = Numbers(weights.values(static_cast<int>(c)));
      // The module's positions index the truncated history; ours the history as given.
      const int64_t skipped =
          std::max<int64_t>(0, static_cast<int64_t>(hist.size()) - (*model)->config().max_len);
      for (int64_t i = 0; i < k; ++i) {
        const size_t at = c * static_cast<size_t>(k) + static_cast<size_t>(i);
        if (i < static_cast<int64_t>(picks.size())) {
          EXPECT_EQ(scores->selected[at], picks[i] + skipped) << "user " << u << " cand " << c;
          EXPECT_NEAR(scores->weights[at], w[i], 1e-5);
        } else {  // fewer behaviours than K: padding, never a selected padding row
          EXPECT_EQ(scores->selected[at], -1);
          EXPECT_EQ(scores->weights[at], 0.0f);
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Models, DareGoldenTest, ::testing::Values("dare-tiny", "twin-tiny", "dare-long"));

TEST(DareModel, BadIdsAndShapesAreNamed) {
  auto model = Dare::Load(std::string(RECSYS_TESTDATA_DIR) + "/dare-tiny/1");
  ASSERT_THAT(model.status(), IsOk());
  const int64_t n = (*model)->config().num_items;
  EXPECT_THAT((*model)->Score({1, n + 1}, {1, 1}, {2}, {1}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("history_items[1]")));
  EXPECT_THAT((*model)->Score({1}, {99}, {2}, {1}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("history_categories[0]")));
  EXPECT_THAT((*model)->Score({1}, {1}, {0}, {1}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("candidate_items[0]")));
  EXPECT_THAT((*model)->Score({1, 2}, {1}, {2}, {1}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("one entry per")));
  EXPECT_THAT(Dare::Load(std::string(RECSYS_TESTDATA_DIR) + "/sasrec-tiny/1").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not dare")));
}

}  // namespace
}  // namespace recsys::models
