#include "services/common/batcher.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "recsys/kernels/parallelism.h"
#include "tests/testing/status_matchers.h"

namespace recsys {
namespace {

using ::recsys::testing::IsOk;
using ::recsys::testing::StatusIs;
using ::testing::HasSubstr;

absl::Time In(absl::Duration d) { return absl::Now() + d; }

// Waits (up to 10 s) until the batcher holds `n` queued requests.
template <typename Batcher>
void WaitQueued(const Batcher& batcher, int64_t n) {
  const absl::Time give_up = In(absl::Seconds(10));
  while (batcher.queued() != n && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(1));
  ASSERT_EQ(batcher.queued(), n);
}

// A model that doubles its inputs and records the batch sizes it saw, and the OpenMP team
// size its kernels would have used.
struct Doubler {
  std::mutex mu;
  std::vector<size_t> sizes;
  std::vector<int> threads;
  std::vector<int> seen;
  std::vector<absl::StatusOr<int>> operator()(absl::Span<const int* const> batch) {
    std::lock_guard<std::mutex> lock(mu);
    sizes.push_back(batch.size());
    threads.push_back(kernels::IntraOpThreadsHere());
    std::vector<absl::StatusOr<int>> out;
    for (const int* x : batch) {
      seen.push_back(*x);
      out.push_back(*x < 0 ? absl::StatusOr<int>(absl::InvalidArgumentError("negative")) : 2 * *x);
    }
    return out;
  }
};

// A model that blocks its first batch until released, so what arrives meanwhile queues.
struct GatedDoubler : Doubler {
  absl::Notification first_started, release;
  std::vector<absl::StatusOr<int>> operator()(absl::Span<const int* const> batch) {
    if (!first_started.HasBeenNotified()) {
      first_started.Notify();
      release.WaitForNotification();
    }
    return Doubler::operator()(batch);
  }
};

TEST(BatcherTest, WhatQueuesWhileTheWorkerIsBusyIsBatchedAndEachGetsItsOwnResult) {
  GatedDoubler model;
  BatcherOptions options;
  options.max_batch = 4;
  options.max_delay = absl::Hours(1);  // never waited for: one worker, nothing else computes
  DynamicBatcher<int, int> batcher(options, std::ref(model));
  std::vector<absl::StatusOr<int>> results(8, absl::UnknownError(""));
  std::vector<std::thread> callers;
  callers.emplace_back([&] { results[0] = batcher.Submit(0, In(absl::Seconds(30))); });
  model.first_started.WaitForNotification();  // request 0 is being computed, alone
  for (int i = 1; i < 8; ++i) {
    callers.emplace_back([&, i] { results[i] = batcher.Submit(i, In(absl::Seconds(30))); });
  }
  WaitQueued(batcher, 7);
  model.release.Notify();
  for (auto& t : callers) t.join();
  for (int i = 0; i < 8; ++i) {
    ASSERT_THAT(results[i].status(), IsOk());
    EXPECT_EQ(*results[i], 2 * i);
  }
  // The first alone, then the seven queued ones in full batches: 4 and 3.
  EXPECT_THAT(model.sizes, ::testing::ElementsAre(1u, 4u, 3u));
}

TEST(BatcherTest, ALoneCallUsesTheIntraOpBudgetAndABatchUnderLoadItsShare) {
  kernels::SetIntraOpBudget(4);
  GatedDoubler model;
  BatcherOptions options;
  options.max_batch = 4;
  DynamicBatcher<int, int> batcher(options, std::ref(model));
  std::vector<std::thread> callers;
  callers.emplace_back([&] { (void)batcher.Submit(0, In(absl::Seconds(30))); });
  model.first_started.WaitForNotification();
  for (int i = 1; i < 8; ++i) {
    callers.emplace_back([&, i] { (void)batcher.Submit(i, In(absl::Seconds(30))); });
  }
  WaitQueued(batcher, 7);
  model.release.Notify();
  for (auto& t : callers) t.join();
  kernels::SetIntraOpBudget(0);
  ASSERT_THAT(model.sizes, ::testing::ElementsAre(1u, 4u, 3u));
  // Alone: the whole budget. Then batches under load: half of it, the rest left to the
  // calls around the model.
  EXPECT_THAT(model.threads, ::testing::ElementsAre(4, 2, 2));
}

TEST(BatcherTest, AnIdleBatcherDispatchesAtOnce) {
  Doubler model;
  BatcherOptions options;
  options.max_batch = 64;
  options.max_delay = absl::Hours(1);  // waiting for company would miss the deadline below
  DynamicBatcher<int, int> batcher(options, std::ref(model));
  for (int i = 0; i < 3; ++i) {
    EXPECT_THAT(batcher.Submit(i, In(absl::Seconds(30))).status(), IsOk());
  }
  EXPECT_THAT(model.sizes, ::testing::ElementsAre(1u, 1u, 1u));
}

TEST(BatcherTest, AFreeWorkerLetsABatchFormWhileAnotherComputes) {
  GatedDoubler model;
  BatcherOptions options;
  options.max_batch = 3;
  options.max_delay = absl::Hours(1);
  options.workers = 2;
  DynamicBatcher<int, int> batcher(options, std::ref(model));
  std::vector<std::thread> callers;
  callers.emplace_back([&] { (void)batcher.Submit(0, In(absl::Seconds(30))); });
  model.first_started.WaitForNotification();  // one worker busy, the other free
  std::vector<absl::StatusOr<int>> results(3, absl::UnknownError(""));
  for (int i = 0; i < 3; ++i) {
    callers.emplace_back([&, i] { results[i] = batcher.Submit(10 + i, In(absl::Seconds(30))); });
  }
  // The free worker waits for a full batch (max_batch 3) while the other computes.
  for (int i = 0; i < 3; ++i) {
    callers[1 + i].join();
    ASSERT_THAT(results[i].status(), IsOk());
    EXPECT_EQ(*results[i], 2 * (10 + i));
  }
  model.release.Notify();
  callers[0].join();
  EXPECT_THAT(model.sizes, ::testing::ElementsAre(3u, 1u));
}

TEST(BatcherTest, PerRequestErrorsStayWithTheirRequest) {
  Doubler model;
  DynamicBatcher<int, int> batcher(BatcherOptions{}, std::ref(model));
  EXPECT_THAT(batcher.Submit(-1, In(absl::Seconds(5))).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("negative")));
  EXPECT_EQ(*batcher.Submit(3, In(absl::Seconds(5))), 6);
}

TEST(BatcherTest, AFullQueueIsResourceExhaustedAndExpiredRequestsAreNotComputed) {
  absl::Notification started, release;
  std::atomic<int> computed{0};
  BatcherOptions options;
  options.max_batch = 1;
  options.max_delay = absl::ZeroDuration();
  options.max_queue = 2;
  auto registry = std::make_shared<prometheus::Registry>();
  auto metrics = [&] { return prometheus::TextSerializer().Serialize(registry->Collect()); };
  DynamicBatcher<int, int> batcher(
      options,
      [&](absl::Span<const int* const> batch) {
        if (!started.HasBeenNotified()) started.Notify();
        release.WaitForNotification();  // the worker is busy until the test says so
        computed += static_cast<int>(batch.size());
        return std::vector<absl::StatusOr<int>>(batch.size(), 1);
      },
      registry.get());
  std::thread busy([&] { (void)batcher.Submit(0, In(absl::Seconds(10))); });
  started.WaitForNotification();  // request 0 is being computed
  // Two requests fill the queue; they expire while the worker is busy.
  std::vector<std::thread> queued;
  std::vector<absl::Status> statuses(2);
  for (int i = 0; i < 2; ++i) {
    queued.emplace_back([&, i] {
      statuses[i] = batcher.Submit(1, In(absl::Milliseconds(300))).status();
    });
  }
  WaitQueued(batcher, 2);
  EXPECT_THAT(metrics(), HasSubstr("recsys_batcher_queue_depth{batcher=\"batcher\"} 2"));
  EXPECT_THAT(metrics(), HasSubstr("recsys_batcher_queue_capacity{batcher=\"batcher\"} 2"));
  EXPECT_THAT(batcher.Submit(2, In(absl::Seconds(1))).status(),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("limit (2)")));
  for (auto& t : queued) t.join();
  for (const absl::Status& s : statuses) {
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kDeadlineExceeded, ::testing::_));
  }
  release.Notify();
  busy.join();
  // The worker drops both expired requests before Stop (which would fail leftovers as
  // "stopped" instead); Stop joins it, so every drop is counted when it returns.
  WaitQueued(batcher, 0);
  batcher.Stop();
  EXPECT_EQ(computed.load(), 1) << "expired requests reached the model";
  const std::string text = metrics();
  EXPECT_THAT(text, HasSubstr("recsys_batcher_queue_depth{batcher=\"batcher\"} 0"));
  EXPECT_THAT(text, HasSubstr(
                        "recsys_batcher_rejected_total{batcher=\"batcher\",reason=\"queue_full\"} 1"));
  EXPECT_THAT(text, HasSubstr(
                        "recsys_batcher_rejected_total{batcher=\"batcher\",reason=\"deadline\"} 2"));
}

TEST(BatcherTest, StopFailsWhatIsQueuedAndLaterSubmitsAreUnavailable) {
  absl::Notification started, release;
  BatcherOptions options;
  options.max_batch = 1;
  auto batcher = std::make_unique<DynamicBatcher<int, int>>(
      options, [&](absl::Span<const int* const> batch) {
        if (!started.HasBeenNotified()) started.Notify();
        release.WaitForNotification();
        return std::vector<absl::StatusOr<int>>(batch.size(), 1);
      });
  std::thread busy([&] { (void)batcher->Submit(0, In(absl::Seconds(10))); });
  started.WaitForNotification();
  absl::Status queued_status;
  std::thread queued([&] { queued_status = batcher->Submit(1, In(absl::Seconds(10))).status(); });
  WaitQueued(*batcher, 1);
  std::thread stopper([&] { batcher->Stop(); });
  queued.join();
  EXPECT_THAT(queued_status, StatusIs(absl::StatusCode::kUnavailable, HasSubstr("stopped")));
  release.Notify();
  stopper.join();
  busy.join();
  EXPECT_THAT(batcher->Submit(2, In(absl::Seconds(1))).status(),
              StatusIs(absl::StatusCode::kUnavailable, ::testing::_));
}

TEST(BatcherTest, MetricsCountBatchesAndStages) {
  auto registry = std::make_shared<prometheus::Registry>();
  Doubler model;
  {
    DynamicBatcher<int, int> batcher(BatcherOptions{"scorer"}, std::ref(model), registry.get());
    ASSERT_THAT(batcher.Submit(1, In(absl::Seconds(5))).status(), IsOk());
  }
  const std::string text = prometheus::TextSerializer().Serialize(registry->Collect());
  EXPECT_THAT(text, HasSubstr("recsys_batch_size_count{batcher=\"scorer\"} 1"));
  EXPECT_THAT(text, HasSubstr("recsys_stage_seconds_count{batcher=\"scorer\",stage=\"queue\"} 1"));
  EXPECT_THAT(text, HasSubstr("recsys_stage_seconds_count{batcher=\"scorer\",stage=\"compute\"} 1"));
}

TEST(BatcherTest, OptionsAreValidated) {
  BatcherOptions o;
  EXPECT_THAT(ValidateBatcherOptions(o), IsOk());
  o.max_batch = 0;
  EXPECT_THAT(ValidateBatcherOptions(o),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("max_batch")));
}

}  // namespace
}  // namespace recsys
