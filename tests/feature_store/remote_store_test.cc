// The remote store against real feature-store servers on loopback: the conformance body with
// 1 and 3 shards, then what only a sharded client has (placement, a shard down, checkpoints
// on every shard).
#include "services/feature_store/remote_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "recsys/store/local_store.h"
#include "services/common/executor.h"
#include "services/feature_store/feature_store_service.h"
#include "tests/store/store_conformance.h"
#include "tests/testing/loopback_server.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace recsys::feature_store {
namespace {

using ::recsys::store::testing::ConformanceLimits;
using ::recsys::store::testing::FeatureStoreConformance;
using ::recsys::store::testing::StoreFactory;
using ::recsys::testing::IsOk;
using ::recsys::testing::StatusIs;
using ::testing::HasSubstr;

// One feature-store server: the real service over a local store on `dir`, on a gRPC server
// listening on a free loopback port.
class Shard {
 public:
  Shard(const std::string& dir, const ConformanceLimits& limits, int64_t max_checkpoints = 16)
      : executor_(4) {
    absl::StatusOr<std::unique_ptr<store::FeatureStore>> local =
        store::OpenLocalStore(store::testing::LocalOptionsFor(dir + "/db", limits));
    EXPECT_THAT(local.status(), IsOk());
    if (local.ok()) store_ = *std::move(local);
    CallPolicy policy;
    policy.executor = &executor_;
    policy.service_name = "feature_store";
    service_ = std::make_unique<FeatureStoreService>(policy, dir + "/checkpoints", max_checkpoints);
    service_->set_store(store_.get());
    server_ = std::make_unique<recsys::testing::LoopbackServer>(
        std::vector<grpc::Service*>{service_.get()});
    target_ = server_->target();
  }

  ~Shard() { Stop(); }

  void Stop() {
    if (server_ == nullptr) return;
    server_->Shutdown();
    server_.reset();
    executor_.Stop();
  }

  std::string target() const { return target_; }
  store::FeatureStore& local() { return *store_; }

 private:
  Executor executor_;
  std::unique_ptr<store::FeatureStore> store_;
  std::unique_ptr<FeatureStoreService> service_;
  std::unique_ptr<recsys::testing::LoopbackServer> server_;
  std::string target_;  // kept after Stop: clients of a stopped shard still dial it
};

// The remote store with the shards it talks to (destroyed after it).
struct ShardedStore {
  std::vector<std::unique_ptr<Shard>> shards;
  std::unique_ptr<store::FeatureStore> remote;
};

std::shared_ptr<ShardedStore> StartSharded(const std::string& dir, const ConformanceLimits& limits,
                                           int num_shards, int64_t upload_message_floats = 0) {
  auto sharded = std::make_shared<ShardedStore>();
  std::vector<std::string> targets;
  for (int i = 0; i < num_shards; ++i) {
    sharded->shards.push_back(std::make_unique<Shard>(absl::StrCat(dir, "/shard", i), limits));
    targets.push_back(sharded->shards.back()->target());
  }
  RemoteStoreOptions options;
  options.shards = InsecureShardChannels(targets);
  options.limits = store::testing::StoreLimitsFor(limits);
  options.timeout = absl::Seconds(20);
  if (upload_message_floats > 0) options.upload_message_floats = upload_message_floats;
  absl::StatusOr<std::unique_ptr<store::FeatureStore>> remote = OpenRemoteStore(options);
  EXPECT_THAT(remote.status(), IsOk());
  if (remote.ok()) sharded->remote = *std::move(remote);
  return sharded;
}

std::shared_ptr<store::FeatureStore> OpenSharded(const std::string& dir,
                                                 const ConformanceLimits& limits, int shards) {
  std::shared_ptr<ShardedStore> sharded = StartSharded(dir, limits, shards);
  return std::shared_ptr<store::FeatureStore>(sharded, sharded->remote.get());
}

INSTANTIATE_TEST_SUITE_P(
    Remote, FeatureStoreConformance,
    ::testing::Values(StoreFactory{"remote_1_shard",
                                   [](const std::string& dir, const ConformanceLimits& limits) {
                                     return OpenSharded(dir, limits, 1);
                                   }},
                      StoreFactory{"remote_3_shards",
                                   [](const std::string& dir, const ConformanceLimits& limits) {
                                     return OpenSharded(dir, limits, 3);
                                   }}),
    [](const auto& info) { return info.param.name; });

store::Event MakeEvent(const std::string& user, int64_t n) {
  store::Event e;
  e.user_id = user;
  e.event_id = absl::StrCat("e", n);
  e.item_id = n + 1;
  e.timestamp_ms = n;
  return e;
}

std::vector<std::string> Users(int n) {
  std::vector<std::string> users;
  for (int i = 0; i < n; ++i) users.push_back(absl::StrCat("user-", i));
  return users;
}

TEST(ShardOfTest, IsStableAndSpreadsUsers) {
  EXPECT_EQ(ShardOf("", 3), static_cast<int>(14695981039346656037ull % 3));
  EXPECT_EQ(ShardOf("user-1", 1), 0);
  std::vector<int> counts(3, 0);
  for (const std::string& user : Users(300)) ++counts[ShardOf(user, 3)];
  for (int c : counts) EXPECT_GT(c, 60);  // 100 expected per shard
}

TEST(RemoteStoreTest, EachUserLivesOnItsShardOnly) {
  recsys::testing::TempDir dir;
  std::shared_ptr<ShardedStore> s = StartSharded(dir.path(), {}, 3);
  const std::vector<std::string> users = Users(12);
  std::vector<store::Event> events;
  for (size_t u = 0; u < users.size(); ++u) {
    for (int k = 0; k <= static_cast<int>(u); ++k) events.push_back(MakeEvent(users[u], k));
  }
  absl::StatusOr<store::IngestResult> ingested = s->remote->IngestEvents(events);
  ASSERT_THAT(ingested.status(), IsOk());
  EXPECT_EQ(ingested->stored, static_cast<int64_t>(events.size()));

  absl::StatusOr<std::vector<store::UserHistory>> histories =
      s->remote->GetHistories(users, store::HistoryQuery{100, std::nullopt});
  ASSERT_THAT(histories.status(), IsOk());
  ASSERT_EQ(histories->size(), users.size());
  for (size_t u = 0; u < users.size(); ++u) {
    EXPECT_EQ((*histories)[u].behaviors.size(), u + 1) << users[u];  // request order kept
    for (int shard = 0; shard < 3; ++shard) {
      absl::StatusOr<std::vector<store::UserHistory>> local =
          s->shards[shard]->local().GetHistories({users[u]}, store::HistoryQuery{100, std::nullopt});
      ASSERT_THAT(local.status(), IsOk());
      EXPECT_EQ((*local)[0].total_events, shard == ShardOf(users[u], 3) ? int64_t(u + 1) : 0)
          << users[u] << " on shard " << shard;
    }
  }
}

TEST(RemoteStoreTest, AShardDownIsUnavailableNamingItAndTheOthersStillAnswer) {
  recsys::testing::TempDir dir;
  std::shared_ptr<ShardedStore> s = StartSharded(dir.path(), {}, 3);
  std::string on_down, on_up;
  for (const std::string& user : Users(50)) {
    if (ShardOf(user, 3) == 1 && on_down.empty()) on_down = user;
    if (ShardOf(user, 3) == 2 && on_up.empty()) on_up = user;
  }
  ASSERT_THAT(s->remote->IngestEvents({MakeEvent(on_down, 1), MakeEvent(on_up, 1)}).status(),
              IsOk());
  s->shards[1]->Stop();
  EXPECT_THAT(s->remote->GetHistories({on_up, on_down}, store::HistoryQuery{10, std::nullopt})
                  .status(),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("shard 1")));
  absl::StatusOr<std::vector<store::UserHistory>> up =
      s->remote->GetHistories({on_up}, store::HistoryQuery{10, std::nullopt});
  ASSERT_THAT(up.status(), IsOk());
  EXPECT_EQ((*up)[0].behaviors.size(), 1u);
  // The event for the live shard is stored; a retry of the whole batch later stores the other
  // one exactly once and reports the first as a duplicate.
  EXPECT_THAT(s->remote->IngestEvents({MakeEvent(on_up, 2), MakeEvent(on_down, 2)}).status(),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("shard 1")));
  up = s->remote->GetHistories({on_up}, store::HistoryQuery{10, std::nullopt});
  ASSERT_THAT(up.status(), IsOk());
  EXPECT_EQ((*up)[0].behaviors.size(), 2u);
}

TEST(RemoteStoreTest, CheckpointWritesOneCopyPerShard) {
  recsys::testing::TempDir dir;
  std::shared_ptr<ShardedStore> s = StartSharded(dir.path(), {}, 3);
  ASSERT_THAT(s->remote->IngestEvents({MakeEvent("a", 1), MakeEvent("b", 1)}).status(), IsOk());
  absl::StatusOr<store::CheckpointInfo> info = s->remote->Checkpoint("nightly");
  ASSERT_THAT(info.status(), IsOk());
  EXPECT_GT(info->bytes, 0);
  for (int shard = 0; shard < 3; ++shard) {
    const std::string path = absl::StrCat(dir.path(), "/shard", shard, "/checkpoints/nightly");
    EXPECT_TRUE(std::filesystem::is_directory(path)) << path;
    EXPECT_THAT(info->path, HasSubstr(path));
  }
  EXPECT_THAT(s->remote->Checkpoint("nightly").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("exists")));
  EXPECT_THAT(s->remote->Checkpoint("../escape").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("one path component")));
}

TEST(RemoteStoreTest, CheckpointsBeyondTheCapAreRefused) {
  recsys::testing::TempDir dir;
  Shard shard(dir.path(), {}, /*max_checkpoints=*/2);
  RemoteStoreOptions options;
  options.shards = InsecureShardChannels({shard.target()});
  absl::StatusOr<std::unique_ptr<store::FeatureStore>> remote = OpenRemoteStore(options);
  ASSERT_THAT(remote.status(), IsOk());
  ASSERT_THAT((*remote)->IngestEvents({MakeEvent("a", 1)}).status(), IsOk());
  EXPECT_THAT((*remote)->Checkpoint("one").status(), IsOk());
  EXPECT_THAT((*remote)->Checkpoint("two").status(), IsOk());
  EXPECT_THAT(
      (*remote)->Checkpoint("three").status(),
      StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("2 checkpoints are kept under")));
  EXPECT_FALSE(std::filesystem::exists(dir.File("checkpoints/three")));
}

TEST(RemoteStoreTest, LargeAppendsAreSplitIntoSeveralMessages) {
  recsys::testing::TempDir dir;
  // 8 floats per message: a 50-row, dim-4 Append travels as 25 messages.
  std::shared_ptr<ShardedStore> s = StartSharded(dir.path(), {}, 1, 8);
  store::TableSpec spec;
  spec.name = "t";
  spec.version = 1;
  spec.dim = 4;
  absl::StatusOr<std::unique_ptr<store::EmbeddingUpload>> upload =
      s->remote->BeginEmbeddingUpload(spec);
  ASSERT_THAT(upload.status(), IsOk());
  std::vector<int64_t> ids;
  std::vector<float> values;
  for (int64_t id = 1; id <= 50; ++id) {
    ids.push_back(id);
    for (int d = 0; d < 4; ++d) values.push_back(static_cast<float>(id * 10 + d));
  }
  ASSERT_THAT((*upload)->Append(ids, values), IsOk());
  absl::StatusOr<store::TableInfo> info = (*upload)->Finish();
  ASSERT_THAT(info.status(), IsOk());
  EXPECT_EQ(info->rows, 50);
  absl::StatusOr<store::EmbeddingRows> rows = s->remote->GetEmbeddings("t", std::nullopt, {37});
  ASSERT_THAT(rows.status(), IsOk());
  EXPECT_THAT(rows->values, ::testing::ElementsAre(370, 371, 372, 373));
}

TEST(RemoteStoreTest, BadOptionsAreRejected) {
  EXPECT_THAT(OpenRemoteStore(RemoteStoreOptions{}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("shards")));
  RemoteStoreOptions options;
  options.shards = InsecureShardChannels({"127.0.0.1:1"});
  options.max_attempts = 0;
  EXPECT_THAT(OpenRemoteStore(options).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("max_attempts")));
  options.max_attempts = 1;
  options.limits.max_k = 0;
  EXPECT_THAT(OpenRemoteStore(options).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("max_k")));
}

TEST(RemoteStoreTest, AnUnreachableShardIsUnavailableAfterRetries) {
  RemoteStoreOptions options;
  options.shards = InsecureShardChannels({"127.0.0.1:1"});  // nothing listens on port 1
  options.timeout = absl::Seconds(5);
  absl::StatusOr<std::unique_ptr<store::FeatureStore>> remote = OpenRemoteStore(options);
  ASSERT_THAT(remote.status(), IsOk());
  EXPECT_THAT((*remote)->GetHistories({"u"}, store::HistoryQuery{1, std::nullopt}).status(),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("shard 0")));
}

// ---- The service's own contract, through a raw stub (no client-side checks) ----

class FeatureStoreServiceTest : public ::testing::Test {
 protected:
  FeatureStoreServiceTest()
      : shard_(dir_.path(), {}),
        stub_(v1::FeatureStoreService::NewStub(InsecureShardChannels({shard_.target()})[0])) {}

  // Streams `messages` and returns the call's status.
  grpc::Status Upload(const std::vector<v1::UploadEmbeddingsRequest>& messages) {
    grpc::ClientContext call;
    call.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    v1::UploadEmbeddingsResponse response;
    std::unique_ptr<grpc::ClientWriter<v1::UploadEmbeddingsRequest>> writer =
        stub_->UploadEmbeddings(&call, &response);
    for (const auto& m : messages) {
      if (!writer->Write(m)) break;
    }
    writer->WritesDone();
    return writer->Finish();
  }

  static v1::UploadEmbeddingsRequest Rows(bool with_table, bool commit) {
    v1::UploadEmbeddingsRequest m;
    if (with_table) {
      m.mutable_table()->set_name("t");
      m.mutable_table()->set_version(1);
      m.mutable_table()->set_dim(2);
    }
    m.add_item_ids(1);
    m.add_values(0.5f);
    m.add_values(0.25f);
    m.set_commit(commit);
    return m;
  }

  int Tables() {
    absl::StatusOr<std::vector<store::TableInfo>> tables = shard_.local().ListEmbeddingTables();
    EXPECT_THAT(tables.status(), IsOk());
    return tables.ok() ? static_cast<int>(tables->size()) : -1;
  }

  recsys::testing::TempDir dir_;
  Shard shard_;
  std::unique_ptr<v1::FeatureStoreService::Stub> stub_;
};

TEST_F(FeatureStoreServiceTest, AnUploadIsPublishedOnlyByItsCommitMessage) {
  grpc::Status s = Upload({Rows(true, false), Rows(false, false)});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ABORTED) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("commit"));
  EXPECT_EQ(Tables(), 0);
  s = Upload({Rows(true, false), Rows(false, true)});
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(Tables(), 1);
}

TEST_F(FeatureStoreServiceTest, MalformedUploadStreamsAreInvalidAndLeaveNothing) {
  grpc::Status s = Upload({Rows(false, true)});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("table is required"));
  s = Upload({Rows(true, true), Rows(false, false)});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("followed the one with commit"));
  v1::UploadEmbeddingsRequest bad = Rows(true, true);
  bad.set_values(1, std::numeric_limits<float>::quiet_NaN());
  s = Upload({bad});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("values[1]"));
  EXPECT_EQ(Tables(), 0);
}

TEST_F(FeatureStoreServiceTest, EnumValuesTheProtoDoesNotDefineAreInvalid) {
  v1::UploadEmbeddingsRequest bad_type = Rows(true, true);
  bad_type.mutable_table()->mutable_index()->set_type(static_cast<v1::IndexSpec::Type>(99));
  grpc::Status s = Upload({bad_type});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("table.index.type: 99 is not a"));
  v1::UploadEmbeddingsRequest bad_metric = Rows(true, true);
  bad_metric.mutable_table()->mutable_index()->set_metric(static_cast<v1::Metric>(42));
  s = Upload({bad_metric});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("table.index.metric: 42 is not a"));
  EXPECT_EQ(Tables(), 0);

  v1::IngestEventsRequest ingest;
  common::v1::Event* e = ingest.add_events();
  e->set_event_id("e1");
  e->set_user_id("u");
  e->set_item_id(1);
  e->set_type(static_cast<common::v1::EventType>(77));
  v1::IngestEventsResponse response;
  grpc::ClientContext call;
  s = stub_->IngestEvents(&call, ingest, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("events[0].type: 77 is not a"));
}

TEST_F(FeatureStoreServiceTest, TheServerChecksLimitsItself) {
  v1::GetHistoriesRequest request;
  for (int i = 0; i < 17; ++i) request.add_user_ids(absl::StrCat("u", i));
  request.set_max_events(1);
  v1::GetHistoriesResponse response;
  grpc::ClientContext call;
  const grpc::Status s = stub_->GetHistories(&call, request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("1..16"));
}

}  // namespace
}  // namespace recsys::feature_store
