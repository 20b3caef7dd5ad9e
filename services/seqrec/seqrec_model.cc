#include "services/seqrec/seqrec_model.h"

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "models/bert4rec/bert4rec.h"
#include "models/common/model_config.h"
#include "models/sasrec/sasrec.h"

namespace recsys::seqrec {

absl::StatusOr<std::unique_ptr<SeqRecModel>> SeqRecModel::Load(const std::string& directory,
                                                               const kernels::Device& device) {
  RECSYS_ASSIGN_OR_RETURN(models::ModelConfig config, models::ModelConfig::Read(directory));
  auto model = std::make_unique<SeqRecModel>();
  RECSYS_ASSIGN_OR_RETURN(model->architecture_, config.String("architecture"));
  if (model->architecture_ == "sasrec") {
    RECSYS_ASSIGN_OR_RETURN(model->model_, models::SasRec::Load(directory, device));
  } else if (model->architecture_ == "bert4rec") {
    RECSYS_ASSIGN_OR_RETURN(model->model_, models::Bert4Rec::Load(directory, device));
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        config.path(), ": architecture ", model->architecture_, " is not sasrec or bert4rec"));
  }
  RECSYS_ASSIGN_OR_RETURN(model->catalog_,
                          models::ItemCatalog::Build(model->model_->item_ids(), config.path()));
  return model;
}

}  // namespace recsys::seqrec
