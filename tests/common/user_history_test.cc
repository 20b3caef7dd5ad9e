// The one history resolver of the model services, against a real local feature store
// (RocksDB on disk) and a real item catalogue.
#include "services/common/user_history.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "recsys/store/local_store.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace recsys {
namespace {

using ::recsys::testing::IsOk;
using ::recsys::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class UserHistoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Catalogue ids 10, 20, 30, 40 at rows 1..4.
    absl::StatusOr<models::ItemCatalog> catalog =
        models::ItemCatalog::Build({0, 10, 20, 30, 40}, "config.json");
    ASSERT_THAT(catalog.status(), IsOk());
    catalog_ = *std::move(catalog);
    store::LocalStoreOptions options;
    options.data_dir = dir_.File("store");
    absl::StatusOr<std::unique_ptr<store::FeatureStore>> local = store::OpenLocalStore(options);
    ASSERT_THAT(local.status(), IsOk());
    store_ = *std::move(local);
    // alice: 10, 99 (unknown to the model), 20, 30, oldest first.
    std::vector<store::Event> events;
    for (int64_t item : {10, 99, 20, 30}) {
      store::Event e;
      e.user_id = "alice";
      e.event_id = absl::StrCat("e", item);
      e.item_id = item;
      e.category_id = 3;
      e.timestamp_ms = 1000 + static_cast<int64_t>(events.size());
      events.push_back(e);
    }
    ASSERT_THAT(store_->IngestEvents(events).status(), IsOk());
    source_.served = "m version 2";
    source_.catalog = &catalog_;
    source_.max_history = 3;
    source_.store = store_.get();
    source_.store_flag = "--svc_feature_store";
  }

  static common::v1::UserRef Given(const std::vector<int64_t>& items) {
    common::v1::UserRef user;
    user.mutable_history();  // set, even when empty
    for (int64_t item : items) {
      common::v1::Behavior* b = user.mutable_history()->add_behaviors();
      b->set_item_id(item);
      b->set_category_id(item / 10);
    }
    return user;
  }
  static common::v1::UserRef Id(const std::string& id) {
    common::v1::UserRef user;
    user.set_user_id(id);
    return user;
  }

  recsys::testing::TempDir dir_;
  models::ItemCatalog catalog_;
  std::unique_ptr<store::FeatureStore> store_;
  HistorySource source_;
};

TEST_F(UserHistoryTest, GivenAndStoredHistoriesInOneCall) {
  const common::v1::UserRef given = Given({40, 10, 20, 30}), alice = Id("alice"),
                            nobody = Id("nobody");
  const std::vector<const common::v1::UserRef*> users = {&given, &alice, &nobody};
  absl::StatusOr<std::vector<ResolvedHistory>> h = ResolveHistories(users, source_);
  ASSERT_THAT(h.status(), IsOk());
  ASSERT_EQ(h->size(), 3u);
  // Given: the 3 most recent, as rows.
  EXPECT_THAT((*h)[0].rows, ElementsAre(1, 2, 3));
  EXPECT_TRUE((*h)[0].truncated);
  EXPECT_FALSE((*h)[0].stored);
  EXPECT_EQ((*h)[0].behaviors[2].category_id, 3);
  // Stored: the 3 most recent events (99, 20, 30); 99 is unknown to the model and skipped.
  EXPECT_THAT((*h)[1].rows, ElementsAre(2, 3));
  EXPECT_EQ((*h)[1].behaviors[0].item_id, 20);
  EXPECT_EQ((*h)[1].behaviors[1].timestamp_ms, 1003);
  EXPECT_TRUE((*h)[1].truncated);  // 4 events stored, 3 read
  EXPECT_TRUE((*h)[1].stored);
  // A user without events: an empty history, not an error.
  EXPECT_TRUE((*h)[2].rows.empty());
  EXPECT_FALSE((*h)[2].truncated);
}

TEST_F(UserHistoryTest, AUserAskedForTwiceIsReadOnceAndAnsweredTwice) {
  const common::v1::UserRef alice = Id("alice");
  absl::StatusOr<std::vector<ResolvedHistory>> h = ResolveHistories({&alice, &alice}, source_);
  ASSERT_THAT(h.status(), IsOk());  // the store itself refuses a repeated id
  ASSERT_EQ(h->size(), 2u);
  EXPECT_THAT((*h)[0].rows, ElementsAre(2, 3));
  EXPECT_THAT((*h)[1].rows, ElementsAre(2, 3));
}

TEST_F(UserHistoryTest, BadUsersAreNamedByTheirPath) {
  const common::v1::UserRef ok = Given({10}), unknown = Given({10, 77}), empty = Given({}), neither;
  EXPECT_THAT(ResolveHistories({&ok, &unknown}, source_).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("queries[1].user.history.behaviors[1].item_id: item 77 is not "
                                 "in the catalogue of m version 2")));
  EXPECT_THAT(
      ResolveHistories({&empty}, source_).status(),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("queries[0].user.history: empty")));
  source_.field = "requests";
  EXPECT_THAT(ResolveHistories({&ok, &neither}, source_).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("requests[1].user: set user_id or history")));
}

TEST_F(UserHistoryTest, GivenBehavioursAreCheckedBeforeTheStoreIsRead) {
  source_.store = nullptr;  // a store read would fail with FAILED_PRECONDITION
  source_.check_given = [](const common::v1::Behavior& b) {
    return b.category_id() <= 3 ? absl::OkStatus()
                                : absl::InvalidArgumentError(absl::StrCat(
                                      "category_id: ", b.category_id(), " is outside 0..3"));
  };
  const common::v1::UserRef alice = Id("alice"), given = Given({10, 40});  // categories 1, 4
  EXPECT_THAT(ResolveHistories({&alice, &given}, source_).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "queries[1].user.history.behaviors[1].category_id: 4 is outside 0..3"));
}

TEST_F(UserHistoryTest, AnEventTypeTheProtoDoesNotDefineIsInvalid) {
  common::v1::UserRef given = Given({10, 20});
  given.mutable_history()->mutable_behaviors(1)->set_type(static_cast<common::v1::EventType>(99));
  EXPECT_THAT(ResolveHistories({&given}, source_).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "queries[0].user.history.behaviors[1].type: 99 is not a "
                       "recsys.common.v1.EventType value"));
}

TEST_F(UserHistoryTest, UserIdsWithoutAStoreNameTheFlag) {
  source_.store = nullptr;
  const common::v1::UserRef given = Given({10}), alice = Id("alice");
  EXPECT_THAT(ResolveHistories({&given}, source_).status(), IsOk());
  EXPECT_THAT(ResolveHistories({&given, &alice}, source_).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("--svc_feature_store")));
}

TEST(ItemCatalogTest, MapsBothWaysAndRefusesADuplicateId) {
  absl::StatusOr<models::ItemCatalog> catalog =
      models::ItemCatalog::Build({0, 10, 20}, "dir/config.json");
  ASSERT_THAT(catalog.status(), IsOk());
  EXPECT_EQ(catalog->size(), 2);
  EXPECT_EQ(catalog->Row(20), 2);
  EXPECT_EQ(catalog->ItemId(1), 10);
  EXPECT_EQ(catalog->Row(0), std::nullopt);  // the padding row is nobody's
  EXPECT_EQ(catalog->Row(30), std::nullopt);
  EXPECT_THAT(models::ItemCatalog::Build({0, 10, 20, 10}, "dir/config.json").status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("dir/config.json: item id 10 appears twice")));
}

}  // namespace
}  // namespace recsys
