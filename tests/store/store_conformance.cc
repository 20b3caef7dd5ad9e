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
  explicit Fixture(const StoreFactory& factory) : store_(factory.open(dir_.path(), limits_)) {}
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
  std::unique_ptr<FeatureStore> store_;
};

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

}  // namespace
}  // namespace recsys::store::testing
