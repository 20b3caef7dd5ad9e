#include "services/feature_store/store_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>

#include <array>
#include <chrono>
#include <utility>

#include "absl/status/status.h"
#include "recsys/store/local_store.h"
#include "services/common/metrics.h"

namespace recsys::feature_store {
namespace {

using store::FeatureStore;

enum Op { kIngest, kHistories, kUpsert, kItems, kUpload, kEmbeddings, kSearch, kList, kCheckpoint };
constexpr std::array<const char*, 9> kOpNames = {
    "ingest_events",   "get_histories",    "upsert_items",          "get_items", "embedding_upload",
    "get_embeddings",  "search_neighbors", "list_embedding_tables", "checkpoint"};

// Counter per (op, code) made on first use; histogram per op made up front.
class OpMetrics {
 public:
  OpMetrics(prometheus::Registry& registry, const std::string& store)
      : store_(store),
        calls_(prometheus::BuildCounter()
                   .Name("recsys_feature_store_operations_total")
                   .Help("Feature-store calls by operation and status code.")
                   .Register(registry)) {
    auto& latency = prometheus::BuildHistogram()
                        .Name("recsys_feature_store_operation_seconds")
                        .Help("Feature-store call latency by operation.")
                        .Register(registry);
    for (size_t op = 0; op < kOpNames.size(); ++op) {
      latency_[op] = &latency.Add({{"store", store_}, {"op", kOpNames[op]}}, LatencyBucketsSeconds());
      // OK is the common case: made now, so the series exists before the first call.
      ok_[op] = &calls_.Add({{"store", store_}, {"op", kOpNames[op]}, {"code", "OK"}});
    }
  }

  void Record(Op op, const absl::Status& status, double seconds) {
    latency_[op]->Observe(seconds);
    if (status.ok()) {
      ok_[op]->Increment();
    } else {  // Family::Add returns the existing series for known labels (thread-safe)
      calls_
          .Add({{"store", store_},
                {"op", kOpNames[op]},
                {"code", absl::StatusCodeToString(status.code())}})
          .Increment();
    }
  }

 private:
  const std::string store_;
  prometheus::Family<prometheus::Counter>& calls_;
  std::array<prometheus::Histogram*, kOpNames.size()> latency_{};
  std::array<prometheus::Counter*, kOpNames.size()> ok_{};
};

// Runs f, records its status and time under op, returns its result.
template <typename F>
auto Timed(OpMetrics& metrics, Op op, F&& f) {
  const auto start = std::chrono::steady_clock::now();
  auto result = f();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if constexpr (std::is_same_v<decltype(result), absl::Status>) {
    metrics.Record(op, result, seconds);
  } else {
    metrics.Record(op, result.status(), seconds);
  }
  return result;
}

class MeteredUpload final : public store::EmbeddingUpload {
 public:
  MeteredUpload(std::unique_ptr<store::EmbeddingUpload> inner, std::shared_ptr<OpMetrics> m)
      : inner_(std::move(inner)), metrics_(std::move(m)) {}
  absl::Status Append(absl::Span<const int64_t> item_ids,
                      absl::Span<const float> values) override {
    return Timed(*metrics_, kUpload, [&] { return inner_->Append(item_ids, values); });
  }
  absl::StatusOr<store::TableInfo> Finish() override {
    return Timed(*metrics_, kUpload, [&] { return inner_->Finish(); });
  }

 private:
  std::unique_ptr<store::EmbeddingUpload> inner_;
  std::shared_ptr<OpMetrics> metrics_;
};

class MeteredStore final : public FeatureStore {
 public:
  MeteredStore(std::unique_ptr<FeatureStore> inner, std::shared_ptr<OpMetrics> m)
      : inner_(std::move(inner)), m_(std::move(m)) {}

  absl::StatusOr<store::IngestResult> IngestEvents(absl::Span<const store::Event> events) override {
    return Timed(*m_, kIngest, [&] { return inner_->IngestEvents(events); });
  }
  absl::StatusOr<std::vector<store::UserHistory>> GetHistories(
      absl::Span<const std::string> user_ids, const store::HistoryQuery& query) override {
    return Timed(*m_, kHistories, [&] { return inner_->GetHistories(user_ids, query); });
  }
  absl::Status UpsertItems(absl::Span<const store::Item> items) override {
    return Timed(*m_, kUpsert, [&] { return inner_->UpsertItems(items); });
  }
  absl::StatusOr<store::ItemLookup> GetItems(absl::Span<const int64_t> item_ids) override {
    return Timed(*m_, kItems, [&] { return inner_->GetItems(item_ids); });
  }
  absl::StatusOr<std::unique_ptr<store::EmbeddingUpload>> BeginEmbeddingUpload(
      const store::TableSpec& spec) override {
    auto upload = Timed(*m_, kUpload, [&] { return inner_->BeginEmbeddingUpload(spec); });
    if (!upload.ok()) return upload.status();
    return std::unique_ptr<store::EmbeddingUpload>(
        std::make_unique<MeteredUpload>(std::move(*upload), m_));
  }
  absl::StatusOr<store::EmbeddingRows> GetEmbeddings(const std::string& table,
                                                     std::optional<int64_t> version,
                                                     absl::Span<const int64_t> item_ids) override {
    return Timed(*m_, kEmbeddings, [&] { return inner_->GetEmbeddings(table, version, item_ids); });
  }
  absl::StatusOr<store::NeighborResults> SearchNeighbors(
      const std::string& table, std::optional<int64_t> version,
      absl::Span<const store::NeighborQuery> queries) override {
    return Timed(*m_, kSearch, [&] { return inner_->SearchNeighbors(table, version, queries); });
  }
  absl::StatusOr<std::vector<store::TableInfo>> ListEmbeddingTables() override {
    return Timed(*m_, kList, [&] { return inner_->ListEmbeddingTables(); });
  }
  absl::StatusOr<store::CheckpointInfo> Checkpoint(const std::string& directory) override {
    return Timed(*m_, kCheckpoint, [&] { return inner_->Checkpoint(directory); });
  }

 private:
  std::unique_ptr<FeatureStore> inner_;
  std::shared_ptr<OpMetrics> m_;
};

prometheus::MetricFamily Family(const char* name, const char* help, prometheus::MetricType type,
                                double value) {
  prometheus::MetricFamily family;
  family.name = name;
  family.help = help;
  family.type = type;
  prometheus::ClientMetric& m = family.metric.emplace_back();
  if (type == prometheus::MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  return family;
}

}  // namespace

std::vector<prometheus::MetricFamily> RocksDbCollector::Collect() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (store_ == nullptr) return {};
  const absl::StatusOr<store::RocksDbHealth> h = store::ReadRocksDbHealth(*store_);
  if (!h.ok()) return {};
  using prometheus::MetricType;
  return {
      Family("recsys_rocksdb_write_stopped", "1 while RocksDB blocks writes.", MetricType::Gauge,
             h->write_stopped ? 1 : 0),
      Family("recsys_rocksdb_delayed_write_rate_bytes",
             "Rate RocksDB slows writes to, bytes/s; 0 = not slowed.", MetricType::Gauge,
             static_cast<double>(h->delayed_write_rate)),
      Family("recsys_rocksdb_stall_seconds_total", "Time writes waited in RocksDB stalls.",
             MetricType::Counter, static_cast<double>(h->stall_micros) * 1e-6),
      Family("recsys_rocksdb_pending_compaction_bytes",
             "Bytes RocksDB estimates compaction still owes.", MetricType::Gauge,
             static_cast<double>(h->pending_compaction_bytes)),
      Family("recsys_rocksdb_running_compactions", "Compactions running now.", MetricType::Gauge,
             static_cast<double>(h->running_compactions)),
      Family("recsys_rocksdb_immutable_memtables", "Memtables waiting to be flushed.",
             MetricType::Gauge, static_cast<double>(h->immutable_memtables)),
  };
}

void RocksDbCollector::Detach() {
  std::lock_guard<std::mutex> lock(mu_);
  store_ = nullptr;
}

std::unique_ptr<FeatureStore> WithMetrics(std::unique_ptr<FeatureStore> inner,
                                          prometheus::Registry& registry,
                                          const std::string& store_label) {
  if (inner == nullptr) return nullptr;
  return std::make_unique<MeteredStore>(std::move(inner),
                                        std::make_shared<OpMetrics>(registry, store_label));
}

}  // namespace recsys::feature_store
