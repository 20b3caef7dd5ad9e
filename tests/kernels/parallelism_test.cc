// The intra-op budget: computations in flight share it, a lone one gets it all, and a scope
// leaves its thread's OpenMP team size as it found it.
#include "recsys/kernels/parallelism.h"

#include <gtest/gtest.h>

#include <thread>

#include "absl/synchronization/notification.h"

namespace recsys::kernels {
namespace {

class ParallelismTest : public ::testing::Test {
 protected:
  void TearDown() override { SetIntraOpBudget(0); }
};

TEST_F(ParallelismTest, ALoneComputationGetsTheWholeBudgetOrWhatItAsks) {
  SetIntraOpBudget(4);
  const int before = IntraOpThreadsHere();
  {
    ComputeScope scope;
    EXPECT_EQ(scope.threads(), 4);
    EXPECT_EQ(IntraOpThreadsHere(), 4);  // what an OpenMP region started here would get
  }
  EXPECT_EQ(IntraOpThreadsHere(), before);
  ComputeScope small(1);
  EXPECT_EQ(small.threads(), 1);
  EXPECT_EQ(IntraOpThreadsHere(), 1);
}

TEST_F(ParallelismTest, ComputationsInFlightShareTheBudget) {
  SetIntraOpBudget(4);
  absl::Notification opened, done;
  int other = 0;
  std::thread t([&] {
    ComputeScope first;
    other = first.threads();
    opened.Notify();
    done.WaitForNotification();
  });
  opened.WaitForNotification();
  {
    ComputeScope second;  // two in flight: half each
    EXPECT_EQ(second.threads(), 2);
    EXPECT_EQ(IntraOpThreadsHere(), 2);
  }
  done.Notify();
  t.join();
  EXPECT_EQ(other, 4);  // it was alone when it opened
  ComputeScope alone_again;
  EXPECT_EQ(alone_again.threads(), 4);
}

TEST_F(ParallelismTest, APoolThreadIsCappedAtTheBudget) {
  SetIntraOpBudget(1);
  int here = 0;
  std::thread t([&] {
    UseIntraOpBudgetHere();
    here = IntraOpThreadsHere();
  });
  t.join();
  EXPECT_EQ(here, 1);
}

TEST_F(ParallelismTest, NeverLessThanOneThread) {
  SetIntraOpBudget(1);
  absl::Notification opened, done;
  std::thread t([&] {
    ComputeScope first;
    opened.Notify();
    done.WaitForNotification();
  });
  opened.WaitForNotification();
  ComputeScope second;
  EXPECT_EQ(second.threads(), 1);
  done.Notify();
  t.join();
  SetIntraOpBudget(0);
  EXPECT_GE(IntraOpBudget(), 1);  // the default: OpenMP's team size
}

}  // namespace
}  // namespace recsys::kernels
