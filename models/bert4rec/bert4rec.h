// BERT4Rec inference on the kernel library, loading a version exported by
// models/training/recsys_train (config.json + model.safetensors). The math is the PyTorch
// module's (models/training/recsys_train/bert4rec.py, the official TF layout): the last
// max_len - 1 items plus [MASK], right-padded; word + type[0] + position embeddings, LayerNorm;
// post-LN layers with bidirectional attention over the real tokens and erf GELU; the head
// (Dense + GELU + LayerNorm) at the [MASK] slot, scored against the tied table plus a bias.
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

struct Bert4RecConfig {
  int64_t num_items = 0;  // internal ids 1..num_items; 0 padding; num_items + 1 = [MASK]
  int64_t max_len = 0;
  int64_t hidden = 0;
  int64_t layers = 0;
  int64_t heads = 0;
  int64_t intermediate = 0;
  float eps = 1e-12f;
  std::vector<int64_t> item_ids;  // catalogue id of each internal item (index 0 = padding)
};

class Bert4Rec final : public NextItemModel {
 public:
  // The weights are placed on device, where every forward pass runs.
  static absl::StatusOr<std::unique_ptr<Bert4Rec>> Load(
      const std::string& directory, const kernels::Device& device = kernels::Device::Cpu());

  const Bert4RecConfig& config() const { return config_; }

  // The head output at the [MASK] slot per history (internal ids 1..num_items, oldest first;
  // the last max_len - 1 are used, so an empty history is just [MASK]).
  absl::StatusOr<std::vector<float>> UserVectors(
      absl::Span<const std::vector<int64_t>> histories) const override;

  // user_vector(b) . word_emb[c] + out_bias[c] for every candidate c of every user b,
  // concatenated user by user.
  absl::StatusOr<std::vector<float>> Score(absl::Span<const std::vector<int64_t>> histories,
                                           absl::Span<const std::vector<int64_t>> candidates) const;

  // [num_items + 2, hidden] tied table and [num_items + 2] output bias, for catalogue top-K.
  const std::vector<float>& item_table() const override { return word_emb_.host(); }
  const std::vector<float>& item_bias() const { return out_bias_; }
  const float* score_bias() const override { return out_bias_.data(); }
  // The last of the max_len slots holds [MASK].
  int64_t max_history() const override { return config_.max_len - 1; }
  int64_t hidden() const override { return config_.hidden; }
  const std::vector<int64_t>& item_ids() const override { return config_.item_ids; }
  const kernels::Device& device() const { return device_; }

 private:
  struct Layer {
    Weights q_w, q_b, k_w, k_b, v_w, v_b, out_w, out_b, attn_ln_w, attn_ln_b;
    Weights ffn1_w, ffn1_b, ffn2_w, ffn2_b, ffn_ln_w, ffn_ln_b;
  };

  // One layer over x [batch * max_len, hidden] in device memory (key mask `valid`); with
  // query_rows (device, [batch]) only those rows, the [MASK] slots, are computed past the keys
  // and values. Returns the output, [batch * max_len or batch, hidden].
  absl::StatusOr<float*> RunLayer(const Layer& layer, int64_t batch, const uint8_t* valid,
                                  const int64_t* query_rows, float* x, Workspace& ws) const;

  Bert4RecConfig config_;
  kernels::Device device_ = kernels::Device::Cpu();
  Weights word_emb_;
  // Position embeddings with token_type[0] folded in (the same for every token).
  Weights pos_type_emb_;
  Weights emb_ln_w_, emb_ln_b_, head_w_, head_b_, head_ln_w_, head_ln_b_;
  std::vector<float> out_bias_;  // read on the host: candidate and catalogue scoring
  std::vector<Layer> layers_;
};

}  // namespace recsys::models
