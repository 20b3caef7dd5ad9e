#include "services/common/executor.h"

#include "recsys/kernels/parallelism.h"

namespace recsys {

Executor::Executor(int threads) {
  workers_.reserve(threads < 1 ? 1 : threads);
  for (int i = 0; i < (threads < 1 ? 1 : threads); ++i) {
    workers_.emplace_back([this] {
      kernels::UseIntraOpBudgetHere();  // handler bodies reach OpenMP code (FAISS, kernels)
      WorkerLoop();
    });
  }
}

Executor::~Executor() { Stop(); }

void Executor::Submit(absl::AnyInvocable<void()> task) {
  {
    absl::MutexLock lock(&mu_);
    if (!stopping_) {
      queue_.push_back(std::move(task));
      return;
    }
  }
  task();
}

void Executor::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  for (std::thread& worker : workers_) worker.join();
}

void Executor::WorkerLoop() {
  for (;;) {
    absl::AnyInvocable<void()> task;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](Executor* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
            return self->stopping_ || !self->queue_.empty();
          },
          this));
      if (queue_.empty()) return;  // stopping, and nothing left to run
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task();
  }
}

}  // namespace recsys
