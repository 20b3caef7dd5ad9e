#include "services/common/batcher.h"

namespace recsys {

BatcherMetrics::BatcherMetrics(prometheus::Registry* registry, const std::string& name,
                               int64_t max_queue) {
  if (registry == nullptr) return;
  // Families are registered once per name and registry; prometheus-cpp hands back the same
  // family when asked again with the same name and help.
  auto& sizes = prometheus::BuildHistogram()
                    .Name("recsys_batch_size")
                    .Help("Requests per computed batch.")
                    .Register(*registry);
  auto& stages = prometheus::BuildHistogram()
                     .Name("recsys_stage_seconds")
                     .Help("Time per stage of a model call (queue: per request; compute: per "
                           "batch).")
                     .Register(*registry);
  batch_size_ = &sizes.Add({{"batcher", name}},
                           prometheus::Histogram::BucketBoundaries{1, 2, 4, 8, 16, 32, 64, 128,
                                                                   256, 512, 1024});
  queue_ = &stages.Add({{"batcher", name}, {"stage", "queue"}}, LatencyBucketsSeconds());
  compute_ = &stages.Add({{"batcher", name}, {"stage", "compute"}}, LatencyBucketsSeconds());
  depth_ = &prometheus::BuildGauge()
                .Name("recsys_batcher_queue_depth")
                .Help("Requests waiting for a batch now.")
                .Register(*registry)
                .Add({{"batcher", name}});
  prometheus::BuildGauge()
      .Name("recsys_batcher_queue_capacity")
      .Help("Requests the batcher queues at most (max_queue); more are shed.")
      .Register(*registry)
      .Add({{"batcher", name}})
      .Set(static_cast<double>(max_queue));
  auto& rejected = prometheus::BuildCounter()
                       .Name("recsys_batcher_rejected_total")
                       .Help("Requests shed by the batcher: queue_full (RESOURCE_EXHAUSTED at "
                             "submit) or deadline (expired while queued).")
                       .Register(*registry);
  queue_full_ = &rejected.Add({{"batcher", name}, {"reason", "queue_full"}});
  expired_ = &rejected.Add({{"batcher", name}, {"reason", "deadline"}});
}

void BatcherMetrics::SetDepth(size_t depth) {
  if (depth_ != nullptr) depth_->Set(static_cast<double>(depth));
}

void BatcherMetrics::RejectQueueFull() {
  if (queue_full_ != nullptr) queue_full_->Increment();
}

void BatcherMetrics::RejectExpired() {
  if (expired_ != nullptr) expired_->Increment();
}

void BatcherMetrics::ObserveBatch(size_t size, double compute_seconds) {
  if (batch_size_ == nullptr) return;
  batch_size_->Observe(static_cast<double>(size));
  compute_->Observe(compute_seconds);
}

void BatcherMetrics::ObserveQueue(double seconds) {
  if (queue_ != nullptr) queue_->Observe(seconds);
}

absl::Status ValidateBatcherOptions(const BatcherOptions& o) {
  if (o.max_batch < 1) return absl::InvalidArgumentError(absl::StrCat(o.name, ": max_batch must be >= 1"));
  if (o.max_queue < 1) return absl::InvalidArgumentError(absl::StrCat(o.name, ": max_queue must be >= 1"));
  if (o.workers < 1) return absl::InvalidArgumentError(absl::StrCat(o.name, ": workers must be >= 1"));
  if (o.max_delay < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(o.name, ": max_delay must be >= 0"));
  }
  return absl::OkStatus();
}

}  // namespace recsys
