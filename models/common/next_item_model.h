// What a next-item model (SASRec, BERT4Rec) offers a server: one user vector per history,
// scored by inner products against an item table. A server holds either through this
// interface and picks the family once, when a version loads.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace recsys::models {

class NextItemModel {
 public:
  virtual ~NextItemModel() = default;

  // Most history items the model reads; older ones are ignored.
  virtual int64_t max_history() const = 0;
  virtual int64_t hidden() const = 0;
  // item_ids()[row]: the catalogue id of internal row 1..num_items (index 0 is padding).
  virtual const std::vector<int64_t>& item_ids() const = 0;

  // One user vector (hidden floats) per history of internal rows, oldest first.
  virtual absl::StatusOr<std::vector<float>> UserVectors(
      absl::Span<const std::vector<int64_t>> histories) const = 0;

  // The scoring table [rows, hidden] (rows 1..num_items are items; padding and special rows
  // must never be returned) and its per-row bias, or nullptr when it has none.
  virtual const std::vector<float>& item_table() const = 0;
  virtual const float* score_bias() const = 0;
};

}  // namespace recsys::models
