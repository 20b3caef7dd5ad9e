#include "models/bert4rec/bert4rec.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "models/common/layers.h"
#include "models/common/model_config.h"
#include "models/common/safetensors.h"
#include "recsys/kernels/elementwise.h"
#include "recsys/kernels/rows.h"

namespace recsys::models {

absl::StatusOr<std::unique_ptr<Bert4Rec>> Bert4Rec::Load(const std::string& directory,
                                                         const kernels::Device& device) {
  RECSYS_RETURN_IF_ERROR(kernels::CheckDevice(device));
  RECSYS_ASSIGN_OR_RETURN(ModelConfig config, ModelConfig::ReadOf(directory, "bert4rec"));
  auto model = std::unique_ptr<Bert4Rec>(new Bert4Rec());
  model->device_ = device;
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
  Loader load(file, device);
  const int64_t d = c.hidden, vocab = c.num_items + 2;
  std::vector<float> word_emb, type_emb, pos_emb;
  RECSYS_RETURN_IF_ERROR(load.Take("word_emb.weight", {vocab, d}, &word_emb));
  RECSYS_RETURN_IF_ERROR(load.Take("type_emb.weight", {2, d}, &type_emb));
  RECSYS_RETURN_IF_ERROR(load.Take("pos_emb.weight", {c.max_len, d}, &pos_emb));
  for (int64_t j = 0; j < c.max_len; ++j) {
    for (int64_t i = 0; i < d; ++i) pos_emb[j * d + i] += type_emb[i];
  }
  // The table stays on the host too: catalogue top-K and candidate scoring read it there.
  RECSYS_ASSIGN_OR_RETURN(model->word_emb_, Weights::Place(device, std::move(word_emb), true));
  RECSYS_ASSIGN_OR_RETURN(model->pos_type_emb_, Weights::Place(device, std::move(pos_emb)));
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

absl::StatusOr<float*> Bert4Rec::RunLayer(const Layer& l, int64_t batch, const uint8_t* valid,
                                          const int64_t* query_rows, float* x,
                                          Workspace& ws) const {
  const int64_t d = config_.hidden, len = config_.max_len, rows = batch * len;
  const int64_t inter = config_.intermediate;
  // Keys and values span every position; with query_rows only those rows (one per sequence,
  // the [MASK] slot) go on past them.
  const int64_t q_rows = query_rows == nullptr ? rows : batch;
  // Temporaries live in the layer's own workspace, freed when it returns; the output (x, or
  // the gathered query rows) is the call's.
  Workspace tmp(device_);
  RECSYS_ASSIGN_OR_RETURN(float* k, tmp.Floats(rows * d));
  RECSYS_ASSIGN_OR_RETURN(float* v, tmp.Floats(rows * d));
  RECSYS_RETURN_IF_ERROR(Linear(device_, x, rows, d, l.k_w.data(), l.k_b.data(), d, k));
  RECSYS_RETURN_IF_ERROR(Linear(device_, x, rows, d, l.v_w.data(), l.v_b.data(), d, v));
  float* xq = x;
  if (query_rows != nullptr) {
    RECSYS_ASSIGN_OR_RETURN(xq, ws.Floats(batch * d));
    RECSYS_RETURN_IF_ERROR(GatherRowsOf(device_, x, rows, d, query_rows, batch, xq));
  }
  RECSYS_ASSIGN_OR_RETURN(float* q, tmp.Floats(q_rows * d));
  RECSYS_ASSIGN_OR_RETURN(float* attn, tmp.Floats(q_rows * d));
  RECSYS_ASSIGN_OR_RETURN(float* projected, tmp.Floats(q_rows * d));
  RECSYS_ASSIGN_OR_RETURN(float* h1, tmp.Floats(q_rows * inter));
  RECSYS_ASSIGN_OR_RETURN(float* h2, tmp.Floats(q_rows * d));
  RECSYS_RETURN_IF_ERROR(Linear(device_, xq, q_rows, d, l.q_w.data(), l.q_b.data(), d, q));
  RECSYS_RETURN_IF_ERROR(SelfAttention(device_, q, k, v, batch, q_rows / batch, len,
                                       config_.heads, d, kernels::AttentionMask::kBidirectional,
                                       valid, attn));
  RECSYS_RETURN_IF_ERROR(
      Linear(device_, attn, q_rows, d, l.out_w.data(), l.out_b.data(), d, projected));
  RECSYS_RETURN_IF_ERROR(kernels::AddInPlace(device_, projected, xq, q_rows * d));
  RECSYS_RETURN_IF_ERROR(Norm(device_, projected, q_rows, d, l.attn_ln_w.data(),
                              l.attn_ln_b.data(), config_.eps, xq));
  RECSYS_RETURN_IF_ERROR(
      Linear(device_, xq, q_rows, d, l.ffn1_w.data(), l.ffn1_b.data(), inter, h1));
  RECSYS_RETURN_IF_ERROR(
      kernels::Activate(device_, kernels::Activation::kGeluErf, h1, h1, q_rows * inter));
  RECSYS_RETURN_IF_ERROR(
      Linear(device_, h1, q_rows, inter, l.ffn2_w.data(), l.ffn2_b.data(), d, h2));
  RECSYS_RETURN_IF_ERROR(kernels::AddInPlace(device_, h2, xq, q_rows * d));
  RECSYS_RETURN_IF_ERROR(
      Norm(device_, h2, q_rows, d, l.ffn_ln_w.data(), l.ffn_ln_b.data(), config_.eps, xq));
  return xq;
}

absl::StatusOr<std::vector<float>> Bert4Rec::UserVectors(
    absl::Span<const std::vector<int64_t>> histories) const {
  const int64_t batch = static_cast<int64_t>(histories.size());
  const int64_t len = config_.max_len, d = config_.hidden, rows = batch * len;
  const int64_t mask_id = config_.num_items + 1;
  std::vector<uint8_t> valid(static_cast<size_t>(rows), 0);
  std::vector<int64_t> ids(static_cast<size_t>(rows), 0), positions(rows), mask_rows(batch);
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
    mask_rows[b] = b * len + used;  // only the [MASK] slot is read
    for (int64_t j = 0; j <= used; ++j) valid[b * len + j] = 1;
    for (int64_t j = 0; j < len; ++j) positions[b * len + j] = j;
  }
  if (batch == 0) return std::vector<float>();
  Workspace ws(device_);
  RECSYS_ASSIGN_OR_RETURN(const uint8_t* valid_d, ws.Upload(valid));
  RECSYS_ASSIGN_OR_RETURN(const int64_t* ids_d, ws.Upload(ids));
  RECSYS_ASSIGN_OR_RETURN(const int64_t* positions_d, ws.Upload(positions));
  RECSYS_ASSIGN_OR_RETURN(const int64_t* mask_rows_d, ws.Upload(mask_rows));
  RECSYS_ASSIGN_OR_RETURN(float* x, ws.Floats(rows * d));
  // word + (type[0] + position), then LayerNorm
  RECSYS_RETURN_IF_ERROR(EmbedTokens(device_, word_emb_, config_.num_items + 2, ids_d, 1.0f,
                                     pos_type_emb_, len, positions_d, rows, d, x));
  RECSYS_RETURN_IF_ERROR(
      Norm(device_, x, rows, d, emb_ln_w_.data(), emb_ln_b_.data(), config_.eps, x));
  for (size_t i = 0; i < layers_.size(); ++i) {
    const bool last = i + 1 == layers_.size();
    RECSYS_ASSIGN_OR_RETURN(
        x, RunLayer(layers_[i], batch, valid_d, last ? mask_rows_d : nullptr, x, ws));
  }
  if (layers_.empty()) {
    RECSYS_ASSIGN_OR_RETURN(float* masked, ws.Floats(batch * d));
    RECSYS_RETURN_IF_ERROR(GatherRowsOf(device_, x, rows, d, mask_rows_d, batch, masked));
    x = masked;
  }
  RECSYS_ASSIGN_OR_RETURN(float* head, ws.Floats(batch * d));
  RECSYS_RETURN_IF_ERROR(Linear(device_, x, batch, d, head_w_.data(), head_b_.data(), d, head));
  RECSYS_RETURN_IF_ERROR(
      kernels::Activate(device_, kernels::Activation::kGeluErf, head, head, batch * d));
  RECSYS_RETURN_IF_ERROR(
      Norm(device_, head, batch, d, head_ln_w_.data(), head_ln_b_.data(), config_.eps, head));
  return Download(device_, head, batch * d);
}

absl::StatusOr<std::vector<float>> Bert4Rec::Score(
    absl::Span<const std::vector<int64_t>> histories,
    absl::Span<const std::vector<int64_t>> candidates) const {
  if (candidates.size() != histories.size()) {
    return absl::InvalidArgumentError(absl::StrCat("candidates: ", candidates.size(),
                                                   " lists for ", histories.size(), " users"));
  }
  RECSYS_ASSIGN_OR_RETURN(std::vector<float> users, UserVectors(histories));
  return ScoreRows(users, config_.hidden, word_emb_.host(), out_bias_.data(), config_.num_items,
                   candidates);
}

}  // namespace recsys::models
