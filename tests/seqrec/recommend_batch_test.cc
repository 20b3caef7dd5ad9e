// ComputeTopK: requests batched together get what each would get alone.
#include "services/seqrec/recommend_batch.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

namespace recsys::seqrec {
namespace {

std::shared_ptr<const SeqRecModel> Load(const std::string& fixture) {
  auto model = SeqRecModel::Load(absl::StrCat(RECSYS_TESTDATA_DIR, "/", fixture, "/1"));
  EXPECT_TRUE(model.ok()) << model.status();
  return std::shared_ptr<const SeqRecModel>(std::move(*model));
}

TopKRequest Request(std::shared_ptr<const SeqRecModel> model,
                    std::vector<std::vector<int64_t>> histories,
                    std::vector<std::vector<int64_t>> excluded, int64_t k) {
  TopKRequest r;
  r.model = std::move(model);
  r.histories = std::move(histories);
  r.exclude_offsets = {0};
  for (const auto& rows : excluded) {
    r.exclude_rows.insert(r.exclude_rows.end(), rows.begin(), rows.end());
    r.exclude_offsets.push_back(static_cast<int64_t>(r.exclude_rows.size()));
  }
  r.k = k;
  return r;
}

TEST(ComputeTopK, BatchedRequestsGetTheirSoloResults) {
  for (const char* fixture : {"sasrec-tiny", "bert4rec-tiny"}) {
    auto model = Load(fixture);
    auto other = Load(fixture);  // another version object: its own group
    const std::vector<TopKRequest> requests = {
        Request(model, {{1, 2, 3}, {4}}, {{0, 1, 2, 3}, {0}}, 5),
        Request(model, {{7, 8}}, {{0, 7, 8, 9, 10}}, 12),
        Request(other, {{5, 6}}, {{0}}, 3),
        Request(model, {{2}}, {{0, 2}}, 1),
    };
    std::vector<const TopKRequest*> batch;
    for (const TopKRequest& r : requests) batch.push_back(&r);
    const auto together = ComputeTopK(batch);
    ASSERT_EQ(together.size(), requests.size());
    for (size_t i = 0; i < requests.size(); ++i) {
      const TopKRequest* one[] = {&requests[i]};
      const auto alone = ComputeTopK(one);
      ASSERT_TRUE(together[i].ok()) << together[i].status();
      ASSERT_TRUE(alone[0].ok()) << alone[0].status();
      EXPECT_EQ(together[i]->rows, alone[0]->rows) << fixture << " request " << i;
      ASSERT_EQ(together[i]->scores.size(), alone[0]->scores.size());
      for (size_t j = 0; j < alone[0]->scores.size(); ++j) {
        EXPECT_NEAR(together[i]->scores[j], alone[0]->scores[j], 1e-5);
      }
      EXPECT_EQ(together[i]->rows.size(), requests[i].histories.size() * requests[i].k);
    }
    // Exclusions hold per user: request 1 never gets rows 7..10.
    for (int64_t row : together[1]->rows) EXPECT_TRUE(row < 7 || row > 10) << row;
  }
}

TEST(ComputeTopK, AnInvalidHistoryFailsOnlyItsGroup) {
  auto model = Load("sasrec-tiny");
  auto other = Load("sasrec-tiny");
  const std::vector<TopKRequest> requests = {
      Request(model, {{1, 99999}}, {{0}}, 2),  // outside the catalogue
      Request(other, {{1}}, {{0}}, 2),
  };
  std::vector<const TopKRequest*> batch = {&requests[0], &requests[1]};
  const auto out = ComputeTopK(batch);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(out[1].ok()) << out[1].status();
}

}  // namespace
}  // namespace recsys::seqrec
