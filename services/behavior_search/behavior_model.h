// One served DARE / TWIN version with its item catalogue: requests speak catalogue item ids,
// the model internal rows 1..num_items; category ids are shared with the data it was trained
// on (0 = unknown).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "models/common/item_catalog.h"
#include "models/dare/dare.h"

namespace recsys::behavior_search {

class BehaviorModel {
 public:
  static absl::StatusOr<std::unique_ptr<BehaviorModel>> Load(const std::string& directory);

  const models::Dare& dare() const { return *dare_; }
  const models::DareConfig& config() const { return dare_->config(); }
  const models::ItemCatalog& catalog() const { return catalog_; }
  std::optional<int64_t> Row(int64_t item_id) const { return catalog_.Row(item_id); }

 private:
  std::unique_ptr<models::Dare> dare_;
  models::ItemCatalog catalog_;
};

}  // namespace recsys::behavior_search
