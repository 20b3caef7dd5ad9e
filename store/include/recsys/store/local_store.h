// The in-process feature store: RocksDB on a local data directory.
//
// Layout (column families, keys designed for prefix scans; u = 1-byte length + user id):
//   events     u | ~timestamp_ms (8 BE) | ~sequence (8 BE)  -> item, category, type, event id,
//              values. Newest first in key order, so "most recent N" is one forward scan.
//   event_ids  u | event_id -> the event's key suffix (idempotency)
//   user_meta  u -> event count and next sequence number (per-user cap bookkeeping)
//   items      item_id (8 BE) -> category, attributes, text
//   embeddings, tables: see store/embedding_tables.h; FAISS files in <data_dir>/faiss/
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "recsys/store/feature_store.h"

namespace recsys::store {

struct LocalStoreOptions {
  // Directory of the RocksDB database; created when missing.
  std::string data_dir;
  // Sync the write-ahead log before acknowledging a write (durable across a machine crash,
  // not only a process crash). Default: true.
  bool sync_writes = true;
  // Per-user cap: the oldest events beyond it are deleted (with their idempotency keys), in
  // amortised steps, so a user holds at most max_events_per_user * 9/8 events at any time
  // and exactly the newest max_events_per_user are ever returned. Default: 100000.
  int64_t max_events_per_user = 100000;
  // Request limits (INVALID_ARGUMENT beyond them). Defaults: see StoreLimits.
  StoreLimits limits;
  // RocksDB block cache, bytes. Default: 256 MiB.
  int64_t block_cache_bytes = int64_t{256} << 20;
};

// Opens (or creates) the store. FAILED_PRECONDITION when the directory is locked by another
// process; UNAVAILABLE on I/O errors; INVALID_ARGUMENT for bad options.
absl::StatusOr<std::unique_ptr<FeatureStore>> OpenLocalStore(const LocalStoreOptions& options);

// RocksDB's own health figures of an open local store, read when asked (for /metrics).
struct RocksDbHealth {
  bool write_stopped = false;          // writes are blocked until compaction catches up
  uint64_t delayed_write_rate = 0;     // bytes/s writes are slowed to; 0 = not slowed
  uint64_t stall_micros = 0;           // time writes have waited in stalls since open
  uint64_t pending_compaction_bytes = 0;
  uint64_t running_compactions = 0;
  uint64_t immutable_memtables = 0;    // summed over column families
};
// FAILED_PRECONDITION when store was not made by OpenLocalStore.
absl::StatusOr<RocksDbHealth> ReadRocksDbHealth(const FeatureStore& store);

}  // namespace recsys::store
