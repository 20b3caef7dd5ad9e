// Embedding tables of the local store: rows in RocksDB, one FAISS index per version persisted
// next to the database (<data_dir>/faiss/<name>.<version>.faiss) and reopened on start.
//
//   embeddings  t | version (8 BE) | item_id (8 BE) -> dim floats   (t = 1-byte length + name)
//   tables      t | version (8 BE) -> spec, rows, ready
//
// Published versions live in a map of shared_ptr<const FaissIndex>: a search copies the
// pointer under a short lock and runs without it, so a version built aside is swapped in
// atomically while searches on the old one finish undisturbed.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "recsys/store/feature_store.h"
#include "rocksdb/db.h"
#include "store/faiss_index.h"

namespace recsys::store {


class EmbeddingTables {
 public:
  EmbeddingTables(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* embeddings,
                  rocksdb::ColumnFamilyHandle* tables, rocksdb::ColumnFamilyHandle* items,
                  std::string faiss_dir, StoreLimits limits, bool sync_writes);

  // Reopens every ready version (rebuilding an index whose file is missing or unreadable).
  absl::Status LoadAll();

  absl::StatusOr<std::unique_ptr<EmbeddingUpload>> Begin(const TableSpec& spec);
  absl::StatusOr<EmbeddingRows> Get(const std::string& table, std::optional<int64_t> version,
                                    absl::Span<const int64_t> item_ids);
  absl::StatusOr<NeighborResults> Search(const std::string& table, std::optional<int64_t> version,
                                         absl::Span<const NeighborQuery> queries);
  absl::StatusOr<std::vector<TableInfo>> List();

  // Used by uploads: reads the version's rows, builds, saves and publishes its index.
  absl::StatusOr<TableInfo> Publish(const TableSpec& spec);
  // Key prefix of a version's rows.
  static std::string VersionKey(const std::string& name, int64_t version);

  rocksdb::DB* db() const { return db_; }
  rocksdb::ColumnFamilyHandle* embeddings() const { return embeddings_; }
  const StoreLimits& limits() const { return limits_; }

 private:
  absl::StatusOr<std::shared_ptr<const FaissIndex>> Find(const std::string& table,
                                                         std::optional<int64_t> version) const;
  std::vector<int64_t> Categories(const std::vector<int64_t>& item_ids) const;
  std::string IndexPath(const TableSpec& spec) const;

  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* embeddings_;
  rocksdb::ColumnFamilyHandle* tables_;
  rocksdb::ColumnFamilyHandle* items_;
  const std::string faiss_dir_;
  const StoreLimits limits_;
  const bool sync_writes_;  // sync the table record that publishes a version
  mutable std::mutex mu_;
  // (name, version) -> published index; guarded by mu_.
  std::map<std::pair<std::string, int64_t>, std::shared_ptr<const FaissIndex>> published_;
  // Versions being uploaded; guarded by mu_.
  std::map<std::pair<std::string, int64_t>, bool> uploading_;
};

}  // namespace recsys::store
