// A dynamic batcher for model services: callers submit one request each and block; worker
// threads gather what is queued into batches of up to max_batch and run the model once per
// batch.
//
// - A request that finds the batcher idle (nothing queued, nothing computing) is computed at
//   once on its caller's thread, saving two thread hand-offs; it counts as a batch computing,
//   so at most `workers` batches compute at a time either way. A quiet service never waits
//   for company. What arrives while a batch is computed queues, and the next free worker
//   takes it all (up to max_batch) as one batch, so batches fill under load.
// - Only a worker that frees up while other batches are still computed lets its batch form:
//   it waits until max_batch are queued, the oldest has waited max_delay, or no batch is
//   computed any more (with one worker, the default, this never happens).
// - Intra-op threads (recsys/kernels/parallelism.h): a lone call on an idle batcher may use
//   the whole intra-op budget; a batch under load (several calls in it, calls queued behind
//   it, other batches computing) asks for half of it, leaving the other half to the calls
//   around it (parsing, histories, scoring, replies) rather than to one batch's OpenMP team
//   spinning beside them; batches in flight divide what they ask for (ComputeScope).
// - The queue is bounded (max_queue): a submit beyond it gets RESOURCE_EXHAUSTED at once.
// - A request whose deadline passes while queued is dropped before compute (its caller gets
//   DEADLINE_EXCEEDED); a caller stops waiting at its deadline either way.
// - Stop() (or the destructor) fails what is still queued with UNAVAILABLE and joins the
//   workers; a batch being computed finishes.
// - Metrics, when a registry is given (labels: batcher = name):
//     recsys_batch_size{batcher}                 histogram of the sizes of computed batches
//     recsys_stage_seconds{batcher,stage}        histogram, stage = "queue" (submit to batch
//                                                start, per request) or "compute" (per batch)
//     recsys_batcher_queue_depth{batcher}        gauge, requests queued now
//     recsys_batcher_queue_capacity{batcher}     gauge, max_queue
//     recsys_batcher_rejected_total{batcher,reason}  counter, requests shed: reason =
//                                                "queue_full" or "deadline" (expired queued)
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "recsys/kernels/parallelism.h"
#include "services/common/metrics.h"

namespace recsys {

struct BatcherOptions {
  std::string name = "batcher";  // metric label and error messages
  // Largest batch handed to the model. Default: 64.
  int64_t max_batch = 64;
  // Longest a forming batch waits for more requests while other batches are computed (never
  // when the batcher is idle). Default: 2 ms.
  absl::Duration max_delay = absl::Milliseconds(2);
  // Requests queued at once (not counting batches being computed). Default: 1024.
  int64_t max_queue = 1024;
  // Batches computed concurrently. Default: 1.
  int workers = 1;
};

// Shared by every DynamicBatcher instantiation: the metric families and their series.
class BatcherMetrics {
 public:
  BatcherMetrics(prometheus::Registry* registry, const std::string& name, int64_t max_queue);
  void ObserveBatch(size_t size, double compute_seconds);
  void ObserveQueue(double seconds);
  void SetDepth(size_t depth);
  void RejectQueueFull();
  void RejectExpired();

 private:
  prometheus::Histogram* batch_size_ = nullptr;
  prometheus::Histogram* queue_ = nullptr;
  prometheus::Histogram* compute_ = nullptr;
  prometheus::Gauge* depth_ = nullptr;
  prometheus::Counter* queue_full_ = nullptr;
  prometheus::Counter* expired_ = nullptr;
};

// Validates options; errors name the field.
absl::Status ValidateBatcherOptions(const BatcherOptions& options);

template <typename Request, typename Response>
class DynamicBatcher {
 public:
  // Computes one batch: one result per request, in order.
  using BatchFn =
      std::function<std::vector<absl::StatusOr<Response>>(absl::Span<const Request* const>)>;

  DynamicBatcher(BatcherOptions options, BatchFn compute, prometheus::Registry* metrics = nullptr)
      : options_(std::move(options)), compute_(std::move(compute)),
        metrics_(metrics, options_.name, options_.max_queue) {
    for (int i = 0; i < options_.workers; ++i) workers_.emplace_back([this] { Work(); });
  }
  ~DynamicBatcher() { Stop(); }

  DynamicBatcher(const DynamicBatcher&) = delete;
  DynamicBatcher& operator=(const DynamicBatcher&) = delete;

  // Blocks until the request's batch is computed or `deadline` passes.
  absl::StatusOr<Response> Submit(Request request, absl::Time deadline) {
    auto pending = std::make_shared<Pending>();
    pending->request = std::move(request);
    pending->deadline = deadline;
    pending->enqueued = absl::Now();
    bool run_here = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return absl::UnavailableError(absl::StrCat(options_.name, " is stopping"));
      if (static_cast<int64_t>(queue_.size()) >= options_.max_queue) {
        metrics_.RejectQueueFull();
        return absl::ResourceExhaustedError(absl::StrCat(options_.name, ": ", queue_.size(),
                                                         " requests queued, the limit (",
                                                         options_.max_queue, ")"));
      }
      if (queue_.empty() && computing_ == 0) {
        ++computing_;  // idle: compute it here, below
        run_here = true;
      } else {
        queue_.push_back(pending);
        metrics_.SetDepth(queue_.size());
      }
    }
    if (run_here) {
      std::vector<std::shared_ptr<Pending>> alone = {pending};
      {
        kernels::ComputeScope scope;  // alone: the whole budget
        Compute(alone);
      }
      BatchDone();
      return std::move(pending->result);
    }
    ready_.notify_one();
    if (!pending->done.WaitForNotificationWithDeadline(deadline)) {
      return absl::DeadlineExceededError(
          absl::StrCat("deadline passed waiting in ", options_.name));
    }
    return std::move(pending->result);
  }

  // Requests waiting for a batch (not those being computed).
  int64_t queued() const {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<int64_t>(queue_.size());
  }

  // Fails queued requests with UNAVAILABLE and joins the workers. Idempotent.
  void Stop() {
    std::deque<std::shared_ptr<Pending>> left;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_ && workers_.empty()) return;
      stopping_ = true;
      left.swap(queue_);
      metrics_.SetDepth(0);
    }
    ready_.notify_all();
    for (auto& p : left) Finish(*p, absl::UnavailableError(absl::StrCat(options_.name, " stopped")));
    for (std::thread& t : workers_) t.join();
    workers_.clear();
    std::unique_lock<std::mutex> lock(mu_);  // a request computed on its caller's thread
    ready_.wait(lock, [this] { return computing_ == 0; });
  }

 private:
  struct Pending {
    Request request;
    absl::Time deadline, enqueued;
    absl::StatusOr<Response> result = absl::UnknownError("not computed");
    absl::Notification done;
  };

  static void Finish(Pending& p, absl::StatusOr<Response> result) {
    p.result = std::move(result);
    p.done.Notify();
  }

  // Takes the next batch: waits for a first request; then, only while other batches are
  // computed, until max_batch are queued or the oldest has waited max_delay. Empty when
  // stopping. The caller computes it and then calls BatchDone().
  std::vector<std::shared_ptr<Pending>> NextBatch(int* threads) {
    std::unique_lock<std::mutex> lock(mu_);
    // A free worker slot: workers - batches computing (a caller's own counts as one).
    ready_.wait(lock,
                [this] { return stopping_ || (!queue_.empty() && computing_ < options_.workers); });
    if (stopping_) return {};
    const absl::Time flush = queue_.front()->enqueued + options_.max_delay;
    while (!stopping_ && computing_ > 0 &&
           static_cast<int64_t>(queue_.size()) < options_.max_batch && absl::Now() < flush) {
      ready_.wait_for(lock, absl::ToChronoNanoseconds(flush - absl::Now()));
    }
    if (queue_.empty()) return {};  // another worker took them
    ++computing_;
    std::vector<std::shared_ptr<Pending>> batch;
    while (!queue_.empty() && static_cast<int64_t>(batch.size()) < options_.max_batch) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    metrics_.SetDepth(queue_.size());
    // Alone (one call, nothing queued, no other batch): the whole budget. Under load: half,
    // the rest serving the calls around the model (on 2 cores, where half is one thread, this
    // measured 23-50% more calls/s at 8 and 64 callers than a full team: docs/results.md).
    const bool alone = batch.size() == 1 && queue_.empty() && computing_ == 1;
    *threads = alone ? kernels::IntraOpBudget() : std::max(1, kernels::IntraOpBudget() / 2);
    if (!queue_.empty()) ready_.notify_one();  // more for another worker
    return batch;
  }

  void BatchDone() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      --computing_;
    }
    ready_.notify_all();  // a worker letting a batch form stops waiting when none computes
  }

  void Work() {
    for (;;) {
      int threads = 1;
      std::vector<std::shared_ptr<Pending>> taken = NextBatch(&threads);
      if (taken.empty()) {
        std::lock_guard<std::mutex> lock(mu_);
        if (stopping_) return;
        continue;
      }
      {
        kernels::ComputeScope scope(threads);
        Compute(taken);
      }
      BatchDone();
    }
  }

  // Runs the model on the live requests of a batch and finishes every one.
  void Compute(std::vector<std::shared_ptr<Pending>>& taken) {
    const absl::Time start = absl::Now();
    std::vector<std::shared_ptr<Pending>> live;
    std::vector<const Request*> requests;
    for (auto& p : taken) {
      metrics_.ObserveQueue(absl::ToDoubleSeconds(start - p->enqueued));
      if (p->deadline <= start) {  // nobody waits for it any more: skip the compute
        metrics_.RejectExpired();
        Finish(*p, absl::DeadlineExceededError(
                       absl::StrCat("deadline passed waiting in ", options_.name)));
        continue;
      }
      requests.push_back(&p->request);
      live.push_back(std::move(p));
    }
    if (live.empty()) return;
    std::vector<absl::StatusOr<Response>> results = compute_(requests);
    metrics_.ObserveBatch(live.size(), absl::ToDoubleSeconds(absl::Now() - start));
    for (size_t i = 0; i < live.size(); ++i) {
      Finish(*live[i], i < results.size()
                           ? std::move(results[i])
                           : absl::InternalError(absl::StrCat(
                                 options_.name, ": the model returned ", results.size(),
                                 " results for a batch of ", live.size())));
    }
  }

  const BatcherOptions options_;
  const BatchFn compute_;
  BatcherMetrics metrics_;
  mutable std::mutex mu_;
  std::condition_variable ready_;
  std::deque<std::shared_ptr<Pending>> queue_;
  int computing_ = 0;  // batches taken and not done yet
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace recsys
