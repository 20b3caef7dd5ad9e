// SASRec inference on the kernel library, loading a version exported by
// models/training/recsys_train (config.json + model.safetensors). The math is the PyTorch
// module's (models/training/recsys_train/sasrec.py, the official TF layout by default):
// left-padded input of the last max_len items, E * sqrt(d) + P, blocks, final LayerNorm, and
// the last position's state scored against the (unscaled) item table.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "models/common/device_tensor.h"
#include "models/common/next_item_model.h"
#include "recsys/kernels/context.h"

namespace recsys::models {

struct SasRecConfig {
  int64_t num_items = 0;  // internal ids 1..num_items; 0 is padding
  int64_t max_len = 0;
  int64_t hidden = 0;
  int64_t blocks = 0;
  int64_t heads = 0;
  std::string layout;  // "original", "pre_ln" or "post_ln"
  float eps = 1e-8f;
  // item_ids[i]: the catalogue id of internal item i (item_ids[0] = 0).
  std::vector<int64_t> item_ids;
};

class SasRec final : public NextItemModel {
 public:
  // INVALID_ARGUMENT / NOT_FOUND / DATA_LOSS naming the file and the key or tensor at fault.
  // The weights are placed on device, where every forward pass runs.
  static absl::StatusOr<std::unique_ptr<SasRec>> Load(
      const std::string& directory, const kernels::Device& device = kernels::Device::Cpu());

  const SasRecConfig& config() const { return config_; }

  // One user vector (hidden floats) per history. Histories hold internal ids 1..num_items,
  // oldest first; only the last max_len items are used. An empty history is allowed (it
  // gives the vector of an all-padding input).
  absl::StatusOr<std::vector<float>> UserVectors(
      absl::Span<const std::vector<int64_t>> histories) const override;

  // user_vector(b) . item_emb[candidates[b][c]] for every user b and candidate c, concatenated
  // user by user (users may have different numbers of candidates).
  absl::StatusOr<std::vector<float>> Score(absl::Span<const std::vector<int64_t>> histories,
                                           absl::Span<const std::vector<int64_t>> candidates) const;

  // The item table, [num_items + 1, hidden] (row 0 is padding): catalogue top-K scores
  // against it.
  const std::vector<float>& item_table() const override { return item_emb_.host(); }
  const float* score_bias() const override { return nullptr; }
  int64_t max_history() const override { return config_.max_len; }
  int64_t hidden() const override { return config_.hidden; }
  const std::vector<int64_t>& item_ids() const override { return config_.item_ids; }
  const kernels::Device& device() const { return device_; }

 private:
  struct Block {
    Weights attn_ln_w, attn_ln_b, q_w, q_b, k_w, k_b, v_w, v_b;
    Weights ffn_ln_w, ffn_ln_b, ffn1_w, ffn1_b, ffn2_w, ffn2_b;
  };
  // Per-call device inputs: the key mask [batch * max_len], and for the last block the row
  // of each sequence's last position with its mask [batch].
  struct Inputs {
    int64_t batch = 0;
    const uint8_t* valid = nullptr;
    const int64_t* last_rows = nullptr;
    const uint8_t* last_valid = nullptr;
  };

  // One block over x [batch * max_len, hidden] in device memory; for the last block only the
  // last rows are computed past the keys and values. Returns the output: [batch * max_len,
  // hidden], or [batch, hidden] when last.
  absl::StatusOr<float*> RunBlock(const Block& block, const Inputs& in, bool last, float* x,
                                  Workspace& ws) const;

  SasRecConfig config_;
  kernels::Device device_ = kernels::Device::Cpu();
  Weights item_emb_, pos_emb_, final_ln_w_, final_ln_b_;
  std::vector<Block> blocks_;
};

}  // namespace recsys::models
