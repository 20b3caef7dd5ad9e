// The feature store every recsys service reads from: user behaviour histories, item features
// and (later in this header's life) embedding tables with nearest-neighbour search. One
// interface, two implementations: in-process (RocksDB on a local data directory, the embedded
// default; local_store.h) and remote (a gRPC client of recsys.feature_store.v1, sharded by
// user id). Both honour the same contract, checked by one conformance test body.
//
// Contract for every method:
// - Invalid input returns INVALID_ARGUMENT naming the field (e.g. "events[3].user_id") and
//   the limit; nothing is written when any element of a batch is invalid.
// - Storage failures return UNAVAILABLE (I/O error, full disk) or INTERNAL (corruption) with
//   the cause; the store stays usable for calls that can succeed.
// - An acknowledged IngestEvents is durable (the write-ahead log is synced unless the store
//   was opened with sync_writes = false).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace recsys::store {

// Request limits of a store (INVALID_ARGUMENT beyond them, naming the limit). Every
// implementation checks a whole request against them before anything is written, so the
// remote store rejects a bad batch as a whole even when it spans shards.
struct StoreLimits {
  int64_t max_ingest_batch = 10000;    // events per IngestEvents, items per UpsertItems
  int64_t max_batch_users = 1024;      // user ids per GetHistories
  int64_t max_history_length = 100000; // HistoryQuery::max_events
  // Events one GetHistories returns in all (RESOURCE_EXHAUSTED beyond): bounds the memory
  // and the reply of a call naming many users with long histories.
  int64_t max_reply_events = 400000;
  int64_t max_batch_items = 10000;     // ids per GetItems / GetEmbeddings / upload Append
  int64_t max_item_text_bytes = 64 << 10;
  int64_t max_embedding_dim = 4096;
  int64_t max_batch_queries = 1024;    // queries per SearchNeighbors
  int64_t max_k = 1000;                // NeighborQuery::k
};

struct Event {
  // Idempotency key, 1..128 bytes, unique per user: an event whose (user_id, event_id) the
  // store already has is acknowledged again (a duplicate) but not stored twice.
  std::string event_id;
  std::string user_id;       // 1..128 bytes
  int64_t item_id = 0;       // >= 1
  int64_t category_id = 0;   // >= 0
  int32_t type = 0;          // recsys.common.v1.EventType value, >= 0
  int64_t timestamp_ms = 0;  // >= 0
  // Optional numeric fields ("rating", "dwell_seconds"); names 1..64 bytes, finite values.
  std::vector<std::pair<std::string, double>> values;
};

// One behaviour as the models read it.
struct Behavior {
  int64_t item_id = 0;
  int64_t category_id = 0;
  int64_t timestamp_ms = 0;
  int32_t type = 0;
};

struct UserHistory {
  // Oldest first; the last element is the most recent. Events with equal timestamps keep
  // their ingestion order.
  std::vector<Behavior> behaviors;
  // Events the store holds for the user (may exceed behaviors.size()).
  int64_t total_events = 0;
};

struct IngestResult {
  int64_t stored = 0;      // newly stored
  int64_t duplicates = 0;  // already present (or repeated within the batch): not stored again
};

struct HistoryQuery {
  int64_t max_events = 0;           // most recent events per user, 1..max_history_length
  std::optional<int64_t> since_ms;  // only events with timestamp_ms >= since_ms
};

struct Item {
  int64_t item_id = 0;      // >= 1
  int64_t category_id = 0;  // >= 0
  // Free-form attributes ("brand" -> "acme"): keys 1..64 bytes, values up to 4 KiB.
  std::vector<std::pair<std::string, std::string>> attributes;
  // Title or description for text models, up to max_item_text_bytes.
  std::string text;
};

struct ItemLookup {
  std::vector<Item> found;       // in request order
  std::vector<int64_t> missing;  // requested ids the store does not have, in request order
};

enum class IndexType { kFlat, kIvfFlat, kHnsw };
enum class Metric {
  kInnerProduct,  // score = <q, x>, higher is nearer
  kL2,            // score = |q - x|^2, lower is nearer
};

// The FAISS index built over one table version.
struct IndexSpec {
  IndexType type = IndexType::kFlat;
  Metric metric = Metric::kInnerProduct;
  int32_t nlist = 0;      // IVF lists; 0 = 4 * sqrt(rows)
  int32_t nprobe = 0;     // IVF lists probed per search; 0 = 16
  int32_t hnsw_m = 0;     // HNSW links per node; 0 = 32
  int32_t ef_search = 0;  // HNSW search breadth; 0 = 64
};

struct TableSpec {
  std::string name;     // [a-z0-9_-]{1,64}
  int64_t version = 0;  // >= 1; a version is immutable once uploaded
  int32_t dim = 0;      // 1..max_embedding_dim
  IndexSpec index;
};

struct TableInfo {
  TableSpec spec;
  int64_t rows = 0;
  bool ready = false;  // index built: searchable
  double index_build_seconds = 0;
};

// One version of a table being uploaded. Rows may come in any number of Append calls; the
// version becomes visible (and, being the newest, the default for searches) when Finish
// returns. Destroying an upload without Finish abandons it.
class EmbeddingUpload {
 public:
  virtual ~EmbeddingUpload() = default;
  // item_ids[i] owns values[i * dim, (i + 1) * dim). Ids >= 1; finite values. A repeated id
  // keeps its last row.
  virtual absl::Status Append(absl::Span<const int64_t> item_ids,
                              absl::Span<const float> values) = 0;
  // Builds and persists the index, then publishes the version.
  virtual absl::StatusOr<TableInfo> Finish() = 0;
};

struct EmbeddingRows {
  int64_t version = 0;
  int32_t dim = 0;
  std::vector<int64_t> item_ids;  // found ids, request order
  std::vector<float> values;      // their rows, concatenated
  std::vector<int64_t> missing;
};

struct NeighborQuery {
  // The query vector (the table's dim), or empty to use the stored row of item_id (which is
  // then excluded from its own results).
  std::vector<float> vector;
  int64_t item_id = 0;
  int32_t k = 10;  // 1..max_k
  std::vector<int64_t> exclude_item_ids;
  // When non-empty, only items of these categories (as stored when the index was built).
  std::vector<int64_t> include_category_ids;
};

struct Neighbor {
  int64_t item_id = 0;
  float score = 0;  // per the table's metric
};

struct NeighborResults {
  int64_t version = 0;                         // the version searched
  std::vector<std::vector<Neighbor>> results;  // per query, nearest first
};

struct CheckpointInfo {
  std::string path;   // absolute
  int64_t bytes = 0;  // total size of the files written or linked
};

class FeatureStore {
 public:
  virtual ~FeatureStore() = default;

  // Appends a batch of events (1..max_ingest_batch) atomically: all or nothing.
  virtual absl::StatusOr<IngestResult> IngestEvents(absl::Span<const Event> events) = 0;

  // The most recent events of each user (1..max_batch_users ids), in request order. An
  // unknown user gets an empty history, not an error.
  virtual absl::StatusOr<std::vector<UserHistory>> GetHistories(
      absl::Span<const std::string> user_ids, const HistoryQuery& query) = 0;

  // Creates or replaces items (1..max_ingest_batch), atomically.
  virtual absl::Status UpsertItems(absl::Span<const Item> items) = 0;

  // Items by id (1..max_batch_items ids).
  virtual absl::StatusOr<ItemLookup> GetItems(absl::Span<const int64_t> item_ids) = 0;

  // Starts uploading a new table version. ALREADY_EXISTS when that version exists.
  virtual absl::StatusOr<std::unique_ptr<EmbeddingUpload>> BeginEmbeddingUpload(
      const TableSpec& spec) = 0;

  // Rows by item id from a version (unset: the newest ready one). NOT_FOUND for an unknown
  // table or version.
  virtual absl::StatusOr<EmbeddingRows> GetEmbeddings(const std::string& table,
                                                      std::optional<int64_t> version,
                                                      absl::Span<const int64_t> item_ids) = 0;

  // Nearest items for a batch of queries (1..max_batch_queries) against one version. While a
  // new version is being built, searches keep using the old one; the swap is atomic.
  virtual absl::StatusOr<NeighborResults> SearchNeighbors(
      const std::string& table, std::optional<int64_t> version,
      absl::Span<const NeighborQuery> queries) = 0;

  virtual absl::StatusOr<std::vector<TableInfo>> ListEmbeddingTables() = 0;

  // Writes a consistent copy of the store into `directory`, which must not exist yet. The
  // copy is itself a data directory: a store opened on it sees everything acknowledged
  // before the call. Files are hard-linked where the filesystem allows.
  virtual absl::StatusOr<CheckpointInfo> Checkpoint(const std::string& directory) = 0;
};

}  // namespace recsys::store
