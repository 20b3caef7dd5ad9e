// recsys.seqrec.v1 on a real gRPC server on loopback, over a model repository on disk holding
// the tiny SASRec and BERT4Rec exports of tests/models/testdata and a local feature store.
#include "services/seqrec/seqrec_service.h"

#include <gmock/gmock.h>
#include <google/protobuf/struct.pb.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "absl/strings/str_cat.h"
#include "tests/testing/bad_requests.h"
#include "tests/testing/json_file.h"
#include "tests/testing/loopback_server.h"
#include "tests/testing/model_service_harness.h"
#include "tests/testing/status_matchers.h"

namespace recsys::seqrec {
namespace {

using ::recsys::testing::IsOk;
using ::recsys::testing::ReadGolden;
using ::testing::HasSubstr;
namespace fs = std::filesystem;
using Harness = recsys::testing::ModelServiceHarness<SeqRecService, v1::SeqRecService>;

// seqrec over the tiny SASRec and BERT4Rec exports, with or without a feature store.
void StartSeqRec(Harness& harness, bool with_store) {
  Harness::Options options;
  options.service = "seqrec";
  options.models = {{"sasrec", "sasrec-tiny"}, {"bert4rec", "bert4rec-tiny"}};
  options.load = [](const std::string& dir) { return SeqRecModel::Load(dir); };
  options.poll_interval = absl::Milliseconds(10);
  options.with_store = with_store;
  SeqRecLimits limits;
  limits.max_candidates = 50;
  harness.Start(options, [limits](const ModelServiceContext& context) {
    return std::make_unique<SeqRecService>(context, limits);
  });
}

class SeqRecServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StartSeqRec(harness_, /*with_store=*/true);
    ASSERT_TRUE(harness_.ok());
  }

  grpc::Status Score(const v1::ScoreRequest& request, v1::ScoreResponse* response) {
    return harness_.Call(&Harness::Stub::Score, request, response);
  }
  grpc::Status Recommend(const v1::RecommendRequest& request, v1::RecommendResponse* response) {
    return harness_.Call(&Harness::Stub::Recommend, request, response);
  }

  static void SetHistory(common::v1::UserRef* user, const std::vector<int64_t>& items) {
    for (int64_t item : items) user->mutable_history()->add_behaviors()->set_item_id(item);
  }

  Harness harness_;
};

TEST_F(SeqRecServiceTest, ScoresMatchThePyTorchModuleForBothModels) {
  for (const auto& [model, fixture] : {std::pair<const char*, const char*>{"sasrec", "sasrec-tiny"},
                                       {"bert4rec", "bert4rec-tiny"}}) {
    const google::protobuf::Struct golden = ReadGolden(fixture);
    const auto& histories = golden.fields().at("histories").list_value();
    const auto& candidates = golden.fields().at("candidates").list_value();
    const auto& scores = golden.fields().at("scores").list_value();
    v1::ScoreRequest request;
    request.mutable_model()->set_name(model);
    std::vector<int> used;
    for (int u = 0; u < histories.values_size(); ++u) {
      if (histories.values(u).list_value().values_size() == 0) continue;  // given: not empty
      v1::ScoreQuery* q = request.add_queries();
      for (const auto& item : histories.values(u).list_value().values()) {
        q->mutable_user()->mutable_history()->add_behaviors()->set_item_id(
            static_cast<int64_t>(item.number_value()));
      }
      for (const auto& c : candidates.values(u).list_value().values()) {
        q->add_candidate_item_ids(static_cast<int64_t>(c.number_value()));
      }
      used.push_back(u);
    }
    v1::ScoreResponse response;
    const grpc::Status s = Score(request, &response);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(response.model().name(), model);
    EXPECT_EQ(response.model().version(), 1);
    ASSERT_EQ(response.results_size(), static_cast<int>(used.size()));
    for (size_t i = 0; i < used.size(); ++i) {
      const auto& want = scores.values(used[i]).list_value();
      ASSERT_EQ(response.results(i).scores_size(), want.values_size());
      for (int c = 0; c < want.values_size(); ++c) {
        const double t = want.values(c).number_value();
        EXPECT_NEAR(response.results(i).scores(c), t, 1e-4 * std::max(1.0, std::abs(t)))
            << model << " user " << used[i] << " candidate " << c;
      }
    }
  }
}

TEST_F(SeqRecServiceTest, RecommendReadsHistoriesFromTheStoreAndExcludesSeenItems) {
  v1::RecommendRequest request;
  request.mutable_model()->set_name("sasrec");
  v1::RecommendQuery* alice = request.add_queries();
  alice->mutable_user()->set_user_id("alice");
  alice->set_k(5);
  alice->mutable_filter()->add_exclude_item_ids(20);
  v1::RecommendQuery* nobody = request.add_queries();
  nobody->mutable_user()->set_user_id("nobody");  // cold start: the model's prior
  nobody->set_k(3);
  // alice's history, longer than max_len (10): truncated.
  const std::vector<store::Event> events =
      recsys::testing::UserEvents("alice", 30, [](int i) { return i % 12 + 1; });
  ASSERT_THAT(harness_.store()->IngestEvents(events).status(), IsOk());
  v1::RecommendResponse response;
  const grpc::Status s = Recommend(request, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(response.results_size(), 2);
  const v1::UserResult& a = response.results(0);
  EXPECT_EQ(a.history_length(), 10);
  EXPECT_TRUE(a.history_truncated());
  ASSERT_EQ(a.items_size(), 5);
  for (int i = 0; i < a.items_size(); ++i) {
    const int64_t id = a.items(i).item_id();
    EXPECT_GE(id, 1);
    EXPECT_NE(id, 20);
    // The last 10 events (items 9..12, 1..6) were seen and are left out.
    EXPECT_TRUE(id > 12 || (id > 6 && id < 9)) << "seen item " << id << " recommended";
    if (i > 0) {
      EXPECT_GE(a.items(i - 1).score(), a.items(i).score());
    }
  }
  EXPECT_EQ(response.results(1).items_size(), 3);
  EXPECT_EQ(response.results(1).history_length(), 0);
}

// RETRIEVAL_INDEX over a flat (exact) FAISS index in the feature store gives the kernel's
// exact top-K: same items, same order, same scores (BERT4Rec's bias rides in an extra column).
TEST_F(SeqRecServiceTest, IndexRetrievalMatchesExactTopKWithExclusionsAndCategories) {
  std::vector<store::Item> items;
  for (int64_t id = 1; id <= 40; ++id) {
    store::Item item;
    item.item_id = id;
    item.category_id = id % 3;
    items.push_back(item);
  }
  ASSERT_THAT(harness_.store()->UpsertItems(items), IsOk());
  for (const char* model : {"sasrec", "bert4rec"}) {
    v1::RecommendRequest request;
    request.mutable_model()->set_name(model);
    v1::RecommendQuery* plain = request.add_queries();
    SetHistory(plain->mutable_user(), {3, 7, 7, 12});
    plain->set_k(10);
    plain->mutable_filter()->add_exclude_item_ids(5);
    v1::RecommendQuery* seen_ok = request.add_queries();
    SetHistory(seen_ok->mutable_user(), {1, 2});
    seen_ok->set_k(40);
    seen_ok->set_include_history_items(true);
    v1::RecommendQuery* category = request.add_queries();
    SetHistory(category->mutable_user(), {9});
    category->set_k(6);
    category->mutable_filter()->add_include_category_ids(1);
    v1::RecommendResponse exact, indexed;
    request.set_retrieval(v1::RETRIEVAL_EXACT);
    grpc::Status s = Recommend(request, &exact);
    ASSERT_TRUE(s.ok()) << s.error_message();
    request.set_retrieval(v1::RETRIEVAL_INDEX);
    s = Recommend(request, &indexed);
    ASSERT_TRUE(s.ok()) << model << ": " << s.error_message();
    EXPECT_EQ(indexed.model().version(), exact.model().version());
    ASSERT_EQ(indexed.results_size(), 3);
    for (int q = 0; q < 3; ++q) {
      const v1::UserResult& e = exact.results(q);
      const v1::UserResult& i = indexed.results(q);
      ASSERT_EQ(i.items_size(), e.items_size()) << model << " query " << q;
      for (int r = 0; r < e.items_size(); ++r) {
        EXPECT_EQ(i.items(r).item_id(), e.items(r).item_id()) << model << " query " << q;
        EXPECT_NEAR(i.items(r).score(), e.items(r).score(), 1e-4) << model << " query " << q;
      }
    }
    EXPECT_EQ(indexed.results(1).items_size(), 40);  // history items allowed: all of them
    for (const auto& item : indexed.results(0).items()) {
      EXPECT_THAT((std::vector<int64_t>{3, 5, 7, 12}), ::testing::Not(::testing::Contains(item.item_id())));
    }
    for (const auto& item : indexed.results(2).items()) EXPECT_EQ(item.item_id() % 3, 1);
  }
  auto tables = harness_.store()->ListEmbeddingTables();
  ASSERT_THAT(tables.status(), IsOk());
  std::vector<std::string> names;
  for (const store::TableInfo& t : *tables) names.push_back(t.spec.name);
  EXPECT_THAT(names, ::testing::UnorderedElementsAre("seqrec-sasrec", "seqrec-bert4rec"));
}

// Concurrent first calls publish the table once; a new service over the same store (a
// restart) finds it published and searches it.
TEST_F(SeqRecServiceTest, IndexIsPublishedOnceUnderConcurrentFirstCalls) {
  v1::RecommendRequest request;
  request.mutable_model()->set_name("sasrec");
  request.set_retrieval(v1::RETRIEVAL_INDEX);
  v1::RecommendQuery* q = request.add_queries();
  SetHistory(q->mutable_user(), {4, 8});
  q->set_k(5);
  std::atomic<int> failures{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 6; ++t) {
    callers.emplace_back([&] {
      v1::RecommendResponse response;
      if (!Recommend(request, &response).ok() || response.results(0).items_size() != 5) ++failures;
    });
  }
  for (std::thread& t : callers) t.join();
  EXPECT_EQ(failures.load(), 0);
  auto tables = harness_.store()->ListEmbeddingTables();
  ASSERT_THAT(tables.status(), IsOk());
  ASSERT_EQ(tables->size(), 1u);
  EXPECT_EQ((*tables)[0].spec.version, 1);
  EXPECT_EQ((*tables)[0].spec.dim, 16);  // sasrec-tiny: hidden 16, no bias column

  ItemIndex again(store::IndexSpec{});
  auto model = SeqRecModel::Load(harness_.RepoFile("sasrec/1"));
  ASSERT_THAT(model.status(), IsOk());
  auto user = (*model)->UserVectors({{*(*model)->Row(4), *(*model)->Row(8)}});
  ASSERT_THAT(user.status(), IsOk());
  IndexQuery iq;
  iq.k = 3;
  auto found = again.Search(*harness_.store(), "sasrec", 1, **model, *user, {iq});
  ASSERT_THAT(found.status(), IsOk());
  EXPECT_EQ((*found)[0].size(), 3u);

  // Other weights under the same model name and version (a rewritten version directory)
  // are refused, not searched in the stale index.
  auto other = SeqRecModel::Load(absl::StrCat(RECSYS_TESTDATA_DIR, "/sasrec-tiny-post-ln/1"));
  ASSERT_THAT(other.status(), IsOk());
  ItemIndex restarted(store::IndexSpec{});
  auto stale = restarted.Search(*harness_.store(), "sasrec", 1, **other, *user, {iq});
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(stale.status().message(), HasSubstr("holds other embeddings"));
}

TEST_F(SeqRecServiceTest, IndexRetrievalNeedsAStoreAndAKnownMode) {
  v1::RecommendRequest request;
  request.mutable_model()->set_name("sasrec");
  v1::RecommendQuery* q = request.add_queries();
  SetHistory(q->mutable_user(), {4});
  q->set_k(2);
  request.set_retrieval(static_cast<v1::Retrieval>(9));
  v1::RecommendResponse response;
  grpc::Status s = Recommend(request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("retrieval: 9 is not"));

  // The same service without a feature store.
  Harness storeless;
  StartSeqRec(storeless, /*with_store=*/false);
  ASSERT_TRUE(storeless.ok());
  request.set_retrieval(v1::RETRIEVAL_INDEX);
  s = storeless.Call(&Harness::Stub::Recommend, request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("--seqrec_feature_store"));
}

TEST_F(SeqRecServiceTest, BadRequestsGetClearStatuses) {
  v1::ScoreRequest valid;
  valid.mutable_model()->set_name("sasrec");
  v1::ScoreQuery* query = valid.add_queries();
  query->mutable_user()->mutable_history()->add_behaviors()->set_item_id(3);
  query->add_candidate_item_ids(4);
  recsys::testing::ExpectBadRequests<v1::ScoreRequest>(
      valid,
      {
          {[](v1::ScoreRequest* r) { r->mutable_model()->set_name("gru4rec"); },
           grpc::StatusCode::NOT_FOUND, "no model 'gru4rec'; this server serves: bert4rec, sasrec"},
          {[](v1::ScoreRequest* r) { r->mutable_model()->set_version(7); },
           grpc::StatusCode::NOT_FOUND, "no loaded version 7"},
          {[](v1::ScoreRequest* r) { r->mutable_queries(0)->add_candidate_item_ids(999); },
           grpc::StatusCode::INVALID_ARGUMENT, "queries[0].candidate_item_ids[1]: item 999"},
          {[](v1::ScoreRequest* r) {
             for (int i = 0; i < 50; ++i) r->mutable_queries(0)->add_candidate_item_ids(1);
           },
           grpc::StatusCode::INVALID_ARGUMENT, "must be 1..50 (--seqrec_max_candidates)"},
          {[](v1::ScoreRequest* r) { r->clear_queries(); }, grpc::StatusCode::INVALID_ARGUMENT,
           "queries: 0 entries"},
      },
      [this](const v1::ScoreRequest& r) { return harness_.StatusOf(&Harness::Stub::Score, r); },
      [](v1::ScoreRequest* r) { return r->mutable_queries(0)->mutable_user(); });
  v1::RecommendRequest recommend;
  recommend.mutable_model()->set_name("bert4rec");
  v1::RecommendQuery* q = recommend.add_queries();
  SetHistory(q->mutable_user(), {1, 2});
  q->set_k(41);  // the catalogue has 40 items
  v1::RecommendResponse response;
  const grpc::Status s = Recommend(recommend, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("queries[0].k: 41 must be 1..40"));
}

TEST_F(SeqRecServiceTest, ANewVersionSwapsInWhileCallsContinueAndNoneFails) {
  std::atomic<bool> done{false};
  std::atomic<int> failures{0}, calls{0};
  std::atomic<int64_t> newest_seen{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 3; ++t) {
    callers.emplace_back([&] {
      while (!done) {
        v1::ScoreRequest request;
        request.mutable_model()->set_name("sasrec");
        v1::ScoreQuery* q = request.add_queries();
        q->mutable_user()->mutable_history()->add_behaviors()->set_item_id(5);
        q->add_candidate_item_ids(6);
        v1::ScoreResponse response;
        if (!Score(request, &response).ok()) {
          ++failures;
        } else {
          int64_t seen = newest_seen.load();
          while (response.model().version() > seen &&
                 !newest_seen.compare_exchange_weak(seen, response.model().version())) {
          }
        }
        ++calls;
      }
    });
  }
  absl::SleepFor(absl::Milliseconds(50));
  // Version 2 arrives as the exporter writes it: aside, then renamed into place.
  fs::copy(absl::StrCat(RECSYS_TESTDATA_DIR, "/sasrec-tiny-post-ln/1"),
           harness_.RepoFile("sasrec/2.tmp"), fs::copy_options::recursive);
  fs::rename(harness_.RepoFile("sasrec/2.tmp"), harness_.RepoFile("sasrec/2"));
  const absl::Time give_up = absl::Now() + absl::Seconds(20);
  while (newest_seen.load() < 2 && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(5));
  absl::SleepFor(absl::Milliseconds(50));
  done = true;
  for (auto& t : callers) t.join();
  EXPECT_EQ(newest_seen.load(), 2);
  EXPECT_EQ(failures.load(), 0) << "of " << calls.load() << " calls";
  EXPECT_GT(calls.load(), 10);
}

}  // namespace
}  // namespace recsys::seqrec
