#include "models/common/item_catalog.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace recsys::models {

absl::StatusOr<ItemCatalog> ItemCatalog::Build(std::vector<int64_t> item_ids,
                                               const std::string& source) {
  ItemCatalog catalog;
  if (item_ids.empty()) item_ids.push_back(0);
  catalog.item_ids_ = std::move(item_ids);
  catalog.rows_.reserve(catalog.item_ids_.size());
  for (size_t row = 1; row < catalog.item_ids_.size(); ++row) {
    if (!catalog.rows_.emplace(catalog.item_ids_[row], static_cast<int64_t>(row)).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": item id ", catalog.item_ids_[row], " appears twice"));
    }
  }
  return catalog;
}

std::optional<int64_t> ItemCatalog::Row(int64_t item_id) const {
  const auto it = rows_.find(item_id);
  if (it == rows_.end()) return std::nullopt;
  return it->second;
}

}  // namespace recsys::models
