// The catalogue of an exported model: requests speak catalogue item ids, the model internal
// rows 1..size() (row 0 is padding). Built from the export's item_ids list (item_ids[row] is
// the catalogue id of that row; item_ids[0] is unused).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"

namespace recsys::models {

class ItemCatalog {
 public:
  ItemCatalog() = default;
  // INVALID_ARGUMENT naming `source` (the config file) when an id appears twice.
  static absl::StatusOr<ItemCatalog> Build(std::vector<int64_t> item_ids,
                                           const std::string& source);

  // Items in the catalogue (rows 1..size()).
  int64_t size() const { return static_cast<int64_t>(item_ids_.size()) - 1; }
  // Internal row of a catalogue id, or nullopt when the model does not know the item.
  std::optional<int64_t> Row(int64_t item_id) const;
  // Catalogue id of row 1..size().
  int64_t ItemId(int64_t row) const { return item_ids_[row]; }

 private:
  std::vector<int64_t> item_ids_ = {0};
  absl::flat_hash_map<int64_t, int64_t> rows_;
};

}  // namespace recsys::models
