#include "recsys/store/local_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/store/store_conformance.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace recsys::store::testing {
namespace {

using ::recsys::testing::IsOk;
using ::recsys::testing::StatusIs;

LocalStoreOptions Options(const std::string& dir, const ConformanceLimits& limits) {
  return LocalOptionsFor(dir, limits);
}

std::shared_ptr<FeatureStore> OpenLocal(const std::string& dir, const ConformanceLimits& limits) {
  absl::StatusOr<std::unique_ptr<FeatureStore>> store = OpenLocalStore(Options(dir, limits));
  EXPECT_THAT(store.status(), IsOk());
  return store.ok() ? *std::move(store) : nullptr;
}

INSTANTIATE_TEST_SUITE_P(Local, FeatureStoreConformance,
                         ::testing::Values(StoreFactory{"local", &OpenLocal}),
                         [](const auto& info) { return info.param.name; });

TEST(LocalStoreTest, EventsSurviveReopen) {
  recsys::testing::TempDir dir;
  {
    std::shared_ptr<FeatureStore> store = OpenLocal(dir.path(), {});
    Event e;
    e.user_id = "u", e.event_id = "1", e.item_id = 42, e.timestamp_ms = 5;
    ASSERT_THAT(store->IngestEvents({e}).status(), IsOk());
  }
  std::shared_ptr<FeatureStore> store = OpenLocal(dir.path(), {});
  absl::StatusOr<std::vector<UserHistory>> h = store->GetHistories({"u"}, {10, std::nullopt});
  ASSERT_THAT(h.status(), IsOk());
  ASSERT_EQ((*h)[0].behaviors.size(), 1u);
  EXPECT_EQ((*h)[0].behaviors[0].item_id, 42);
}

TEST(LocalStoreTest, ACheckpointOpensAsAStoreWithEverythingAcknowledged) {
  recsys::testing::TempDir dir, backups;
  std::shared_ptr<FeatureStore> store = OpenLocal(dir.path(), {});
  Event e;
  e.user_id = "u", e.event_id = "1", e.item_id = 42, e.timestamp_ms = 5;
  ASSERT_THAT(store->IngestEvents({e}).status(), IsOk());
  absl::StatusOr<std::unique_ptr<EmbeddingUpload>> upload =
      store->BeginEmbeddingUpload(TableSpec{"t", 1, 2, {}});
  ASSERT_THAT(upload.status(), IsOk());
  ASSERT_THAT((*upload)->Append({7}, {1.0f, 2.0f}), IsOk());
  ASSERT_THAT((*upload)->Finish().status(), IsOk());
  absl::StatusOr<CheckpointInfo> checkpoint = store->Checkpoint(backups.File("c1"));
  ASSERT_THAT(checkpoint.status(), IsOk());
  EXPECT_GT(checkpoint->bytes, 0);
  e.event_id = "2";  // after the checkpoint: not in it
  ASSERT_THAT(store->IngestEvents({e}).status(), IsOk());

  std::shared_ptr<FeatureStore> copy = OpenLocal(checkpoint->path, {});
  absl::StatusOr<std::vector<UserHistory>> h = copy->GetHistories({"u"}, {10, std::nullopt});
  ASSERT_THAT(h.status(), IsOk());
  EXPECT_EQ((*h)[0].total_events, 1);
  NeighborQuery q;
  q.vector = {1.0f, 2.0f};
  q.k = 1;
  absl::StatusOr<NeighborResults> r = copy->SearchNeighbors("t", std::nullopt, {q});
  ASSERT_THAT(r.status(), IsOk());
  EXPECT_EQ(r->results[0][0].item_id, 7);
}

TEST(LocalStoreTest, CheckpointRefusesAnExistingDirectory) {
  recsys::testing::TempDir dir;
  std::shared_ptr<FeatureStore> store = OpenLocal(dir.path(), {});
  recsys::testing::TempDir existing;
  EXPECT_THAT(store->Checkpoint(existing.path()).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("exists")));
}

TEST(LocalStoreTest, ADirectoryInUseIsAPreconditionFailure) {
  recsys::testing::TempDir dir;
  std::shared_ptr<FeatureStore> first = OpenLocal(dir.path(), {});
  EXPECT_THAT(OpenLocalStore(Options(dir.path(), {})).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, ::testing::HasSubstr("in use")));
}

TEST(LocalStoreTest, BadOptionsAreRejected) {
  LocalStoreOptions o;
  EXPECT_THAT(OpenLocalStore(o).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("data_dir")));
  recsys::testing::TempDir dir;
  o = Options(dir.path(), {});
  o.max_events_per_user = 0;
  EXPECT_THAT(OpenLocalStore(o).status(), StatusIs(absl::StatusCode::kInvalidArgument,
                                                   ::testing::HasSubstr("max_events_per_user")));
}

}  // namespace
}  // namespace recsys::store::testing
