// One served version of a next-item model, SASRec or BERT4Rec (chosen by the exported
// config's architecture), with the catalogue-id mapping both need: requests speak catalogue
// item ids, the models internal rows 1..num_items.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "models/bert4rec/bert4rec.h"
#include "models/sasrec/sasrec.h"
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
  int64_t max_history() const { return max_history_; }
  int64_t num_items() const { return static_cast<int64_t>(item_ids_.size()) - 1; }
  int64_t hidden() const { return hidden_; }

  // Internal row of a catalogue id, or nullopt when the model does not know the item.
  std::optional<int64_t> Row(int64_t item_id) const;
  int64_t ItemId(int64_t row) const { return item_ids_[row]; }

  // User vectors [histories, hidden] from histories of internal rows.
  absl::StatusOr<std::vector<float>> UserVectors(
      absl::Span<const std::vector<int64_t>> histories) const;

  // Scoring table [table_rows, hidden] and optional bias [table_rows]; rows 1..num_items are
  // items, the others (padding, [MASK]) must never be returned.
  const std::vector<float>& table() const;
  const float* bias() const;
  int64_t table_rows() const { return static_cast<int64_t>(table().size()) / hidden_; }

 private:
  std::string architecture_;
  int64_t max_history_ = 0, hidden_ = 0;
  std::vector<int64_t> item_ids_;
  absl::flat_hash_map<int64_t, int64_t> rows_;
  std::unique_ptr<models::SasRec> sasrec_;
  std::unique_ptr<models::Bert4Rec> bert4rec_;
};

}  // namespace recsys::seqrec
