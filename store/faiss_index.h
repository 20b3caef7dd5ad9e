// One FAISS index over the rows of one embedding-table version, with the item id and category
// of every row, so searches can exclude items and filter categories inside FAISS (through an
// IDSelector) rather than by over-fetching.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "recsys/store/feature_store.h"

namespace faiss {
struct Index;
}

namespace recsys::store {

class FaissIndex {
 public:
  // Builds the index of spec over rows (row-major, rows.size() / dim rows).
  static absl::StatusOr<std::unique_ptr<FaissIndex>> Build(const TableSpec& spec,
                                                           std::vector<int64_t> item_ids,
                                                           const std::vector<float>& rows,
                                                           std::vector<int64_t> categories);
  // Reads an index written by Save; item ids and categories come from the store.
  static absl::StatusOr<std::unique_ptr<FaissIndex>> Load(const TableSpec& spec,
                                                          const std::string& path,
                                                          std::vector<int64_t> item_ids,
                                                          std::vector<int64_t> categories);
  ~FaissIndex();

  // Writes the index to path atomically (a temporary file, then rename).
  absl::Status Save(const std::string& path) const;

  // One query; `query` has dim floats. exclude_row is a row to leave out (-1 for none).
  absl::StatusOr<std::vector<Neighbor>> Search(const float* query, int32_t k,
                                               const std::vector<int64_t>& exclude_item_ids,
                                               const std::vector<int64_t>& include_categories,
                                               int64_t exclude_row) const;

  // n unfiltered queries at once (row-major, n * dim floats), k neighbours each: one FAISS
  // call, which spreads the queries over threads (and, for Flat, runs them as one GEMM).
  absl::StatusOr<std::vector<std::vector<Neighbor>>> SearchBatch(const float* queries, int64_t n,
                                                                 int32_t k) const;

  // Row of an item id, or -1.
  int64_t RowOf(int64_t item_id) const;
  int64_t rows() const { return static_cast<int64_t>(item_ids_.size()); }
  const TableSpec& spec() const { return spec_; }

 private:
  FaissIndex(const TableSpec& spec, std::unique_ptr<faiss::Index> index,
             std::vector<int64_t> item_ids, std::vector<int64_t> categories);

  TableSpec spec_;
  std::unique_ptr<faiss::Index> index_;
  std::vector<int64_t> item_ids_;    // per row
  std::vector<int64_t> categories_;  // per row (0 = unknown)
  absl::flat_hash_map<int64_t, int64_t> row_of_;
};

}  // namespace recsys::store
