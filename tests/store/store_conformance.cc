#include "tests/store/store_conformance.h"

#include <gmock/gmock.h>

#include <algorithm>
#include <atomic>
#include <limits>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace recsys::store::testing {

StoreLimits StoreLimitsFor(const ConformanceLimits& limits) {
  StoreLimits l;
  l.max_ingest_batch = limits.max_ingest_batch;
  l.max_batch_users = limits.max_batch_users;
  l.max_history_length = limits.max_history_length;
  l.max_batch_items = limits.max_batch_items;
  l.max_item_text_bytes = limits.max_item_text_bytes;
  l.max_reply_events = limits.max_reply_events;
  return l;
}

LocalStoreOptions LocalOptionsFor(const std::string& data_dir, const ConformanceLimits& limits) {
  LocalStoreOptions o;
  o.data_dir = data_dir;
  o.max_events_per_user = limits.max_events_per_user;
  o.limits = StoreLimitsFor(limits);
  o.block_cache_bytes = 8 << 20;
  return o;
}

namespace {

using ::recsys::testing::IsOk;
using ::recsys::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

Event MakeEvent(const std::string& user, const std::string& id, int64_t item, int64_t ts) {
  Event e;
  e.user_id = user;
  e.event_id = id;
  e.item_id = item;
  e.category_id = item % 7;
  e.type = 1;
  e.timestamp_ms = ts;
  return e;
}

std::vector<int64_t> Items(const UserHistory& h) {
  std::vector<int64_t> items;
  for (const Behavior& b : h.behaviors) items.push_back(b.item_id);
  return items;
}

class Fixture {
 public:
  explicit Fixture(const StoreFactory& factory, ConformanceLimits limits = {})
      : limits_(limits), store_(factory.open(dir_.path(), limits_)) {}
  FeatureStore& store() { return *store_; }
  UserHistory History(const std::string& user, int64_t max_events = 1000) {
    absl::StatusOr<std::vector<UserHistory>> h =
        store_->GetHistories({user}, HistoryQuery{max_events, std::nullopt});
    EXPECT_THAT(h.status(), IsOk());
    return h.ok() && h->size() == 1 ? (*h)[0] : UserHistory{};
  }

 private:
  recsys::testing::TempDir dir_;
  ConformanceLimits limits_;
  std::shared_ptr<FeatureStore> store_;
};

TEST_P(FeatureStoreConformance, AReplyBeyondItsEventBudgetIsRefused) {
  ConformanceLimits limits;
  limits.max_reply_events = 5;
  Fixture f(GetParam(), limits);
  for (const char* user : {"a", "b"}) {
    for (int i = 0; i < 3; ++i) {
      ASSERT_THAT(
          f.store().IngestEvents({MakeEvent(user, absl::StrCat(user, i), i + 1, i)}).status(),
          IsOk());
    }
  }
  EXPECT_EQ(f.History("a").behaviors.size(), 3u);
  EXPECT_THAT(f.store().GetHistories({"a", "b"}, HistoryQuery{10, std::nullopt}).status(),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("more than 5 events (--feature_store_max_reply_events)")));
  EXPECT_THAT(f.store().GetHistories({"a", "b"}, HistoryQuery{2, std::nullopt}).status(), IsOk());
}

TEST_P(FeatureStoreConformance, UnknownUserHasAnEmptyHistory) {
  Fixture f(GetParam());
  const UserHistory h = f.History("nobody");
  EXPECT_TRUE(h.behaviors.empty());
  EXPECT_EQ(h.total_events, 0);
}

TEST_P(FeatureStoreConformance, HistoryIsOldestFirstWithTiesInIngestionOrder) {
  Fixture f(GetParam());
  const std::vector<Event> events = {MakeEvent("u", "a", 10, 300), MakeEvent("u", "b", 11, 100),
                                     MakeEvent("u", "c", 12, 200), MakeEvent("u", "d", 13, 200)};
  absl::StatusOr<IngestResult> r = f.store().IngestEvents(events);
  ASSERT_THAT(r.status(), IsOk());
  EXPECT_EQ(r->stored, 4);
  EXPECT_EQ(r->duplicates, 0);
  const UserHistory h = f.History("u");
  EXPECT_THAT(Items(h), ElementsAre(11, 12, 13, 10));
  EXPECT_EQ(h.total_events, 4);
  EXPECT_EQ(h.behaviors[0].timestamp_ms, 100);
  EXPECT_EQ(h.behaviors[0].category_id, 11 % 7);
  EXPECT_EQ(h.behaviors[0].type, 1);
  // The most recent N, still oldest first.
  EXPECT_THAT(Items(f.History("u", 2)), ElementsAre(13, 10));
  // since_ms keeps events at or after it.
  absl::StatusOr<std::vector<UserHistory>> since =
      f.store().GetHistories({"u"}, HistoryQuery{10, 200});
  ASSERT_THAT(since.status(), IsOk());
  EXPECT_THAT(Items((*since)[0]), ElementsAre(12, 13, 10));
}

TEST_P(FeatureStoreConformance, RetriedEventsAreAcknowledgedButStoredOnce) {
  Fixture f(GetParam());
  ASSERT_THAT(
      f.store().IngestEvents({MakeEvent("u", "a", 1, 1), MakeEvent("u", "b", 2, 2)}).status(),
      IsOk());
  absl::StatusOr<IngestResult> retry =
      f.store().IngestEvents({MakeEvent("u", "a", 1, 1), MakeEvent("u", "b", 2, 2),
                              MakeEvent("u", "c", 3, 3), MakeEvent("u", "c", 3, 3)});
  ASSERT_THAT(retry.status(), IsOk());
  EXPECT_EQ(retry->stored, 1);
  EXPECT_EQ(retry->duplicates, 3);
  EXPECT_THAT(Items(f.History("u")), ElementsAre(1, 2, 3));
  // The same event id under another user is another event.
  absl::StatusOr<IngestResult> other = f.store().IngestEvents({MakeEvent("v", "a", 9, 1)});
  ASSERT_THAT(other.status(), IsOk());
  EXPECT_EQ(other->stored, 1);
}

TEST_P(FeatureStoreConformance, BatchesSpanUsersAndHistoriesComeInRequestOrder) {
  Fixture f(GetParam());
  std::vector<Event> events;
  for (int u = 0; u < 5; ++u) {
    for (int i = 0; i < 3; ++i) {
      events.push_back(MakeEvent(absl::StrCat("user", u), absl::StrCat(i), 100 * u + i + 1, i));
    }
  }
  ASSERT_THAT(f.store().IngestEvents(events).status(), IsOk());
  absl::StatusOr<std::vector<UserHistory>> h =
      f.store().GetHistories({"user3", "missing", "user0"}, HistoryQuery{10, std::nullopt});
  ASSERT_THAT(h.status(), IsOk());
  ASSERT_EQ(h->size(), 3u);
  EXPECT_THAT(Items((*h)[0]), ElementsAre(301, 302, 303));
  EXPECT_TRUE((*h)[1].behaviors.empty());
  EXPECT_THAT(Items((*h)[2]), ElementsAre(1, 2, 3));
}

TEST_P(FeatureStoreConformance, InvalidBatchesNameTheFieldAndWriteNothing) {
  Fixture f(GetParam());
  std::vector<Event> events = {MakeEvent("u", "a", 1, 1), MakeEvent("u", "b", 0, 2)};
  EXPECT_THAT(f.store().IngestEvents(events).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("events[1].item_id")));
  EXPECT_TRUE(f.History("u").behaviors.empty());
  events[1] = MakeEvent("", "b", 2, 2);
  EXPECT_THAT(f.store().IngestEvents(events).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("events[1].user_id")));
  events[1] = MakeEvent("u", "b", 2, 2);
  events[1].values = {{"rating", std::numeric_limits<double>::quiet_NaN()}};
  EXPECT_THAT(f.store().IngestEvents(events).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("rating")));
  EXPECT_THAT(f.store().IngestEvents({}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("events")));
  EXPECT_THAT(f.store().IngestEvents(std::vector<Event>(1001, MakeEvent("u", "x", 1, 1))).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("1000")));
  EXPECT_THAT(f.store().GetHistories({"u"}, HistoryQuery{0, std::nullopt}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("max_events")));
  EXPECT_THAT(f.store().GetHistories({"u"}, HistoryQuery{1001, std::nullopt}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("1000")));
  EXPECT_THAT(
      f.store().GetHistories({std::string(129, 'x')}, HistoryQuery{1, std::nullopt}).status(),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("user_ids[0]")));
  EXPECT_THAT(f.store()
                  .GetHistories(std::vector<std::string>(17, "u"), HistoryQuery{1, std::nullopt})
                  .status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("16")));
  EXPECT_THAT(f.store().GetHistories({"a", "b", "a"}, HistoryQuery{1, std::nullopt}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("user_ids[2] repeats user_ids[0]")));
  EXPECT_TRUE(f.History("u").behaviors.empty());
}

TEST_P(FeatureStoreConformance, PerUserCapKeepsTheNewestEvents) {
  Fixture f(GetParam());  // cap 200
  for (int round = 0; round < 5; ++round) {
    std::vector<Event> events;
    for (int i = 0; i < 100; ++i) {
      const int n = round * 100 + i;
      events.push_back(MakeEvent("u", absl::StrCat("e", n), n + 1, n));
    }
    ASSERT_THAT(f.store().IngestEvents(events).status(), IsOk());
  }
  const UserHistory h = f.History("u");
  EXPECT_EQ(h.total_events, 200);
  ASSERT_EQ(h.behaviors.size(), 200u);
  EXPECT_EQ(h.behaviors.front().item_id, 301);
  EXPECT_EQ(h.behaviors.back().item_id, 500);
}

TEST_P(FeatureStoreConformance, ConcurrentRetriesStoreEachEventOnce) {
  Fixture f(GetParam());
  std::vector<Event> events;
  for (int i = 0; i < 50; ++i) events.push_back(MakeEvent("u", absl::StrCat(i), i + 1, i));
  std::atomic<int64_t> stored{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      absl::StatusOr<IngestResult> r = f.store().IngestEvents(events);
      if (r.ok()) stored += r->stored;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(stored.load(), 50);
  EXPECT_EQ(f.History("u").behaviors.size(), 50u);
}

TEST_P(FeatureStoreConformance, ItemsAreUpsertedAndLookedUpInRequestOrder) {
  Fixture f(GetParam());
  Item a{7, 3, {{"brand", "acme"}, {"colour", ""}}, "a red lamp"};
  Item b{9, 0, {}, ""};
  ASSERT_THAT(f.store().UpsertItems({a, b}), IsOk());
  a.text = "a blue lamp";  // replace
  ASSERT_THAT(f.store().UpsertItems({a}), IsOk());
  absl::StatusOr<ItemLookup> lookup = f.store().GetItems({9, 8, 7, 10});
  ASSERT_THAT(lookup.status(), IsOk());
  ASSERT_EQ(lookup->found.size(), 2u);
  EXPECT_EQ(lookup->found[0].item_id, 9);
  EXPECT_EQ(lookup->found[1].item_id, 7);
  EXPECT_EQ(lookup->found[1].category_id, 3);
  EXPECT_EQ(lookup->found[1].text, "a blue lamp");
  EXPECT_EQ(lookup->found[1].attributes, a.attributes);
  EXPECT_THAT(lookup->missing, ElementsAre(8, 10));
}

TEST_P(FeatureStoreConformance, InvalidItemsNameTheField) {
  Fixture f(GetParam());
  EXPECT_THAT(f.store().UpsertItems({Item{1, 0, {}, ""}, Item{0, 0, {}, ""}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("items[1].item_id")));
  EXPECT_THAT(f.store().UpsertItems({Item{1, 0, {}, std::string(1001, 'x')}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("items[0].text")));
  EXPECT_THAT(f.store().UpsertItems({Item{1, 0, {{"", "v"}}, ""}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("attributes")));
  EXPECT_THAT(f.store().GetItems({}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("item_ids")));
  EXPECT_THAT(f.store().GetItems({1, -4}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("item_ids[1]")));
  EXPECT_THAT(f.store().GetItems(std::vector<int64_t>(101, 1)).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("100")));
  absl::StatusOr<ItemLookup> lookup = f.store().GetItems({1});
  ASSERT_THAT(lookup.status(), IsOk());
  EXPECT_TRUE(lookup->found.empty());  // nothing of the invalid batches was written
}

// ---- Embedding tables ----

TableSpec Spec(const std::string& name, int64_t version, int32_t dim,
               IndexType type = IndexType::kFlat, Metric metric = Metric::kInnerProduct) {
  TableSpec spec;
  spec.name = name;
  spec.version = version;
  spec.dim = dim;
  spec.index.type = type;
  spec.index.metric = metric;
  return spec;
}

// Uploads rows for item ids 1..n with values[i][d] = (i + 1) * 0.01 * (d + 1) + version.
absl::StatusOr<TableInfo> UploadTable(FeatureStore& store, const TableSpec& spec, int64_t n) {
  absl::StatusOr<std::unique_ptr<EmbeddingUpload>> upload = store.BeginEmbeddingUpload(spec);
  if (!upload.ok()) return upload.status();
  for (int64_t first = 1; first <= n; first += 40) {  // several chunks
    std::vector<int64_t> ids;
    std::vector<float> values;
    for (int64_t id = first; id < std::min(n + 1, first + 40); ++id) {
      ids.push_back(id);
      for (int32_t d = 0; d < spec.dim; ++d) {
        values.push_back(static_cast<float>(id * 0.01 * (d + 1) + spec.version));
      }
    }
    if (absl::Status s = (*upload)->Append(ids, values); !s.ok()) return s;
  }
  return (*upload)->Finish();
}

std::vector<int64_t> Ids(const std::vector<Neighbor>& neighbors) {
  std::vector<int64_t> ids;
  for (const Neighbor& n : neighbors) ids.push_back(n.item_id);
  return ids;
}

TEST_P(FeatureStoreConformance, EmbeddingTablesUploadListAndGet) {
  Fixture f(GetParam());
  absl::StatusOr<TableInfo> info = UploadTable(f.store(), Spec("items", 1, 4), 100);
  ASSERT_THAT(info.status(), IsOk());
  EXPECT_EQ(info->rows, 100);
  EXPECT_TRUE(info->ready);
  absl::StatusOr<EmbeddingRows> rows = f.store().GetEmbeddings("items", std::nullopt, {3, 500, 1});
  ASSERT_THAT(rows.status(), IsOk());
  EXPECT_EQ(rows->version, 1);
  EXPECT_EQ(rows->dim, 4);
  EXPECT_THAT(rows->item_ids, ElementsAre(3, 1));
  EXPECT_THAT(rows->missing, ElementsAre(500));
  ASSERT_EQ(rows->values.size(), 8u);
  EXPECT_FLOAT_EQ(rows->values[1], 3 * 0.02f + 1);
  absl::StatusOr<std::vector<TableInfo>> tables = f.store().ListEmbeddingTables();
  ASSERT_THAT(tables.status(), IsOk());
  ASSERT_EQ(tables->size(), 1u);
  EXPECT_EQ((*tables)[0].spec.name, "items");
  EXPECT_EQ((*tables)[0].rows, 100);
  // Versions are immutable.
  EXPECT_THAT(f.store().BeginEmbeddingUpload(Spec("items", 1, 4)).status(),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("version 1")));
}

TEST_P(FeatureStoreConformance, SearchIsExactOnFlatWithExclusionsAndCategories) {
  Fixture f(GetParam());
  std::vector<Item> items;
  for (int64_t id = 1; id <= 60; ++id) items.push_back(Item{id, id % 3, {}, ""});
  ASSERT_THAT(f.store().UpsertItems(items), IsOk());
  ASSERT_THAT(UploadTable(f.store(), Spec("t", 1, 3, IndexType::kFlat, Metric::kL2), 60).status(),
              IsOk());
  // Row i is (i+1)*0.01*(1,2,3) + 1: the nearest rows to row 30 in L2 are its neighbours in id.
  NeighborQuery by_vector;
  by_vector.vector = {30 * 0.01f + 1, 30 * 0.02f + 1, 30 * 0.03f + 1};
  by_vector.k = 3;
  NeighborQuery excluding = by_vector;
  excluding.exclude_item_ids = {30, 29};
  NeighborQuery by_category = by_vector;
  by_category.include_category_ids = {1};  // ids 1, 4, 7, ... 28, 31
  NeighborQuery by_item;
  by_item.item_id = 30;
  by_item.k = 2;
  absl::StatusOr<NeighborResults> r =
      f.store().SearchNeighbors("t", std::nullopt, {by_vector, excluding, by_category, by_item});
  ASSERT_THAT(r.status(), IsOk());
  EXPECT_EQ(r->version, 1);
  ASSERT_EQ(r->results.size(), 4u);
  EXPECT_EQ(r->results[0][0].item_id, 30);
  EXPECT_NEAR(r->results[0][0].score, 0.0f, 1e-5f);
  EXPECT_THAT(Ids(r->results[1]), ElementsAre(31, 28, 32));
  EXPECT_THAT(Ids(r->results[2]), ElementsAre(31, 28, 34));
  const std::vector<int64_t> around = Ids(r->results[3]);
  EXPECT_THAT(around, ::testing::UnorderedElementsAre(29, 31));  // never itself
  // k beyond the rows returns every eligible row.
  NeighborQuery all = by_vector;
  all.k = 100;
  all.include_category_ids = {2};
  r = f.store().SearchNeighbors("t", 1, {all});
  ASSERT_THAT(r.status(), IsOk());
  EXPECT_EQ(r->results[0].size(), 20u);
}

TEST_P(FeatureStoreConformance, TheNewestVersionIsTheDefault) {
  Fixture f(GetParam());
  ASSERT_THAT(UploadTable(f.store(), Spec("t", 1, 2), 10).status(), IsOk());
  ASSERT_THAT(UploadTable(f.store(), Spec("t", 3, 2), 10).status(), IsOk());
  NeighborQuery q;
  q.vector = {1, 1};
  q.k = 1;
  absl::StatusOr<NeighborResults> r = f.store().SearchNeighbors("t", std::nullopt, {q});
  ASSERT_THAT(r.status(), IsOk());
  EXPECT_EQ(r->version, 3);
  r = f.store().SearchNeighbors("t", 1, {q});
  ASSERT_THAT(r.status(), IsOk());
  EXPECT_EQ(r->version, 1);
  EXPECT_THAT(f.store().SearchNeighbors("t", 2, {q}).status(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("version 2")));
  EXPECT_THAT(f.store().SearchNeighbors("nope", std::nullopt, {q}).status(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("nope")));
}

TEST_P(FeatureStoreConformance, InvalidEmbeddingRequestsNameTheField) {
  Fixture f(GetParam());
  EXPECT_THAT(f.store().BeginEmbeddingUpload(Spec("Bad Name", 1, 4)).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("table.name")));
  EXPECT_THAT(f.store().BeginEmbeddingUpload(Spec("t", 0, 4)).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("table.version")));
  EXPECT_THAT(f.store().BeginEmbeddingUpload(Spec("t", 1, 0)).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("table.dim")));
  absl::StatusOr<std::unique_ptr<EmbeddingUpload>> upload =
      f.store().BeginEmbeddingUpload(Spec("t", 1, 2));
  ASSERT_THAT(upload.status(), IsOk());
  EXPECT_THAT((*upload)->Append({1, 2}, {1, 2, 3}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("values")));
  EXPECT_THAT((*upload)->Append({1}, {1, std::numeric_limits<float>::infinity()}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("values[1]")));
  EXPECT_THAT((*upload)->Append({0}, {1, 2}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("item_ids[0]")));
  ASSERT_THAT((*upload)->Append({1, 2}, {1, 0, 0, 1}), IsOk());
  ASSERT_THAT((*upload)->Finish().status(), IsOk());
  NeighborQuery q;
  q.vector = {1, 0, 0};
  EXPECT_THAT(f.store().SearchNeighbors("t", std::nullopt, {q}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("queries[0].vector")));
  q.vector = {1, 0};
  q.k = 0;
  EXPECT_THAT(f.store().SearchNeighbors("t", std::nullopt, {q}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("queries[0].k")));
  q.k = 1;
  q.vector.clear();
  q.item_id = 99;
  EXPECT_THAT(f.store().SearchNeighbors("t", std::nullopt, {q}).status(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("item_id 99")));
  EXPECT_THAT(f.store().SearchNeighbors("t", std::nullopt, {}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("queries")));
}

TEST_P(FeatureStoreConformance, AnAbandonedUploadLeavesNothing) {
  Fixture f(GetParam());
  {
    absl::StatusOr<std::unique_ptr<EmbeddingUpload>> upload =
        f.store().BeginEmbeddingUpload(Spec("t", 1, 2));
    ASSERT_THAT(upload.status(), IsOk());
    ASSERT_THAT((*upload)->Append({1, 2}, {1, 0, 0, 1}), IsOk());
  }  // destroyed without Finish
  EXPECT_THAT(f.store().GetEmbeddings("t", std::nullopt, {1}).status(),
              StatusIs(absl::StatusCode::kNotFound, ::testing::_));
  absl::StatusOr<TableInfo> again = UploadTable(f.store(), Spec("t", 1, 2), 5);
  ASSERT_THAT(again.status(), IsOk());
  EXPECT_EQ(again->rows, 5);
}


}  // namespace
}  // namespace recsys::store::testing
