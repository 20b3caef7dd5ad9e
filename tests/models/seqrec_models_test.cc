// SASRec's and BERT4Rec's C++ inference against the PyTorch modules they were exported from:
// golden fixtures
// written by models/training/recsys_train/make_golden.py (committed under testdata/, or a
// freshly trained set in $RECSYS_GOLDEN_DIR), for every SASRec block layout.
#include "models/bert4rec/bert4rec.h"
#include "models/sasrec/sasrec.h"

#include <google/protobuf/struct.pb.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/models/seqrec_fixtures.h"
#include "tests/testing/json_file.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace recsys::models {
namespace {

using ::recsys::testing::IsOk;
using ::recsys::testing::StatusIs;
using ::testing::HasSubstr;

std::string GoldenDir() { return recsys::testing::GoldenDir(RECSYS_TESTDATA_DIR); }

struct Golden {
  std::vector<std::vector<int64_t>> histories, candidates;
  std::vector<std::vector<double>> scores, user_vectors;
};

std::vector<std::vector<double>> Matrix(const google::protobuf::Value& v) {
  std::vector<std::vector<double>> out;
  for (const auto& row : v.list_value().values()) {
    out.emplace_back();
    for (const auto& x : row.list_value().values()) out.back().push_back(x.number_value());
  }
  return out;
}

std::vector<std::vector<int64_t>> IntMatrix(const google::protobuf::Value& v) {
  std::vector<std::vector<int64_t>> out;
  for (const auto& row : Matrix(v)) out.emplace_back(row.begin(), row.end());
  return out;
}

Golden ReadGolden(const std::string& path) {
  const google::protobuf::Struct root = recsys::testing::ReadJsonFile(path);
  const auto& f = root.fields();
  Golden g;
  if (f.count("histories") == 0) return g;
  g.histories = IntMatrix(f.at("histories"));
  g.candidates = IntMatrix(f.at("candidates"));
  g.scores = Matrix(f.at("scores"));
  g.user_vectors = Matrix(f.at("user_vectors"));
  return g;
}

// |ours - torch| <= 1e-4 * max(1, |torch|): relative, with an absolute floor near zero.
void ExpectClose(double ours, double torch, const std::string& what) {
  EXPECT_LE(std::abs(ours - torch), 1e-4 * std::max(1.0, std::abs(torch)))
      << what << ": C++ " << ours << " vs PyTorch " << torch;
}

template <typename Model>
void CheckGolden(const std::string& dir) {
  absl::StatusOr<std::unique_ptr<Model>> model = Model::Load(dir + "/1");
  ASSERT_THAT(model.status(), IsOk());
  const Golden g = ReadGolden(dir + "/golden.json");
  ASSERT_FALSE(g.histories.empty()) << dir;
  absl::StatusOr<std::vector<float>> users = (*model)->UserVectors(g.histories);
  ASSERT_THAT(users.status(), IsOk());
  const int64_t d = (*model)->config().hidden;
  for (size_t b = 0; b < g.histories.size(); ++b) {
    for (int64_t i = 0; i < d; ++i) {
      ExpectClose((*users)[b * d + i], g.user_vectors[b][i],
                  "user " + std::to_string(b) + " dim " + std::to_string(i));
    }
  }
  absl::StatusOr<std::vector<float>> scores = (*model)->Score(g.histories, g.candidates);
  ASSERT_THAT(scores.status(), IsOk());
  size_t at = 0;
  for (size_t b = 0; b < g.candidates.size(); ++b) {
    for (size_t c = 0; c < g.candidates[b].size(); ++c) {
      ExpectClose((*scores)[at++], g.scores[b][c],
                  "user " + std::to_string(b) + " candidate " + std::to_string(c));
    }
  }
}

class GoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenTest, MatchesThePyTorchModule) {
  const std::string dir = GoldenDir() + "/" + GetParam();
  if (testing::IsBert4RecFixture(GetParam())) {
    CheckGolden<Bert4Rec>(dir);
  } else {
    CheckGolden<SasRec>(dir);
  }
}

INSTANTIATE_TEST_SUITE_P(Models, GoldenTest, testing::SeqRecFixtures(),
                         testing::FixtureTestName);

TEST(Bert4RecTest, BadInputNamesTheItemAndTheLimit) {
  absl::StatusOr<std::unique_ptr<Bert4Rec>> model =
      Bert4Rec::Load(std::string(RECSYS_TESTDATA_DIR) + "/bert4rec-tiny/1");
  ASSERT_THAT(model.status(), IsOk());
  const int64_t n = (*model)->config().num_items;
  // [MASK] (n + 1) is not an item a history may hold.
  EXPECT_THAT((*model)->UserVectors({{1, n + 1}}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("histories[0][1]")));
  EXPECT_THAT((*model)->Score({{1}}, {{n + 1}}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("candidates[0][0]")));
  EXPECT_THAT(Bert4Rec::Load(std::string(RECSYS_TESTDATA_DIR) + "/sasrec-tiny/1").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not bert4rec")));
}

TEST(SasRecTest, BadInputNamesTheItemAndTheLimit) {
  absl::StatusOr<std::unique_ptr<SasRec>> model =
      SasRec::Load(std::string(RECSYS_TESTDATA_DIR) + "/sasrec-tiny/1");
  ASSERT_THAT(model.status(), IsOk());
  const int64_t n = (*model)->config().num_items;
  EXPECT_THAT((*model)->UserVectors({{1, n + 1}}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("histories[0][1]")));
  EXPECT_THAT((*model)->Score({{1}}, {{0}}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("candidates[0][0]")));
  EXPECT_THAT((*model)->Score({{1}}, {}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("candidates")));
}

TEST(SeqRecModelsTest, ADeviceThisProcessCannotUseIsRefusedAtLoad) {
  const std::string dir = std::string(RECSYS_TESTDATA_DIR);
  EXPECT_THAT(SasRec::Load(dir + "/sasrec-tiny/1", kernels::Device::Cuda(4096)).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, ::testing::_));
  EXPECT_THAT(Bert4Rec::Load(dir + "/bert4rec-tiny/1", kernels::Device::Cuda(4096)).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, ::testing::_));
}

TEST(SasRecTest, MissingOrMismatchedFilesAreRefusedByName) {
  EXPECT_THAT(SasRec::Load("/nonexistent").status(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("config.json")));
  recsys::testing::TempDir dir;
  {
    std::ofstream(dir.File("config.json")) << R"({"architecture": "bert4rec"})";
  }
  EXPECT_THAT(SasRec::Load(dir.path()).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not sasrec")));
  {
    std::ifstream in(std::string(RECSYS_TESTDATA_DIR) + "/sasrec-tiny/1/config.json");
    std::stringstream text;
    text << in.rdbuf();
    std::ofstream(dir.File("config.json")) << text.str();  // no model.safetensors beside it
  }
  EXPECT_THAT(SasRec::Load(dir.path()).status(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("model.safetensors")));
}

}  // namespace
}  // namespace recsys::models
