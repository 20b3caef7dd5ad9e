#include "services/seqrec/seqrec_model.h"

#include "absl/strings/str_cat.h"
#include "models/common/model_config.h"
#include "services/common/status_macros.h"

namespace recsys::seqrec {

absl::StatusOr<std::unique_ptr<SeqRecModel>> SeqRecModel::Load(const std::string& directory,
                                                               const kernels::Device& device) {
  RECSYS_ASSIGN_OR_RETURN(models::ModelConfig config, models::ModelConfig::Read(directory));
  auto model = std::make_unique<SeqRecModel>();
  RECSYS_ASSIGN_OR_RETURN(model->architecture_, config.String("architecture"));
  if (model->architecture_ == "sasrec") {
    RECSYS_ASSIGN_OR_RETURN(model->sasrec_, models::SasRec::Load(directory, device));
    model->max_history_ = model->sasrec_->config().max_len;
    model->hidden_ = model->sasrec_->config().hidden;
    model->item_ids_ = model->sasrec_->config().item_ids;
  } else if (model->architecture_ == "bert4rec") {
    RECSYS_ASSIGN_OR_RETURN(model->bert4rec_, models::Bert4Rec::Load(directory, device));
    model->max_history_ = model->bert4rec_->config().max_len - 1;
    model->hidden_ = model->bert4rec_->config().hidden;
    model->item_ids_ = model->bert4rec_->config().item_ids;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        config.path(), ": architecture ", model->architecture_, " is not sasrec or bert4rec"));
  }
  for (size_t row = 1; row < model->item_ids_.size(); ++row) {
    if (!model->rows_.emplace(model->item_ids_[row], static_cast<int64_t>(row)).second) {
      return absl::InvalidArgumentError(absl::StrCat(config.path(), ": item id ",
                                                     model->item_ids_[row], " appears twice"));
    }
  }
  return model;
}

std::optional<int64_t> SeqRecModel::Row(int64_t item_id) const {
  const auto it = rows_.find(item_id);
  if (it == rows_.end()) return std::nullopt;
  return it->second;
}

absl::StatusOr<std::vector<float>> SeqRecModel::UserVectors(
    absl::Span<const std::vector<int64_t>> histories) const {
  return sasrec_ ? sasrec_->UserVectors(histories) : bert4rec_->UserVectors(histories);
}

const std::vector<float>& SeqRecModel::table() const {
  return sasrec_ ? sasrec_->item_table() : bert4rec_->item_table();
}

const float* SeqRecModel::bias() const {
  return sasrec_ ? nullptr : bert4rec_->item_bias().data();
}

}  // namespace recsys::seqrec
