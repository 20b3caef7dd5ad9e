// One served version of a next-item model, SASRec or BERT4Rec (chosen once, at load, by the
// exported config's architecture), with its item catalogue: requests speak catalogue item
// ids, the models internal rows 1..num_items.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "models/common/item_catalog.h"
#include "models/common/next_item_model.h"
#include "recsys/kernels/context.h"

namespace recsys::seqrec {

class SeqRecModel {
 public:
  // The forward pass runs on device; scoring against the table stays on the host.
  static absl::StatusOr<std::unique_ptr<SeqRecModel>> Load(
      const std::string& directory, const kernels::Device& device = kernels::Device::Cpu());

  const std::string& architecture() const { return architecture_; }
  // Most history items the model reads (SASRec: max_len; BERT4Rec: max_len - 1, the last
  // slot holds [MASK]).
  int64_t max_history() const { return model_->max_history(); }
  int64_t num_items() const { return catalog_.size(); }
  int64_t hidden() const { return model_->hidden(); }
  const models::ItemCatalog& catalog() const { return catalog_; }

  // Internal row of a catalogue id, or nullopt when the model does not know the item.
  std::optional<int64_t> Row(int64_t item_id) const { return catalog_.Row(item_id); }
  int64_t ItemId(int64_t row) const { return catalog_.ItemId(row); }

  // User vectors [histories, hidden] from histories of internal rows.
  absl::StatusOr<std::vector<float>> UserVectors(
      absl::Span<const std::vector<int64_t>> histories) const {
    return model_->UserVectors(histories);
  }

  // Scoring table [table_rows, hidden] and optional bias [table_rows]; rows 1..num_items are
  // items, the others (padding, [MASK]) must never be returned.
  const std::vector<float>& table() const { return model_->item_table(); }
  const float* bias() const { return model_->score_bias(); }
  int64_t table_rows() const { return static_cast<int64_t>(table().size()) / hidden(); }

 private:
  std::string architecture_;
  std::unique_ptr<models::NextItemModel> model_;
  models::ItemCatalog catalog_;
};

}  // namespace recsys::seqrec
