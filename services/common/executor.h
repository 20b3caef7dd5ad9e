// A fixed pool of threads that runs handler bodies, so gRPC's own callback threads (a handful,
// about one per core) never block on model work, store reads or sleeps: they stay free to
// accept calls, answer health checks and deliver cancellations.
#pragma once

#include <deque>
#include <string>
#include <thread>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"

namespace recsys {

class Executor {
 public:
  // Starts `threads` (>= 1) worker threads.
  explicit Executor(int threads);
  ~Executor();  // Stop()

  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Queues task to run on a worker. After Stop() the task runs at once on the caller's
  // thread, so no task is ever dropped. The queue is bounded by the callers (admission
  // control), not here.
  void Submit(absl::AnyInvocable<void()> task);

  // Runs what is queued, then joins the workers. Idempotent.
  void Stop();

 private:
  void WorkerLoop();

  absl::Mutex mu_;
  std::deque<absl::AnyInvocable<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> workers_;
};

}  // namespace recsys
