// rerank-eval's metric, BM25 and readers: nDCG@10 by hand, BM25's ranking on a tiny
// collection, and on the shared data (skipped without it) the BM25 baseline DL19 is known by
// (0.5058, RankGPT's and ICR's tables).
#include "models/icr/eval/ir_eval.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "tests/testing/shared_data.h"

namespace recsys::icr::eval {
namespace {

TEST(NdcgTest, TrecEvalsNdcgCutByHand) {
  const std::map<std::string, int> judged = {{"a", 3}, {"b", 1}, {"c", 0}, {"z", 2}};
  // DCG: a at 1 (3 / log2 2), c at 2 (0), b at 3 (1 / log2 4); ideal: 3, 2, 1.
  const double dcg = 3.0 + 1.0 / 2.0;
  const double ideal = 3.0 + 2.0 / std::log2(3.0) + 1.0 / 2.0;
  EXPECT_NEAR(NdcgAt({"a", "c", "b", "x"}, judged, 10), dcg / ideal, 1e-12);
  EXPECT_NEAR(NdcgAt({"a", "z", "b"}, judged, 10), 1.0, 1e-12);
  EXPECT_NEAR(NdcgAt({"c", "a"}, judged, 1), 0.0, 1e-12);  // cut at 1
  EXPECT_EQ(NdcgAt({"a"}, {{"a", 0}}, 10), -1);            // nothing relevant: skipped
  int counted = 0;
  const double mean =
      MeanNdcgAt({{"q1", {"a", "z", "b"}}, {"q2", {"x"}}, {"q3", {"a"}}},
                 {{"q1", judged}, {"q2", {{"y", 1}}}, {"q3", {{"a", 0}}}}, 10, &counted);
  EXPECT_EQ(counted, 2);  // q3 has no relevant document
  EXPECT_NEAR(mean, 0.5, 1e-12);
}

TEST(Bm25Test, RanksByTermWeightAndLength) {
  const std::vector<Document> docs = {{"0", "", "the wing in a slipstream"},
                                      {"1", "", "heat transfer at high speed"},
                                      {"2", "Wing", "wing wing flutter of a swept wing"},
                                      {"3", "", "the the the"}};
  const Bm25 bm25(docs);
  const std::vector<int> top = bm25.Search("Wing flutter!", 3);
  ASSERT_EQ(top.size(), 3u);
  EXPECT_EQ(top[0], 2);
  EXPECT_EQ(top[1], 0);
  EXPECT_EQ(Bm25::Terms("Mach-2 flow, M=3"),
            (std::vector<std::string>{"mach", "2", "flow", "m", "3"}));
}

TEST(IrDataTest, Dl19BaselineIsBm25sKnownFigure) {
  const std::string dir = recsys::testing::SharedDataPath("ir-trec-dl-bm25-top100");
  if (dir.empty() || !std::filesystem::exists(dir + "/qrels_dl19.json")) {
    GTEST_SKIP() << "shared data ir-trec-dl-bm25-top100 is absent";
  }
  std::vector<Query> queries;
  Qrels qrels;
  ASSERT_TRUE(
      ReadTrecDl(dir + "/retrieve_results_dl19.json", dir + "/qrels_dl19.json", &queries, &qrels)
          .ok());
  ASSERT_EQ(queries.size(), 43u);
  std::map<std::string, std::vector<std::string>> ranked;
  for (const Query& q : queries) {
    ASSERT_EQ(q.candidates.size(), 100u);
    for (const Document& d : q.candidates) ranked[q.id].push_back(d.id);
  }
  int counted = 0;
  EXPECT_NEAR(MeanNdcgAt(ranked, qrels, 10, &counted), 0.5058, 5e-5);
  EXPECT_EQ(counted, 43);
}

TEST(IrDataTest, CranfieldWithItsBm25FirstStage) {
  const std::string dir = recsys::testing::SharedDataPath("ir-cranfield");
  if (dir.empty() || !std::filesystem::exists(dir + "/cran.qry")) {
    GTEST_SKIP() << "shared data ir-cranfield is absent";
  }
  std::vector<Query> queries;
  Qrels qrels;
  ASSERT_TRUE(ReadCranfield(dir, 20, &queries, &qrels).ok());
  ASSERT_EQ(queries.size(), 225u);
  EXPECT_EQ(queries[0].candidates.size(), 20u);
  EXPECT_FALSE(queries[0].candidates[0].text.empty());
  std::map<std::string, std::vector<std::string>> ranked;
  for (const Query& q : queries) {
    for (const Document& d : q.candidates) ranked[q.id].push_back(d.id);
  }
  const double ndcg = MeanNdcgAt(ranked, qrels, 10);
  EXPECT_GT(ndcg, 0.25);  // BM25 is far above a random order on Cranfield
  EXPECT_LT(ndcg, 0.5);
}

}  // namespace
}  // namespace recsys::icr::eval
