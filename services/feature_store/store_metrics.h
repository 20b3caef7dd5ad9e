// Metrics of the feature store, whichever implementation serves a process (prometheus-cpp):
//   recsys_feature_store_operations_total{store,op,code}   counter, one per call
//   recsys_feature_store_operation_seconds{store,op}       histogram of call latency
// store = "local" (RocksDB + FAISS in this process) or "remote" (the sharded gRPC client);
// op = ingest_events, get_histories, upsert_items, get_items, embedding_upload (begin,
// every append and the finish), get_embeddings, search_neighbors, list_embedding_tables,
// checkpoint; code = the absl status code name ("OK", "UNAVAILABLE", ...).
// RocksDB's own health, read at each scrape from the local store:
//   recsys_rocksdb_write_stopped              gauge, 1 while writes are blocked
//   recsys_rocksdb_delayed_write_rate_bytes   gauge, rate writes are slowed to (0 = not)
//   recsys_rocksdb_stall_seconds_total        counter, time writes waited in stalls
//   recsys_rocksdb_pending_compaction_bytes   gauge
//   recsys_rocksdb_running_compactions        gauge
//   recsys_rocksdb_immutable_memtables        gauge
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/registry.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "recsys/store/feature_store.h"

namespace recsys::feature_store {

// inner, with every call counted and timed in registry under store=store_label.
std::unique_ptr<store::FeatureStore> WithMetrics(std::unique_ptr<store::FeatureStore> inner,
                                                 prometheus::Registry& registry,
                                                 const std::string& store_label);

// The recsys_rocksdb_* families of a store made by store::OpenLocalStore, read from it at
// each Collect() (none once detached, or for another kind of store).
class RocksDbCollector final : public prometheus::Collectable {
 public:
  explicit RocksDbCollector(const store::FeatureStore* store) : store_(store) {}
  std::vector<prometheus::MetricFamily> Collect() const override;
  // Call before the store is closed: a scrape then reports nothing instead of reading it.
  void Detach();

 private:
  mutable std::mutex mu_;
  const store::FeatureStore* store_;  // guarded by mu_
};

}  // namespace recsys::feature_store
