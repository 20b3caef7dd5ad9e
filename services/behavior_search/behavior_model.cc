#include "services/behavior_search/behavior_model.h"

#include "absl/strings/str_cat.h"
#include "services/common/status_macros.h"

namespace recsys::behavior_search {

absl::StatusOr<std::unique_ptr<BehaviorModel>> BehaviorModel::Load(const std::string& directory) {
  auto model = std::make_unique<BehaviorModel>();
  RECSYS_ASSIGN_OR_RETURN(model->dare_, models::Dare::Load(directory));
  const std::vector<int64_t>& ids = model->dare_->config().item_ids;
  for (size_t row = 1; row < ids.size(); ++row) {
    if (!model->rows_.emplace(ids[row], static_cast<int64_t>(row)).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(directory, "/config.json: item id ", ids[row], " appears twice"));
    }
  }
  return model;
}

std::optional<int64_t> BehaviorModel::Row(int64_t item_id) const {
  const auto it = rows_.find(item_id);
  if (it == rows_.end()) return std::nullopt;
  return it->second;
}

}  // namespace recsys::behavior_search
