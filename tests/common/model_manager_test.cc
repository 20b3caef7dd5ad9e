// The model-version manager on a real model repository on disk: the newest version serves,
// new versions are swapped in while callers keep calling (none fails), in-flight callers
// finish on the version they started with, broken versions leave the old one serving.
#include "services/common/model_manager.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace recsys {
namespace {

using ::recsys::testing::IsOk;
using ::recsys::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A "model" whose weights are one number in <dir>/weights.txt; alive counts live instances.
struct FakeModel {
  explicit FakeModel(int64_t v, std::atomic<int>* alive) : value(v), alive(alive) { ++*alive; }
  ~FakeModel() { --*alive; }
  int64_t value;
  std::atomic<int>* alive;
};

class ModelManagerTest : public ::testing::Test {
 protected:
  void WriteVersion(int64_t version, const std::string& weights) {
    const std::string dir = absl::StrCat(repo_.path(), "/m/", version);
    std::filesystem::create_directories(dir + ".tmp");
    std::ofstream(dir + ".tmp/weights.txt") << weights;
    std::filesystem::rename(dir + ".tmp", dir);  // as the exporter does: whole or absent
  }

  ModelManager<FakeModel>::Options Options() {
    ModelManager<FakeModel>::Options o;
    o.repo = repo_.path();
    o.name = "m";
    o.poll_interval = absl::ZeroDuration();
    o.load = [this](const std::string& dir) -> absl::StatusOr<std::unique_ptr<FakeModel>> {
      ++loads_;
      std::ifstream in(dir + "/weights.txt");
      std::string text;
      in >> text;
      int64_t value = 0;
      if (!absl::SimpleAtoi(text, &value)) {
        return absl::InvalidArgumentError(absl::StrCat(dir, ": bad weights"));
      }
      return std::make_unique<FakeModel>(value, &alive_);
    };
    o.warm_up = [](const FakeModel& m) {
      return m.value < 0 ? absl::InternalError("warm-up failed") : absl::OkStatus();
    };
    return o;
  }

  recsys::testing::TempDir repo_;
  std::atomic<int> alive_{0};
  std::atomic<int> loads_{0};
};

TEST_F(ModelManagerTest, ServesTheNewestVersionAndIgnoresStagingDirectories) {
  WriteVersion(1, "10");
  WriteVersion(3, "30");
  std::filesystem::create_directories(repo_.File("m/7.tmp"));
  std::filesystem::create_directories(repo_.File("m/notes"));
  ModelManager<FakeModel> manager(Options());
  ASSERT_THAT(manager.Start(), IsOk());
  auto served = manager.Get();
  ASSERT_THAT(served.status(), IsOk());
  EXPECT_EQ(served->version, 3);
  EXPECT_EQ(served->model->value, 30);
  EXPECT_THAT(manager.Get(1).status(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no loaded version 1 (loaded: 3)")));
}

TEST_F(ModelManagerTest, AnEmptyRepositoryIsAPreconditionFailure) {
  ModelManager<FakeModel> manager(Options());
  EXPECT_THAT(manager.Start(), StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("m")));
  EXPECT_THAT(manager.Get().status(), StatusIs(absl::StatusCode::kUnavailable, ::testing::_));
}

TEST_F(ModelManagerTest, SwapsUnderConcurrentCallsWithoutAFailureAndFreesOldVersions) {
  WriteVersion(1, "1");
  ModelManager<FakeModel>::Options options = Options();
  options.poll_interval = absl::Milliseconds(5);  // the watcher thread does the swaps
  options.keep_versions = 1;
  ModelManager<FakeModel> manager(options);
  ASSERT_THAT(manager.Start(), IsOk());
  std::atomic<bool> done{false};
  std::atomic<int64_t> calls{0}, failures{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 4; ++t) {
    callers.emplace_back([&] {
      while (!done) {
        auto served = manager.Get();
        // A call holds its version while it works; the value must match the version it got.
        if (!served.ok() || served->model->value != served->version) ++failures;
        ++calls;
      }
    });
  }
  for (int64_t v = 2; v <= 6; ++v) {
    WriteVersion(v, std::to_string(v));
    const absl::Time give_up = absl::Now() + absl::Seconds(10);
    while (manager.Get().ok() && manager.Get()->version != v && absl::Now() < give_up) {
      absl::SleepFor(absl::Milliseconds(1));
    }
    ASSERT_EQ(manager.Get()->version, v);
  }
  done = true;
  for (auto& t : callers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(calls.load(), 100);
  EXPECT_EQ(alive_.load(), 1) << "old versions were not freed once no call held them";
  EXPECT_THAT(manager.loaded_versions(), ElementsAre(6));
}

TEST_F(ModelManagerTest, AnInFlightCallKeepsItsVersionAcrossASwap) {
  WriteVersion(1, "1");
  ModelManager<FakeModel>::Options options = Options();
  options.keep_versions = 1;
  ModelManager<FakeModel> manager(options);
  ASSERT_THAT(manager.Start(), IsOk());
  auto held = manager.Get();  // a call in progress on version 1
  WriteVersion(2, "2");
  WriteVersion(3, "3");
  ASSERT_THAT(manager.Reload(), IsOk());
  EXPECT_EQ(manager.Get()->version, 3);
  EXPECT_EQ(held->model->value, 1);  // still alive and intact
  EXPECT_EQ(alive_.load(), 2);       // version 1 lives on in the call; 3 serves
  EXPECT_THAT(manager.Get(1).status(), StatusIs(absl::StatusCode::kNotFound, ::testing::_));
  held = manager.Get();  // the call ends: version 1 is freed
  EXPECT_EQ(alive_.load(), 1);
}

TEST_F(ModelManagerTest, ABrokenVersionLeavesTheOldOneServingAndIsNotRetriedUntilItChanges) {
  auto registry = std::make_shared<prometheus::Registry>();
  WriteVersion(1, "1");
  ModelManager<FakeModel>::Options options = Options();
  options.metrics = registry.get();
  ModelManager<FakeModel> manager(options);
  ASSERT_THAT(manager.Start(), IsOk());
  WriteVersion(2, "garbage");
  EXPECT_THAT(manager.Reload().status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bad weights")));
  const int loads = loads_.load();
  EXPECT_THAT(manager.Reload().status(), StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
  EXPECT_EQ(loads_.load(), loads) << "an unchanged broken version was loaded again";
  EXPECT_EQ(manager.Get()->version, 1);
  WriteVersion(3, "-5");  // loads, but fails its warm-up
  EXPECT_THAT(manager.Reload().status(),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("warm-up")));
  EXPECT_EQ(manager.Get()->version, 1);
  const std::string text = prometheus::TextSerializer().Serialize(registry->Collect());
  EXPECT_THAT(text, HasSubstr("recsys_model_version{model=\"m\"} 1"));
  EXPECT_THAT(text, HasSubstr("recsys_model_loads_total{model=\"m\",result=\"error\"} 2"));
  EXPECT_THAT(text, HasSubstr("recsys_model_loads_total{model=\"m\",result=\"ok\"} 1"));
}

}  // namespace
}  // namespace recsys
