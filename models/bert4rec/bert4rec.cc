#include "models/bert4rec/bert4rec.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "models/common/layers.h"
#include "models/common/model_config.h"
#include "models/common/safetensors.h"
#include "recsys/kernels/elementwise.h"
#include "services/common/status_macros.h"

namespace recsys::models {

absl::StatusOr<std::unique_ptr<Bert4Rec>> Bert4Rec::Load(const std::string& directory) {
  RECSYS_ASSIGN_OR_RETURN(ModelConfig config, ModelConfig::ReadOf(directory, "bert4rec"));
  auto model = std::unique_ptr<Bert4Rec>(new Bert4Rec());
  Bert4RecConfig& c = model->config_;
  RECSYS_ASSIGN_OR_RETURN(c.num_items, config.Int("num_items"));
  RECSYS_ASSIGN_OR_RETURN(c.max_len, config.Int("max_len"));
  RECSYS_ASSIGN_OR_RETURN(c.hidden, config.Int("hidden"));
  RECSYS_ASSIGN_OR_RETURN(c.layers, config.Int("layers"));
  RECSYS_ASSIGN_OR_RETURN(c.heads, config.Int("heads"));
  RECSYS_ASSIGN_OR_RETURN(c.intermediate, config.Int("intermediate"));
  RECSYS_ASSIGN_OR_RETURN(double eps, config.Number("layer_norm_eps"));
  c.eps = static_cast<float>(eps);
  RECSYS_ASSIGN_OR_RETURN(int64_t mask_id, config.Int("mask_id"));
  RECSYS_ASSIGN_OR_RETURN(c.item_ids, config.IntList("item_ids"));
  if (c.num_items < 1 || c.max_len < 2 || c.hidden < 1 || c.layers < 0 || c.heads < 1 ||
      c.hidden % c.heads != 0 || c.intermediate < 1 || mask_id != c.num_items + 1 ||
      static_cast<int64_t>(c.item_ids.size()) != c.num_items + 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        config.path(), ": inconsistent dimensions (num_items, max_len >= 2, hidden, layers, "
                       "heads, intermediate, mask_id = num_items + 1, item_ids)"));
  }
  RECSYS_ASSIGN_OR_RETURN(TensorFile file, TensorFile::Read(directory + "/model.safetensors"));
  Loader load(file);
  const int64_t d = c.hidden, vocab = c.num_items + 2;
  RECSYS_RETURN_IF_ERROR(load.Take("word_emb.weight", {vocab, d}, &model->word_emb_));
  RECSYS_RETURN_IF_ERROR(load.Take("type_emb.weight", {2, d}, &model->type_emb_));
  RECSYS_RETURN_IF_ERROR(load.Take("pos_emb.weight", {c.max_len, d}, &model->pos_emb_));
  RECSYS_RETURN_IF_ERROR(load.TakeLinear("emb_ln", d, 0, &model->emb_ln_w_, &model->emb_ln_b_));
  RECSYS_RETURN_IF_ERROR(load.TakeLinear("head", d, d, &model->head_w_, &model->head_b_));
  RECSYS_RETURN_IF_ERROR(load.TakeLinear("head_ln", d, 0, &model->head_ln_w_, &model->head_ln_b_));
  RECSYS_RETURN_IF_ERROR(load.Take("out_bias", {vocab}, &model->out_bias_));
  model->layers_.resize(static_cast<size_t>(c.layers));
  for (int64_t i = 0; i < c.layers; ++i) {
    Layer& l = model->layers_[i];
    const std::string at = absl::StrCat("layers.", i, ".");
    RECSYS_RETURN_IF_ERROR(load.TakeLinear(at + "q", d, d, &l.q_w, &l.q_b));
    RECSYS_RETURN_IF_ERROR(load.TakeLinear(at + "k", d, d, &l.k_w, &l.k_b));
    RECSYS_RETURN_IF_ERROR(load.TakeLinear(at + "v", d, d, &l.v_w, &l.v_b));
    RECSYS_RETURN_IF_ERROR(load.TakeLinear(at + "attn_out", d, d, &l.out_w, &l.out_b));
    RECSYS_RETURN_IF_ERROR(load.TakeLinear(at + "attn_ln", d, 0, &l.attn_ln_w, &l.attn_ln_b));
    RECSYS_RETURN_IF_ERROR(load.TakeLinear(at + "ffn1", c.intermediate, d, &l.ffn1_w, &l.ffn1_b));
    RECSYS_RETURN_IF_ERROR(load.TakeLinear(at + "ffn2", d, c.intermediate, &l.ffn2_w, &l.ffn2_b));
    RECSYS_RETURN_IF_ERROR(load.TakeLinear(at + "ffn_ln", d, 0, &l.ffn_ln_w, &l.ffn_ln_b));
  }
  return model;
}

absl::Status Bert4Rec::RunLayer(const Layer& l, int64_t batch, const std::vector<uint8_t>& valid,
                                const std::vector<int64_t>* query_rows,
                                std::vector<float>& x) const {
  const int64_t d = config_.hidden, len = config_.max_len, rows = batch * len;
  // Keys and values span every position; with query_rows only those rows (one per sequence,
  // the [MASK] slot) go on past them, and x becomes [batch, d].
  const int64_t q_rows = query_rows == nullptr ? rows : batch;
  std::vector<float> q, k, v, attn, projected, h1, h2;
  RECSYS_RETURN_IF_ERROR(Linear(device_, x, rows, d, l.k_w, l.k_b, d, k));
  RECSYS_RETURN_IF_ERROR(Linear(device_, x, rows, d, l.v_w, l.v_b, d, v));
  if (query_rows != nullptr) x = GatherRows(x, d, *query_rows);
  RECSYS_RETURN_IF_ERROR(Linear(device_, x, q_rows, d, l.q_w, l.q_b, d, q));
  RECSYS_RETURN_IF_ERROR(SelfAttention(device_, q, k, v, batch, q_rows / batch, len,
                                       config_.heads, d, kernels::AttentionMask::kBidirectional,
                                       valid, attn));
  RECSYS_RETURN_IF_ERROR(Linear(device_, attn, q_rows, d, l.out_w, l.out_b, d, projected));
  Add(projected, x);
  RECSYS_RETURN_IF_ERROR(
      Norm(device_, projected, q_rows, d, l.attn_ln_w, l.attn_ln_b, config_.eps, x));
  RECSYS_RETURN_IF_ERROR(
      Linear(device_, x, q_rows, d, l.ffn1_w, l.ffn1_b, config_.intermediate, h1));
  RECSYS_RETURN_IF_ERROR(kernels::Activate(device_, kernels::Activation::kGeluErf, h1.data(),
                                           h1.data(), static_cast<int64_t>(h1.size())));
  RECSYS_RETURN_IF_ERROR(
      Linear(device_, h1, q_rows, config_.intermediate, l.ffn2_w, l.ffn2_b, d, h2));
  Add(h2, x);
  return Norm(device_, h2, q_rows, d, l.ffn_ln_w, l.ffn_ln_b, config_.eps, x);
}

absl::StatusOr<std::vector<float>> Bert4Rec::UserVectors(
    absl::Span<const std::vector<int64_t>> histories) const {
  const int64_t batch = static_cast<int64_t>(histories.size());
  const int64_t len = config_.max_len, d = config_.hidden;
  const int64_t mask_id = config_.num_items + 1;
  std::vector<uint8_t> valid(static_cast<size_t>(batch * len), 0);
  std::vector<int64_t> ids(static_cast<size_t>(batch * len), 0), mask_slot(batch);
  for (int64_t b = 0; b < batch; ++b) {
    const std::vector<int64_t>& h = histories[b];
    const int64_t used = std::min<int64_t>(len - 1, static_cast<int64_t>(h.size()));
    for (int64_t j = 0; j < used; ++j) {
      const size_t from = h.size() - used + j;
      if (h[from] < 1 || h[from] > config_.num_items) {
        return absl::InvalidArgumentError(absl::StrCat("histories[", b, "][", from, "]: item ",
                                                       h[from], " is outside 1..",
                                                       config_.num_items));
      }
      ids[b * len + j] = h[from];
    }
    ids[b * len + used] = mask_id;  // right padding: [MASK] right after the last item
    mask_slot[b] = used;
    for (int64_t j = 0; j <= used; ++j) valid[b * len + j] = 1;
  }
  std::vector<float> x(static_cast<size_t>(batch * len * d)), embedded;
  for (int64_t r = 0; r < batch * len; ++r) {
    const float* w = word_emb_.data() + ids[r] * d;
    const float* p = pos_emb_.data() + (r % len) * d;
    float* row = x.data() + r * d;
    for (int64_t i = 0; i < d; ++i) row[i] = w[i] + type_emb_[i] + p[i];
  }
  RECSYS_RETURN_IF_ERROR(Norm(device_, x, batch * len, d, emb_ln_w_, emb_ln_b_, config_.eps, x));
  // Only the [MASK] slot is read: the last layer computes its queries alone.
  std::vector<int64_t> mask_rows(static_cast<size_t>(batch));
  for (int64_t b = 0; b < batch; ++b) mask_rows[b] = b * len + mask_slot[b];
  for (size_t i = 0; i < layers_.size(); ++i) {
    const bool last = i + 1 == layers_.size();
    RECSYS_RETURN_IF_ERROR(RunLayer(layers_[i], batch, valid, last ? &mask_rows : nullptr, x));
  }
  if (layers_.empty()) x = GatherRows(x, d, mask_rows);
  std::vector<float> head, out;
  RECSYS_RETURN_IF_ERROR(Linear(device_, x, batch, d, head_w_, head_b_, d, head));
  RECSYS_RETURN_IF_ERROR(kernels::Activate(device_, kernels::Activation::kGeluErf, head.data(),
                                           head.data(), static_cast<int64_t>(head.size())));
  RECSYS_RETURN_IF_ERROR(Norm(device_, head, batch, d, head_ln_w_, head_ln_b_, config_.eps, out));
  return out;
}

absl::StatusOr<std::vector<float>> Bert4Rec::Score(
    absl::Span<const std::vector<int64_t>> histories,
    absl::Span<const std::vector<int64_t>> candidates) const {
  if (candidates.size() != histories.size()) {
    return absl::InvalidArgumentError(absl::StrCat("candidates: ", candidates.size(),
                                                   " lists for ", histories.size(), " users"));
  }
  RECSYS_ASSIGN_OR_RETURN(std::vector<float> users, UserVectors(histories));
  return ScoreRows(users, config_.hidden, word_emb_, out_bias_.data(), config_.num_items, candidates);
}

}  // namespace recsys::models
