#include "services/behavior_search/behavior_model.h"

#include "base/status_macros.h"

namespace recsys::behavior_search {

absl::StatusOr<std::unique_ptr<BehaviorModel>> BehaviorModel::Load(const std::string& directory) {
  auto model = std::make_unique<BehaviorModel>();
  RECSYS_ASSIGN_OR_RETURN(model->dare_, models::Dare::Load(directory));
  RECSYS_ASSIGN_OR_RETURN(
      model->catalog_,
      models::ItemCatalog::Build(model->dare_->config().item_ids, directory + "/config.json"));
  return model;
}

}  // namespace recsys::behavior_search
