// ICR's scores against the PyTorch reference (recsys_train.llm.icr_reference: full passes
// with materialised attention maps, no cache reuse) on the random-weight fixtures of each
// family; the prefix cache; the selective-layer stop; the version directory's config.
#include "models/icr/icr_model.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/models/llm/llm_fixtures.h"
#include "tests/testing/temp_dir.h"

namespace recsys::icr {
namespace {

using llm::fixtures::FixtureDir;
using llm::fixtures::ScaledError;
using llm::fixtures::TensorFloats;
using ::testing::HasSubstr;

class IcrReferenceTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const std::string base = FixtureDir() + "/" + GetParam();
    if (FixtureDir().empty() || !std::filesystem::exists(base + ".icr.gguf")) {
      GTEST_SKIP() << "no reference fixtures (llm_reference_fixtures needs gguf-py)";
    }
    auto golden = llm::GgufFile::Open(base + ".icr.gguf");
    ASSERT_TRUE(golden.ok()) << golden.status();
    golden_ = std::move(*golden);
    auto ids = [&](const char* name) {
      std::vector<int32_t> out;
      for (float f : TensorFloats(*golden_, name)) out.push_back(static_cast<int32_t>(f));
      return out;
    };
    prompt_.prefix = ids("prefix");
    prompt_.query_tail = ids("query_tail");
    prompt_.na_tail = ids("na_tail");
    const std::vector<float> spans = TensorFloats(*golden_, "spans");
    for (size_t i = 0; i + 1 < spans.size(); i += 2) {
      prompt_.spans.push_back({static_cast<int64_t>(spans[i]), static_cast<int64_t>(spans[i + 1])});
    }
    prompt_.cut_to_words.assign(prompt_.spans.size(), false);
    prompt_.cut_to_budget.assign(prompt_.spans.size(), false);
  }

  std::unique_ptr<IcrModel> Model(int64_t last_layer, int64_t cache_bytes) {
    auto llm =
        llm::LlmModel::Load(FixtureDir() + "/" + GetParam() + ".gguf", kernels::Device::Cpu());
    EXPECT_TRUE(llm.ok()) << llm.status();
    IcrSettings s;
    s.last_layer = last_layer < 0 ? (*llm)->config().layers - 1 : last_layer;
    IcrModelOptions o;
    o.prefix_cache_bytes = cache_bytes;
    auto m = IcrModel::FromLlm(std::move(*llm), s, o);
    EXPECT_TRUE(m.ok()) << m.status();
    return std::move(*m);
  }

  void ExpectMatches(const IcrScores& got, const std::string& set) {
    EXPECT_LT(ScaledError(got.scores, TensorFloats(*golden_, set + ".calibrated")), 1e-4);
    EXPECT_LT(ScaledError(got.query_mass, TensorFloats(*golden_, set + ".query_mass")), 1e-4);
    EXPECT_LT(ScaledError(got.na_mass, TensorFloats(*golden_, set + ".na_mass")), 1e-4);
  }

  std::unique_ptr<llm::GgufFile> golden_;
  IcrPrompt prompt_;
};

TEST_P(IcrReferenceTest, CalibratedAndQueryOnlyScoresMatchThePaperOnTheReference) {
  std::unique_ptr<IcrModel> m = Model(-1, 0);
  auto calibrated = m->Score(prompt_, Strategy::kCalibrated);
  ASSERT_TRUE(calibrated.ok()) << calibrated.status();
  ExpectMatches(*calibrated, "all");
  EXPECT_FALSE(calibrated->prefix_hit);
  auto query_only = m->Score(prompt_, Strategy::kQueryOnly);
  ASSERT_TRUE(query_only.ok()) << query_only.status();
  EXPECT_LT(ScaledError(query_only->scores, TensorFloats(*golden_, "all.query_only")), 1e-4);
  // The calibration changes the order or the values: it is not the query-only score.
  EXPECT_GT(ScaledError(calibrated->scores, TensorFloats(*golden_, "all.query_only")), 1e-3);
}

// Layers [0, 0] of two: the forward stops after the first layer, with the reference's scores.
TEST_P(IcrReferenceTest, SelectiveLayersStopTheForwardEarly) {
  std::unique_ptr<IcrModel> m = Model(0, 0);
  auto s = m->Score(prompt_, Strategy::kCalibrated);
  ASSERT_TRUE(s.ok()) << s.status();
  ExpectMatches(*s, "first");
}

// The same documents again: pass 1 is skipped and the scores are the same bits; a query-only
// call on the cached prefix runs only its tail and matches too.
TEST_P(IcrReferenceTest, PrefixCacheHitsGiveTheSameScores) {
  std::unique_ptr<IcrModel> m = Model(-1, int64_t{64} << 20);
  auto first = m->Score(prompt_, Strategy::kCalibrated);
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = m->Score(prompt_, Strategy::kCalibrated);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_FALSE(first->prefix_hit);
  EXPECT_TRUE(second->prefix_hit);
  EXPECT_EQ(first->scores, second->scores);
  auto query_only = m->Score(prompt_, Strategy::kQueryOnly);
  ASSERT_TRUE(query_only.ok());
  EXPECT_TRUE(query_only->prefix_hit);
  EXPECT_LT(ScaledError(query_only->scores, TensorFloats(*golden_, "all.query_only")), 1e-4);
  const PrefixCacheStats stats = m->prefix_cache()->stats();
  EXPECT_EQ(stats.hits, 2);
  EXPECT_EQ(stats.misses, 1);
  EXPECT_EQ(stats.entries, 1);
  // Another query over the same documents hits too; other documents miss.
  IcrPrompt other = prompt_;
  other.query_tail.insert(other.query_tail.begin() + 1, 7);
  ASSERT_TRUE(m->Score(other, Strategy::kCalibrated).ok());
  other.prefix[3] = other.prefix[3] == 5 ? 6 : 5;
  ASSERT_TRUE(m->Score(other, Strategy::kCalibrated).ok());
  EXPECT_EQ(m->prefix_cache()->stats().hits, 3);
  EXPECT_EQ(m->prefix_cache()->stats().entries, 2);
}

// Calls from several threads on one model and its prefix cache (misses racing to insert the
// same key, hits cloning while others insert) give the single-call scores.
TEST_P(IcrReferenceTest, ConcurrentCallsShareThePrefixCacheSafely) {
  std::unique_ptr<IcrModel> m = Model(-1, int64_t{64} << 20);
  auto want = m->Score(prompt_, Strategy::kCalibrated);
  ASSERT_TRUE(want.ok());
  IcrPrompt other = prompt_;
  other.prefix[2] = other.prefix[2] == 5 ? 6 : 5;
  std::vector<std::thread> threads;
  std::vector<std::vector<double>> got(8);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      auto s = m->Score(t % 2 ? prompt_ : other, Strategy::kCalibrated);
      if (s.ok()) got[t] = s->scores;
    });
  }
  for (std::thread& t : threads) t.join();
  for (int t = 1; t < 8; t += 2) EXPECT_EQ(got[t], want->scores) << t;
  for (int t = 2; t < 8; t += 2) EXPECT_EQ(got[t], got[0]) << t;
  EXPECT_FALSE(got[0].empty());
  EXPECT_EQ(m->prefix_cache()->stats().entries, 2);
}

TEST_P(IcrReferenceTest, ADeadlineStopsTheForward) {
  std::unique_ptr<IcrModel> m = Model(-1, 0);
  llm::LlmControl control;
  control.deadline = absl::Now() - absl::Seconds(1);
  EXPECT_EQ(m->Score(prompt_, Strategy::kCalibrated, control).status().code(),
            absl::StatusCode::kDeadlineExceeded);
}

INSTANTIATE_TEST_SUITE_P(Families, IcrReferenceTest,
                         ::testing::Values("llama3-f32", "mistral-f32", "qwen2-f32", "llama3-q4_k",
                                           "qwen2-q4_k"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           for (char& c : name) c = c == '-' ? '_' : c;
                           return name;
                         });

TEST(PrefixCacheTest, EvictsTheLeastRecentlyUsedWithinItsBytes) {
  auto entry = [](int64_t floats) {
    auto e = std::make_shared<PrefixEntry>();
    e->na_mass.assign(static_cast<size_t>(floats), 0.0f);
    return e;
  };
  PrefixCache cache(1000);
  cache.Insert("a", entry(100));  // 400 bytes each
  cache.Insert("b", entry(100));
  ASSERT_NE(cache.Find("a"), nullptr);  // a is now the most recent
  cache.Insert("c", entry(100));        // evicts b
  EXPECT_EQ(cache.Find("b"), nullptr);
  EXPECT_NE(cache.Find("a"), nullptr);
  EXPECT_NE(cache.Find("c"), nullptr);
  cache.Insert("huge", entry(1000));  // larger than the bound: not kept
  EXPECT_EQ(cache.Find("huge"), nullptr);
  const PrefixCacheStats s = cache.stats();
  EXPECT_EQ(s.entries, 2);
  EXPECT_EQ(s.bytes, 800);
  EXPECT_EQ(s.evictions, 1);
  EXPECT_EQ(s.hits, 3);
  EXPECT_EQ(s.misses, 2);
}

// A version recsys_train.llm.train_icr has just written (icr_trained_model_test sets
// $RECSYS_ICR_TRAINED): it loads as the service loads it, its character vocabulary spells a
// text one token per character as the trainer's tokenizer does, and it scores a prompt.
TEST(IcrTrainedModelTest, TheTrainersVersionLoadsAndScores) {
  const char* dir = std::getenv("RECSYS_ICR_TRAINED");
  if (dir == nullptr) GTEST_SKIP() << "set by icr_trained_model_test";
  auto m = IcrModel::Load(dir, {});
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ((*m)->settings().family, PromptFamily::kPlain);
  EXPECT_EQ((*m)->llm().tokenizer().Encode("ab c", true, false).size(), 6u);  // BOS _ a b _ c
  auto prompt = (*m)->BuildPrompt("kaje maju", {{"Zito", "bomu kaje maju ti."}, {"", "sari ha."}},
                                  300, 0);
  ASSERT_TRUE(prompt.ok()) << prompt.status();
  auto s = (*m)->Score(*prompt, Strategy::kCalibrated);
  ASSERT_TRUE(s.ok()) << s.status();
  for (double x : s->scores) EXPECT_TRUE(std::isfinite(x));
}

TEST(IcrModelLoadTest, ConfigErrorsNameTheKey) {
  if (FixtureDir().empty() || !std::filesystem::exists(FixtureDir() + "/qwen2-f32.gguf")) {
    GTEST_SKIP() << "no fixtures";
  }
  recsys::testing::TempDir dir;
  std::filesystem::copy_file(FixtureDir() + "/qwen2-f32.gguf", dir.path() + "/model.gguf");
  auto write = [&](const std::string& json) { std::ofstream(dir.path() + "/config.json") << json; };
  write(R"({"architecture": "icr", "prompt": "chatml", "layers": [1, 1]})");
  auto m = IcrModel::Load(dir.path(), {});
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ((*m)->settings().family, PromptFamily::kChatMl);
  EXPECT_EQ((*m)->settings().first_layer, 1);
  EXPECT_TRUE((*m)->settings().reverse_order);
  write(R"({"architecture": "icr", "layers": [0, 2]})");
  EXPECT_THAT(std::string(IcrModel::Load(dir.path(), {}).status().message()),
              HasSubstr("\"layers\""));
  write(R"({"architecture": "icr", "prompt": "gpt"})");
  EXPECT_THAT(std::string(IcrModel::Load(dir.path(), {}).status().message()),
              HasSubstr("prompt family 'gpt'"));
  write(R"({"architecture": "icr", "document_order": "random"})");
  EXPECT_THAT(std::string(IcrModel::Load(dir.path(), {}).status().message()),
              HasSubstr("document_order"));
  write(R"({"architecture": "sasrec"})");
  EXPECT_FALSE(IcrModel::Load(dir.path(), {}).ok());
}

}  // namespace
}  // namespace recsys::icr
