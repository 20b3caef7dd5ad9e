// recsys.behavior_search.v1 on a real gRPC server on loopback, over a model repository on disk
// holding the tiny DARE and TWIN exports of tests/models/testdata and a local feature store.
#include "services/behavior_search/behavior_search_service.h"

#include <gmock/gmock.h>
#include <google/protobuf/struct.pb.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "tests/testing/bad_requests.h"
#include "tests/testing/json_file.h"
#include "tests/testing/loopback_server.h"
#include "tests/testing/model_service_harness.h"
#include "tests/testing/status_matchers.h"

namespace recsys::behavior_search {
namespace {

using ::recsys::testing::IsOk;
using ::recsys::testing::ReadGolden;
using ::testing::HasSubstr;
using Harness =
    recsys::testing::ModelServiceHarness<BehaviorSearchService, v1::BehaviorSearchService>;

class BehaviorSearchServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Harness::Options options;
    options.service = "behavior_search";
    options.models = {{"dare-tiny", "dare-tiny"}, {"twin-tiny", "twin-tiny"}};
    options.load = [](const std::string& dir) { return BehaviorModel::Load(dir); };
    BehaviorSearchLimits limits;
    limits.max_candidates = 40;
    limits.max_history = 20;  // below the models' max_len (30)
    limits.max_top_k = 8;
    harness_.Start(options, [limits](const ModelServiceContext& context) {
      return std::make_unique<BehaviorSearchService>(context, limits);
    });
    ASSERT_TRUE(harness_.ok());
  }

  grpc::Status Score(const v1::ScoreRequest& request, v1::ScoreResponse* response) {
    return harness_.Call(&Harness::Stub::Score, request, response);
  }

  Harness harness_;
};

// The golden users with a non-empty history of at most max_history behaviours, through gRPC,
// match the PyTorch module; explanations name real behaviours with weights summing to 1.
TEST_F(BehaviorSearchServiceTest, ScoresMatchThePyTorchModuleWithExplanations) {
  for (const char* model : {"dare-tiny", "twin-tiny"}) {
    const google::protobuf::Struct golden = ReadGolden(model);
    const auto& users = golden.fields().at("users").list_value();
    v1::ScoreRequest request;
    request.mutable_model()->set_name(model);
    std::vector<int> used;
    for (int u = 0; u < users.values_size(); ++u) {
      const auto& f = users.values(u).struct_value().fields();
      const auto& items = f.at("history_items").list_value();
      if (items.values_size() == 0 || items.values_size() > 20) continue;
      v1::ScoreQuery* q = request.add_queries();
      q->set_return_behaviors(true);
      for (int j = 0; j < items.values_size(); ++j) {
        common::v1::Behavior* b = q->mutable_user()->mutable_history()->add_behaviors();
        b->set_item_id(static_cast<int64_t>(items.values(j).number_value()));
        b->set_category_id(static_cast<int64_t>(
            f.at("history_categories").list_value().values(j).number_value()));
        b->set_timestamp_ms(1000 + j);
      }
      const auto& cands = f.at("candidate_items").list_value();
      for (int c = 0; c < cands.values_size(); ++c) {
        v1::Candidate* cand = q->add_candidates();
        cand->set_item_id(static_cast<int64_t>(cands.values(c).number_value()));
        cand->set_category_id(static_cast<int64_t>(
            f.at("candidate_categories").list_value().values(c).number_value()));
      }
      used.push_back(u);
    }
    ASSERT_GE(used.size(), 3u);
    v1::ScoreResponse response;
    const grpc::Status s = Score(request, &response);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(response.model().version(), 1);
    ASSERT_EQ(response.results_size(), static_cast<int>(used.size()));
    for (size_t i = 0; i < used.size(); ++i) {
      const auto& f = users.values(used[i]).struct_value().fields();
      const auto& want = f.at("probabilities").list_value();
      const v1::QueryResult& r = response.results(static_cast<int>(i));
      EXPECT_EQ(r.history_length(), f.at("history_items").list_value().values_size());
      EXPECT_FALSE(r.history_truncated());
      ASSERT_EQ(r.scores_size(), want.values_size());
      for (int c = 0; c < r.scores_size(); ++c) {
        EXPECT_NEAR(r.scores(c).ctr(), want.values(c).number_value(), 1e-4) << model;
        const auto& behaviors = r.scores(c).behaviors();
        ASSERT_EQ(behaviors.size(), std::min(5, r.history_length()));  // K = 5
        double total = 0;
        for (const auto& b : behaviors) {
          total += b.weight();
          EXPECT_EQ(b.behavior().timestamp_ms(), 1000 + b.position());
        }
        EXPECT_NEAR(total, 1.0, 1e-5);
      }
    }
  }
}

TEST_F(BehaviorSearchServiceTest, StoredHistoriesAreReadTruncatedAndTopKCanBeOverridden) {
  // More than max_history (20); categories 0..6, which the models know.
  std::vector<store::Event> events = recsys::testing::UserEvents(
      "bob", 50, [](int i) { return i % 60 + 1; }, [](int i) { return i % 7; });
  store::Event unknown = events[0];
  unknown.event_id = "unknown";
  unknown.item_id = 5000;  // not in the catalogue: skipped
  unknown.timestamp_ms = 60;
  events.push_back(unknown);
  ASSERT_THAT(harness_.store()->IngestEvents(events).status(), IsOk());
  v1::ScoreRequest request;
  request.mutable_model()->set_name("dare-tiny");
  v1::ScoreQuery* bob = request.add_queries();
  bob->mutable_user()->set_user_id("bob");
  bob->set_top_k(8);
  bob->set_return_behaviors(true);
  bob->add_candidates()->set_item_id(3);
  v1::ScoreQuery* nobody = request.add_queries();
  nobody->mutable_user()->set_user_id("nobody");
  nobody->add_candidates()->set_item_id(4);
  v1::ScoreResponse response;
  const grpc::Status s = Score(request, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const v1::QueryResult& b = response.results(0);
  EXPECT_EQ(b.history_length(), 19);  // the 20 most recent, less the unknown item
  EXPECT_TRUE(b.history_truncated());
  EXPECT_EQ(b.scores(0).behaviors_size(), 8);
  for (const auto& r : b.scores(0).behaviors()) EXPECT_GE(r.behavior().timestamp_ms(), 31);
  const v1::QueryResult& n = response.results(1);
  EXPECT_EQ(n.history_length(), 0);
  EXPECT_GE(n.scores(0).ctr(), 0.0f);
  EXPECT_LE(n.scores(0).ctr(), 1.0f);
}

TEST_F(BehaviorSearchServiceTest, BadRequestsGetClearStatuses) {
  v1::ScoreRequest valid;
  valid.mutable_model()->set_name("dare-tiny");
  v1::ScoreQuery* query = valid.add_queries();
  query->mutable_user()->mutable_history()->add_behaviors()->set_item_id(3);
  query->add_candidates()->set_item_id(4);
  recsys::testing::ExpectBadRequests<v1::ScoreRequest>(
      valid,
      {
          {[](v1::ScoreRequest* r) { r->mutable_model()->set_name("din"); },
           grpc::StatusCode::NOT_FOUND, "no model 'din'; this server serves: dare-tiny, twin-tiny"},
          {[](v1::ScoreRequest* r) { r->mutable_queries(0)->add_candidates()->set_item_id(999); },
           grpc::StatusCode::INVALID_ARGUMENT, "queries[0].candidates[1].item_id: item 999"},
          {[](v1::ScoreRequest* r) {
             r->mutable_queries(0)->mutable_candidates(0)->set_category_id(77);
           },
           grpc::StatusCode::INVALID_ARGUMENT, "queries[0].candidates[0].category_id: 77"},
          {[](v1::ScoreRequest* r) {
             for (int i = 0; i < 40; ++i) r->mutable_queries(0)->add_candidates()->set_item_id(1);
           },
           grpc::StatusCode::INVALID_ARGUMENT, "must be 1..40 (--behavior_search_max_candidates)"},
          {[](v1::ScoreRequest* r) {
             common::v1::Behavior* b =
                 r->mutable_queries(0)->mutable_user()->mutable_history()->add_behaviors();
             b->set_item_id(5);
             b->set_category_id(77);
           },
           grpc::StatusCode::INVALID_ARGUMENT,
           "queries[0].user.history.behaviors[1].category_id: 77 is outside 0..6"},
          {[](v1::ScoreRequest* r) { r->mutable_queries(0)->set_top_k(9); },
           grpc::StatusCode::INVALID_ARGUMENT, "queries[0].top_k: 9 must be 0..8"},
          {[](v1::ScoreRequest* r) { r->clear_queries(); }, grpc::StatusCode::INVALID_ARGUMENT,
           "queries: 0 entries"},
      },
      [this](const v1::ScoreRequest& r) { return harness_.StatusOf(&Harness::Stub::Score, r); },
      [](v1::ScoreRequest* r) { return r->mutable_queries(0)->mutable_user(); });
}

}  // namespace
}  // namespace recsys::behavior_search
