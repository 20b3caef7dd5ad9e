// recsys.rerank.v1 on a real gRPC server on loopback, over a model repository on disk holding
// an ICR version made by the LLM fixtures (recsys_train.llm.fixtures: a random-weight Llama-3
// style decoder with a byte-fallback vocabulary, plain prompt).
#include "services/rerank/rerank_service.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/testing/bad_requests.h"
#include "tests/testing/loopback_server.h"
#include "tests/testing/model_service_harness.h"

namespace recsys::rerank {
namespace {

using ::testing::HasSubstr;
using Harness = recsys::testing::ModelServiceHarness<RerankService, v1::RerankService>;

std::string FixtureDir() {
  const char* dir = std::getenv("RECSYS_LLM_FIXTURES");
  return dir != nullptr ? dir : RECSYS_LLM_FIXTURES_DEFAULT;
}

::testing::AssertionResult GrpcOk(const grpc::Status& s) {
  if (s.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << s.error_code() << ": " << s.error_message();
}

constexpr int64_t kCacheBytes = int64_t{64} << 20;

std::vector<icr::IcrDocument> Documents() {
  return {{"Paris", "Paris is the capital and largest city of France."},
          {"", "The Seine flows through Paris into the English Channel."},
          {"Rome", "Rome is the capital city of Italy."},
          {"Berlin", "Berlin is the capital of Germany, on the Spree."}};
}

class RerankServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(FixtureDir() + "/icr-tiny/1/model.gguf")) {
      GTEST_SKIP() << "no LLM fixtures (llm_reference_fixtures needs gguf-py)";
    }
    Harness::Options options;
    options.service = "rerank";
    options.fixture_dir = FixtureDir();
    options.models = {{"icr-tiny", "icr-tiny"}};
    options.metrics = &registry_;
    options.max_batch_users = 3;
    options.with_store = false;
    icr::IcrModelOptions model_options;
    model_options.prefix_cache_bytes = kCacheBytes;
    options.load = [model_options](const std::string& dir) {
      return icr::IcrModel::Load(dir, model_options);
    };
    RerankLimits limits;
    limits.max_documents = 6;
    limits.max_query_bytes = 64;
    limits.max_prompt_tokens = 1024;
    harness_.Start(options, [limits](const ModelServiceContext& context) {
      return std::make_unique<RerankService>(context, limits);
    });
    ASSERT_TRUE(harness_.ok());
    auto model = icr::IcrModel::Load(harness_.RepoFile("icr-tiny/1"), {});
    ASSERT_TRUE(model.ok()) << model.status();
    model_ = std::move(*model);
  }

  static v1::RerankRequest Request(const std::string& query) {
    v1::RerankRequest r;
    r.mutable_model()->set_name("icr-tiny");
    v1::RerankQuery* q = r.add_queries();
    q->set_query(query);
    int i = 0;
    for (const icr::IcrDocument& d : Documents()) {
      v1::Document* doc = q->add_documents();
      doc->set_id(absl::StrCat("doc-", i++));
      doc->set_title(d.title);
      doc->set_text(d.text);
    }
    return r;
  }

  grpc::Status Rerank(const v1::RerankRequest& request, v1::RerankResponse* response) {
    return harness_.Call(&Harness::Stub::Rerank, request, response);
  }

  prometheus::Registry registry_;
  Harness harness_;
  std::unique_ptr<icr::IcrModel> model_;  // the same version, in process: the expected scores
};

// Through gRPC: every document, sorted by the scores the model computes in process (the
// model itself is checked against the PyTorch reference in icr_model_test), with ids,
// indices, token counts, timings and the prompt length.
TEST_F(RerankServiceTest, RanksEveryDocumentByTheModelsScores) {
  const v1::RerankRequest request = Request("What is the capital of France?");
  v1::RerankResponse response;
  ASSERT_TRUE(GrpcOk(Rerank(request, &response)));
  EXPECT_EQ(response.model().name(), "icr-tiny");
  EXPECT_EQ(response.model().version(), 1);
  ASSERT_EQ(response.results_size(), 1);
  const v1::QueryResult& result = response.results(0);
  auto prompt = model_->BuildPrompt("What is the capital of France?", Documents(), 300, 1024);
  ASSERT_TRUE(prompt.ok());
  auto want = model_->Score(*prompt, icr::Strategy::kCalibrated);
  ASSERT_TRUE(want.ok());
  ASSERT_EQ(result.documents_size(), 4);
  std::vector<int> seen;
  for (int i = 0; i < 4; ++i) {
    const v1::RankedDocument& d = result.documents(i);
    seen.push_back(d.index());
    EXPECT_EQ(d.id(), absl::StrCat("doc-", d.index()));
    EXPECT_FLOAT_EQ(d.score(), static_cast<float>(want->scores[d.index()]));
    EXPECT_EQ(d.tokens(), prompt->spans[d.index()].size());
    EXPECT_FALSE(d.truncated());
    EXPECT_FALSE(d.has_query_mass());
    if (i > 0) {
      EXPECT_GE(result.documents(i - 1).score(), d.score());
    }
  }
  EXPECT_THAT(seen, ::testing::UnorderedElementsAre(0, 1, 2, 3));
  EXPECT_EQ(result.prompt_tokens(), prompt->prompt_tokens());
  EXPECT_EQ(result.truncated_documents(), 0);
  EXPECT_GT(result.timings().tokenize_ms(), 0);
  EXPECT_GT(result.timings().pass1_ms(), 0);
  EXPECT_GT(result.timings().pass2_ms(), 0);
  EXPECT_FALSE(result.prefix_cache_hit());
}

// The same documents with another query reuse the cached prefix (pass 1 skipped); the scores
// are what a fresh model computes for that query.
TEST_F(RerankServiceTest, TheSameDocumentsHitThePrefixCache) {
  v1::RerankResponse first, second;
  ASSERT_TRUE(GrpcOk(Rerank(Request("capital of France"), &first)));
  ASSERT_TRUE(GrpcOk(Rerank(Request("a river in Paris"), &second)));
  EXPECT_FALSE(first.results(0).prefix_cache_hit());
  EXPECT_TRUE(second.results(0).prefix_cache_hit());
  auto prompt = model_->BuildPrompt("a river in Paris", Documents(), 300, 1024);
  auto want = model_->Score(*prompt, icr::Strategy::kCalibrated);
  ASSERT_TRUE(want.ok());
  for (const v1::RankedDocument& d : second.results(0).documents()) {
    EXPECT_NEAR(d.score(), want->scores[d.index()], 1e-6 * (1 + std::abs(d.score())));
  }
}

TEST_F(RerankServiceTest, TopNQueryOnlyMassesAndSeveralQueries) {
  v1::RerankRequest request = Request("capital");
  request.mutable_queries(0)->set_top_n(2);
  request.mutable_queries(0)->set_return_masses(true);
  *request.add_queries() = request.queries(0);
  request.mutable_queries(1)->set_strategy(v1::SCORING_STRATEGY_QUERY_ONLY);
  request.mutable_queries(1)->set_top_n(10);  // more than there are: all
  v1::RerankResponse response;
  ASSERT_TRUE(GrpcOk(Rerank(request, &response)));
  ASSERT_EQ(response.results_size(), 2);
  ASSERT_EQ(response.results(0).documents_size(), 2);
  const v1::RankedDocument& top = response.results(0).documents(0);
  EXPECT_TRUE(top.has_query_mass());
  EXPECT_TRUE(top.has_content_free_mass());
  EXPECT_GT(top.query_mass(), 0);
  ASSERT_EQ(response.results(1).documents_size(), 4);
  for (const v1::RankedDocument& d : response.results(1).documents()) {
    EXPECT_TRUE(d.has_query_mass());
    EXPECT_FALSE(d.has_content_free_mass());  // query-only: no content-free pass
    EXPECT_FLOAT_EQ(d.score(), d.query_mass());
  }
}

// A document far past the budget is cut to fit, and the reply says which; a query whose
// documents cannot fit even when cut to their markers is INVALID_ARGUMENT naming the budget.
TEST_F(RerankServiceTest, LongDocumentsAreCutNotRefused) {
  v1::RerankRequest request = Request("capital");
  std::string words;
  for (int i = 0; i < 2000; ++i) absl::StrAppend(&words, "word", i % 10, " ");
  request.mutable_queries(0)->mutable_documents(1)->set_text(words);  // 300 words, still long
  v1::RerankResponse response;
  ASSERT_TRUE(GrpcOk(Rerank(request, &response)));
  const v1::QueryResult& result = response.results(0);
  EXPECT_EQ(result.truncated_documents(), 1);
  EXPECT_LE(result.prompt_tokens(), 1024);
  for (const v1::RankedDocument& d : result.documents()) {
    EXPECT_EQ(d.truncated(), d.index() == 1) << d.index();
  }
  // The refusal needs a budget below this fixture's smallest prompt; the service's flags
  // pass the same budget to the model, so check it there.
  auto refused = model_->BuildPrompt("capital", Documents(), 300, 60);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("budget of 60 tokens"));
}

TEST_F(RerankServiceTest, BadRequestsGetClearStatuses) {
  const v1::RerankRequest valid = Request("capital");
  recsys::testing::ExpectBadRequests<v1::RerankRequest>(
      valid,
      {
          {[](v1::RerankRequest* r) { r->mutable_model()->clear_name(); },
           grpc::StatusCode::INVALID_ARGUMENT, "model.name is required"},
          {[](v1::RerankRequest* r) { r->mutable_model()->set_name("gpt"); },
           grpc::StatusCode::NOT_FOUND, "no model 'gpt'; this server serves: icr-tiny"},
          {[](v1::RerankRequest* r) { r->clear_queries(); }, grpc::StatusCode::INVALID_ARGUMENT,
           "queries: 0 entries"},
          {[](v1::RerankRequest* r) {
             for (int i = 0; i < 3; ++i) *r->add_queries() = r->queries(0);
           },
           grpc::StatusCode::INVALID_ARGUMENT, "(--rerank_max_batch_users)"},
          {[](v1::RerankRequest* r) { r->mutable_queries(0)->clear_query(); },
           grpc::StatusCode::INVALID_ARGUMENT, "queries[0].query: 0 bytes; must be 1..64"},
          {[](v1::RerankRequest* r) { r->mutable_queries(0)->set_query(std::string(65, 'q')); },
           grpc::StatusCode::INVALID_ARGUMENT, "(--rerank_max_query_bytes)"},
          {[](v1::RerankRequest* r) { r->mutable_queries(0)->set_query("   "); },
           grpc::StatusCode::INVALID_ARGUMENT, "queries[0]: query: empty"},
          {[](v1::RerankRequest* r) { r->mutable_queries(0)->clear_documents(); },
           grpc::StatusCode::INVALID_ARGUMENT, "queries[0].documents: 0 entries"},
          {[](v1::RerankRequest* r) {
             for (int i = 0; i < 3; ++i) r->mutable_queries(0)->add_documents()->set_text("x");
           },
           grpc::StatusCode::INVALID_ARGUMENT, "must be 1..6 (--rerank_max_documents)"},
          {[](v1::RerankRequest* r) {
             r->mutable_queries(0)->mutable_documents(2)->set_id(std::string(257, 'i'));
           },
           grpc::StatusCode::INVALID_ARGUMENT, "queries[0].documents[2].id: 257 bytes"},
          {[](v1::RerankRequest* r) { r->mutable_queries(0)->set_top_n(-1); },
           grpc::StatusCode::INVALID_ARGUMENT, "queries[0].top_n: -1"},
          {[](v1::RerankRequest* r) {
             r->mutable_queries(0)->set_strategy(static_cast<v1::ScoringStrategy>(9));
           },
           grpc::StatusCode::INVALID_ARGUMENT, "queries[0].strategy: 9"},
      },
      [this](const v1::RerankRequest& r) { return harness_.StatusOf(&Harness::Stub::Rerank, r); });
}

// A call whose deadline passes is stopped (between layers, or before the model), not run on.
TEST_F(RerankServiceTest, AnExpiredDeadlineIsDeadlineExceeded) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::microseconds(1));
  v1::RerankResponse response;
  auto stub = v1::RerankService::NewStub(harness_.NewChannel());
  const grpc::Status s = stub->Rerank(&context, Request("capital"), &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << s.error_message();
}

// The service's metrics, as a scrape sees them.
TEST_F(RerankServiceTest, ExportsPromptAndCacheMetrics) {
  v1::RerankResponse response;
  ASSERT_TRUE(GrpcOk(Rerank(Request("capital"), &response)));
  ASSERT_TRUE(GrpcOk(Rerank(Request("river"), &response)));
  std::map<std::string, double> values;
  for (const prometheus::MetricFamily& f : registry_.Collect()) {
    for (const prometheus::ClientMetric& m : f.metric) {
      std::string key = f.name;
      for (const prometheus::ClientMetric::Label& l : m.label) {
        absl::StrAppend(&key, "{", l.name, "=", l.value, "}");
      }
      values[key] = f.type == prometheus::MetricType::Counter     ? m.counter.value
                    : f.type == prometheus::MetricType::Gauge     ? m.gauge.value
                    : f.type == prometheus::MetricType::Histogram ? m.histogram.sample_count
                                                                  : 0;
    }
  }
  EXPECT_EQ(values["recsys_rerank_prefix_cache_requests_total{model=icr-tiny}{result=hit}"], 1);
  EXPECT_EQ(values["recsys_rerank_prefix_cache_requests_total{model=icr-tiny}{result=miss}"], 1);
  EXPECT_GT(values["recsys_rerank_prefix_cache_bytes{model=icr-tiny}"], 0);
  EXPECT_EQ(values["recsys_rerank_prompt_tokens{model=icr-tiny}"], 2);
  EXPECT_EQ(values["recsys_rerank_documents_total{model=icr-tiny}"], 8);
  EXPECT_EQ(values["recsys_rerank_truncated_documents_total{model=icr-tiny}"], 0);
  EXPECT_EQ(values["recsys_rerank_pass_seconds{model=icr-tiny}{pass=pass1}"], 1);
  EXPECT_EQ(values["recsys_rerank_pass_seconds{model=icr-tiny}{pass=pass2}"], 2);
}

}  // namespace
}  // namespace recsys::rerank
