// Label gpu: SASRec's and BERT4Rec's forward pass on a CUDA device against the CPU path on the
// golden fixtures' histories and on a larger random batch (empty histories, histories longer
// than max_len). Skips without a CUDA device.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "models/bert4rec/bert4rec.h"
#include "models/sasrec/sasrec.h"
#include "recsys/kernels/device.h"
#include "tests/models/seqrec_fixtures.h"

namespace recsys::models {
namespace {

std::vector<std::vector<int64_t>> RandomHistories(int64_t users, int64_t num_items,
                                                  int64_t max_len) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int64_t> item(1, num_items), length(0, 2 * max_len);
  std::vector<std::vector<int64_t>> out(static_cast<size_t>(users));
  for (auto& h : out) {
    h.resize(static_cast<size_t>(length(rng)));
    for (int64_t& x : h) x = item(rng);
  }
  out[0].clear();
  return out;
}

template <typename Model>
void ExpectGpuMatchesCpu(const std::string& dir) {
  absl::StatusOr<std::unique_ptr<Model>> cpu = Model::Load(dir, kernels::Device::Cpu());
  absl::StatusOr<std::unique_ptr<Model>> gpu = Model::Load(dir, kernels::Device::Cuda(0));
  ASSERT_TRUE(cpu.ok()) << cpu.status();
  ASSERT_TRUE(gpu.ok()) << gpu.status();
  EXPECT_EQ((*gpu)->device().backend, kernels::Backend::kCuda);
  EXPECT_EQ((*gpu)->item_table(), (*cpu)->item_table());  // the host copy is kept
  const auto& c = (*cpu)->config();
  for (int64_t users : {1, 3, 300}) {
    const auto histories = RandomHistories(users, c.num_items, c.max_len);
    absl::StatusOr<std::vector<float>> want = (*cpu)->UserVectors(histories);
    absl::StatusOr<std::vector<float>> got = (*gpu)->UserVectors(histories);
    ASSERT_TRUE(want.ok()) << want.status();
    ASSERT_TRUE(got.ok()) << got.status();
    ASSERT_EQ(got->size(), want->size());
    int reported = 0;
    for (size_t i = 0; i < got->size(); ++i) {
      const float a = (*got)[i], e = (*want)[i];
      if (std::abs(a - e) > 1e-4f * std::max(1.0f, std::abs(e)) && reported++ < 5) {
        ADD_FAILURE() << dir << " users " << users << " [" << i << "]: gpu " << a << " vs cpu "
                      << e;
      }
    }
  }
  // Bad ids are refused on the host before anything reaches the device.
  EXPECT_EQ((*gpu)->UserVectors({{c.num_items + 1}}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

class SeqRecGpuTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (kernels::CudaDeviceCount() == 0) GTEST_SKIP() << "no CUDA device (or built without CUDA)";
  }
};

TEST_P(SeqRecGpuTest, ForwardPassMatchesTheCpu) {
  const std::string dir = std::string(RECSYS_TESTDATA_DIR) + "/" + GetParam() + "/1";
  if (testing::IsBert4RecFixture(GetParam())) {
    ExpectGpuMatchesCpu<Bert4Rec>(dir);
  } else {
    ExpectGpuMatchesCpu<SasRec>(dir);
  }
}

INSTANTIATE_TEST_SUITE_P(Models, SeqRecGpuTest, testing::SeqRecFixtures(),
                         testing::FixtureTestName);

}  // namespace
}  // namespace recsys::models
