// The feature store's metrics: every call through WithMetrics is counted by operation and
// status code and timed, and RocksDB's health is read from the local store at each scrape.
#include "services/feature_store/store_metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include "recsys/store/local_store.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace recsys::feature_store {
namespace {

using ::recsys::testing::IsOk;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

std::string Text(const prometheus::Collectable& c) {
  return prometheus::TextSerializer().Serialize(c.Collect());
}

std::unique_ptr<store::FeatureStore> OpenStore(const recsys::testing::TempDir& dir) {
  store::LocalStoreOptions options;
  options.data_dir = dir.path() + "/db";
  auto local = store::OpenLocalStore(options);
  EXPECT_THAT(local.status(), IsOk());
  return local.ok() ? *std::move(local) : nullptr;
}

TEST(StoreMetrics, CallsAreCountedByOperationAndCode) {
  recsys::testing::TempDir dir;
  auto local = OpenStore(dir);
  ASSERT_NE(local, nullptr);
  prometheus::Registry registry;
  auto metered = WithMetrics(std::move(local), registry, "local");
  // Before any call the OK series exist at 0, so rate() has a baseline.
  EXPECT_THAT(Text(registry), HasSubstr("recsys_feature_store_operations_total{code=\"OK\","
                                        "op=\"ingest_events\",store=\"local\"} 0"));
  store::Event event;
  event.event_id = "e1";
  event.user_id = "u1";
  event.item_id = 7;
  event.timestamp_ms = 1000;
  ASSERT_THAT(metered->IngestEvents({event}).status(), IsOk());
  event.item_id = 0;  // invalid: the store refuses it
  EXPECT_FALSE(metered->IngestEvents({event}).ok());
  store::HistoryQuery query;
  query.max_events = 10;
  ASSERT_THAT(metered->GetHistories({"u1"}, query).status(), IsOk());
  const std::string text = Text(registry);
  EXPECT_THAT(text, HasSubstr("recsys_feature_store_operations_total{code=\"OK\","
                              "op=\"ingest_events\",store=\"local\"} 1"));
  EXPECT_THAT(text, HasSubstr("recsys_feature_store_operations_total{code=\"INVALID_ARGUMENT\","
                              "op=\"ingest_events\",store=\"local\"} 1"));
  EXPECT_THAT(text, HasSubstr("recsys_feature_store_operations_total{code=\"OK\","
                              "op=\"get_histories\",store=\"local\"} 1"));
  EXPECT_THAT(text, HasSubstr("recsys_feature_store_operation_seconds_count{"
                              "op=\"ingest_events\",store=\"local\"} 2"));
}

TEST(StoreMetrics, RocksDbHealthIsReadAtEachScrapeUntilDetached) {
  recsys::testing::TempDir dir;
  auto local = OpenStore(dir);
  ASSERT_NE(local, nullptr);
  RocksDbCollector collector(local.get());
  const std::string text = Text(collector);
  for (const char* name : {"recsys_rocksdb_write_stopped 0", "recsys_rocksdb_stall_seconds_total 0",
                           "recsys_rocksdb_delayed_write_rate_bytes 0",
                           "recsys_rocksdb_pending_compaction_bytes",
                           "recsys_rocksdb_running_compactions",
                           "recsys_rocksdb_immutable_memtables"}) {
    EXPECT_THAT(text, HasSubstr(name));
  }
  collector.Detach();
  EXPECT_THAT(collector.Collect(), IsEmpty());
  // Not a local store: nothing to report, no error.
  prometheus::Registry registry;
  auto metered = WithMetrics(std::move(local), registry, "local");
  EXPECT_THAT(RocksDbCollector(metered.get()).Collect(), IsEmpty());
  EXPECT_THAT(Text(registry), Not(IsEmpty()));
}

}  // namespace
}  // namespace recsys::feature_store
