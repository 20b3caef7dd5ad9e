// One served DARE / TWIN version with the catalogue-id mapping: requests speak catalogue item
// ids, the model internal rows 1..num_items; category ids are shared with the data it was
// trained on (0 = unknown).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "models/dare/dare.h"

namespace recsys::behavior_search {

class BehaviorModel {
 public:
  static absl::StatusOr<std::unique_ptr<BehaviorModel>> Load(const std::string& directory);

  const models::Dare& dare() const { return *dare_; }
  const models::DareConfig& config() const { return dare_->config(); }
  std::optional<int64_t> Row(int64_t item_id) const;

 private:
  std::unique_ptr<models::Dare> dare_;
  absl::flat_hash_map<int64_t, int64_t> rows_;
};

}  // namespace recsys::behavior_search
