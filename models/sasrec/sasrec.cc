#include "models/sasrec/sasrec.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "models/common/layers.h"
#include "models/common/model_config.h"
#include "models/common/safetensors.h"
#include "recsys/kernels/elementwise.h"
#include "recsys/kernels/gemm.h"
#include "services/common/status_macros.h"

namespace recsys::models {

absl::StatusOr<std::unique_ptr<SasRec>> SasRec::Load(const std::string& directory) {
  RECSYS_ASSIGN_OR_RETURN(ModelConfig config, ModelConfig::ReadOf(directory, "sasrec"));
  auto model = std::unique_ptr<SasRec>(new SasRec());
  SasRecConfig& c = model->config_;
  RECSYS_ASSIGN_OR_RETURN(c.num_items, config.Int("num_items"));
  RECSYS_ASSIGN_OR_RETURN(c.max_len, config.Int("max_len"));
  RECSYS_ASSIGN_OR_RETURN(c.hidden, config.Int("hidden"));
  RECSYS_ASSIGN_OR_RETURN(c.blocks, config.Int("blocks"));
  RECSYS_ASSIGN_OR_RETURN(c.heads, config.Int("heads"));
  RECSYS_ASSIGN_OR_RETURN(c.layout, config.String("layout"));
  RECSYS_ASSIGN_OR_RETURN(double eps, config.Number("layer_norm_eps"));
  c.eps = static_cast<float>(eps);
  RECSYS_ASSIGN_OR_RETURN(c.item_ids, config.IntList("item_ids"));
  if (c.num_items < 1 || c.max_len < 1 || c.hidden < 1 || c.blocks < 0 || c.heads < 1 ||
      c.hidden % c.heads != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(config.path(), ": bad dimensions (num_items, max_len, hidden, blocks, heads)"));
  }
  if (c.layout != "original" && c.layout != "pre_ln" && c.layout != "post_ln") {
    return absl::InvalidArgumentError(absl::StrCat(config.path(), ": unknown layout ", c.layout));
  }
  if (static_cast<int64_t>(c.item_ids.size()) != c.num_items + 1) {
    return absl::InvalidArgumentError(absl::StrCat(config.path(), ": item_ids has ",
                                                   c.item_ids.size(), " entries, expected ",
                                                   c.num_items + 1));
  }
  RECSYS_ASSIGN_OR_RETURN(TensorFile file, TensorFile::Read(directory + "/model.safetensors"));
  Loader load(file);
  const int64_t d = c.hidden;
  RECSYS_RETURN_IF_ERROR(load.Take("item_emb.weight", {c.num_items + 1, d}, &model->item_emb_));
  RECSYS_RETURN_IF_ERROR(load.Take("pos_emb.weight", {c.max_len, d}, &model->pos_emb_));
  RECSYS_RETURN_IF_ERROR(load.TakeLinear("final_ln", d, 0, &model->final_ln_w_, &model->final_ln_b_));
  model->blocks_.resize(static_cast<size_t>(c.blocks));
  for (int64_t i = 0; i < c.blocks; ++i) {
    Block& b = model->blocks_[i];
    const std::string at = absl::StrCat("blocks.", i, ".");
    RECSYS_RETURN_IF_ERROR(load.TakeLinear(at + "attn_ln", d, 0, &b.attn_ln_w, &b.attn_ln_b));
    RECSYS_RETURN_IF_ERROR(load.TakeLinear(at + "q", d, d, &b.q_w, &b.q_b));
    RECSYS_RETURN_IF_ERROR(load.TakeLinear(at + "k", d, d, &b.k_w, &b.k_b));
    RECSYS_RETURN_IF_ERROR(load.TakeLinear(at + "v", d, d, &b.v_w, &b.v_b));
    RECSYS_RETURN_IF_ERROR(load.TakeLinear(at + "ffn_ln", d, 0, &b.ffn_ln_w, &b.ffn_ln_b));
    RECSYS_RETURN_IF_ERROR(load.TakeLinear(at + "ffn1", d, d, &b.ffn1_w, &b.ffn1_b));
    RECSYS_RETURN_IF_ERROR(load.TakeLinear(at + "ffn2", d, d, &b.ffn2_w, &b.ffn2_b));
  }
  return model;
}

absl::Status SasRec::RunBlock(const Block& b, int64_t batch, const std::vector<uint8_t>& valid,
                              const std::vector<int64_t>* query_rows,
                              std::vector<float>& x) const {
  const int64_t d = config_.hidden, len = config_.max_len, rows = batch * len;
  // Keys and values always span every position; queries (and everything after attention)
  // only the query rows when given: one per sequence, rows [batch, d] on return.
  const bool all = query_rows == nullptr;
  const int64_t q_rows = all ? rows : batch;
  const std::vector<uint8_t> q_valid = all ? valid : GatherRows(valid, 1, *query_rows);
  std::vector<float> normed_all, normed, xq, q, k, v, attn, f, h1, h2;
  // Which input the queries and the keys/values come from, per layout.
  const bool original = config_.layout == "original", pre = config_.layout == "pre_ln";
  if (pre) RECSYS_RETURN_IF_ERROR(Norm(device_, x, rows, d, b.attn_ln_w, b.attn_ln_b,
                                       config_.eps, normed_all));
  const std::vector<float>& kv_in = pre ? normed_all : x;
  RECSYS_RETURN_IF_ERROR(Linear(device_, kv_in, rows, d, b.k_w, b.k_b, d, k));
  RECSYS_RETURN_IF_ERROR(Linear(device_, kv_in, rows, d, b.v_w, b.v_b, d, v));
  xq = all ? std::move(x) : GatherRows(x, d, *query_rows);
  if (original) {
    RECSYS_RETURN_IF_ERROR(Norm(device_, xq, q_rows, d, b.attn_ln_w, b.attn_ln_b, config_.eps,
                                normed));
  } else if (pre) {
    normed = all ? std::move(normed_all) : GatherRows(normed_all, d, *query_rows);
  }
  RECSYS_RETURN_IF_ERROR(
      Linear(device_, (original || pre) ? normed : xq, q_rows, d, b.q_w, b.q_b, d, q));
  // One query per sequence sees every key, as the last position does under the causal mask.
  RECSYS_RETURN_IF_ERROR(SelfAttention(
      device_, q, k, v, batch, all ? len : 1, len, config_.heads, d,
      all ? kernels::AttentionMask::kCausal : kernels::AttentionMask::kBidirectional, valid,
      attn));
  MaskRows(attn, q_valid, d);  // the query mask
  auto ffn = [&](const std::vector<float>& in, std::vector<float>& out) -> absl::Status {
    RECSYS_RETURN_IF_ERROR(Linear(device_, in, q_rows, d, b.ffn1_w, b.ffn1_b, d, h1));
    RECSYS_RETURN_IF_ERROR(
        kernels::Activate(device_, kernels::Activation::kRelu, h1.data(), h1.data(), q_rows * d));
    return Linear(device_, h1, q_rows, d, b.ffn2_w, b.ffn2_b, d, out);
  };
  if (original) {  // x = attn + LN(x); f = LN(x); x = FFN(f) + f
    Add(attn, normed);
    RECSYS_RETURN_IF_ERROR(Norm(device_, attn, q_rows, d, b.ffn_ln_w, b.ffn_ln_b, config_.eps, f));
    RECSYS_RETURN_IF_ERROR(ffn(f, h2));
    Add(h2, f);
    x = std::move(h2);
  } else if (pre) {  // x += attn; x += FFN(LN(x))
    Add(xq, attn);
    RECSYS_RETURN_IF_ERROR(Norm(device_, xq, q_rows, d, b.ffn_ln_w, b.ffn_ln_b, config_.eps, f));
    RECSYS_RETURN_IF_ERROR(ffn(f, h2));
    Add(xq, h2);
    x = std::move(xq);
  } else {  // x = LN(x + attn); x = LN(x + FFN(x))
    Add(attn, xq);
    RECSYS_RETURN_IF_ERROR(Norm(device_, attn, q_rows, d, b.attn_ln_w, b.attn_ln_b, config_.eps, xq));
    RECSYS_RETURN_IF_ERROR(ffn(xq, h2));
    Add(h2, xq);
    RECSYS_RETURN_IF_ERROR(Norm(device_, h2, q_rows, d, b.ffn_ln_w, b.ffn_ln_b, config_.eps, x));
  }
  MaskRows(x, q_valid, d);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<float>> SasRec::UserVectors(
    absl::Span<const std::vector<int64_t>> histories) const {
  const int64_t batch = static_cast<int64_t>(histories.size());
  const int64_t len = config_.max_len, d = config_.hidden;
  std::vector<uint8_t> valid(static_cast<size_t>(batch * len), 0);
  std::vector<float> x(static_cast<size_t>(batch * len * d), 0.0f);
  const float scale = std::sqrt(static_cast<float>(d));
  for (int64_t b = 0; b < batch; ++b) {
    const std::vector<int64_t>& h = histories[b];
    const int64_t used = std::min<int64_t>(len, static_cast<int64_t>(h.size()));
    for (int64_t j = 0; j < used; ++j) {
      const int64_t item = h[h.size() - used + j];
      if (item < 1 || item > config_.num_items) {
        return absl::InvalidArgumentError(
            absl::StrCat("histories[", b, "][", h.size() - used + j, "]: item ", item,
                         " is outside 1..", config_.num_items));
      }
      const int64_t pos = len - used + j;  // left padding: the most recent item is last
      valid[b * len + pos] = 1;
      float* row = x.data() + (b * len + pos) * d;
      const float* e = item_emb_.data() + item * d;
      const float* p = pos_emb_.data() + pos * d;
      for (int64_t i = 0; i < d; ++i) row[i] = e[i] * scale + p[i];
    }
  }
  // Only the last position is read: the last block computes its queries alone.
  std::vector<int64_t> last_rows(static_cast<size_t>(batch));
  for (int64_t b = 0; b < batch; ++b) last_rows[b] = b * len + len - 1;
  for (size_t i = 0; i < blocks_.size(); ++i) {
    const bool last = i + 1 == blocks_.size();
    RECSYS_RETURN_IF_ERROR(RunBlock(blocks_[i], batch, valid, last ? &last_rows : nullptr, x));
  }
  if (blocks_.empty()) x = GatherRows(x, d, last_rows);
  std::vector<float> out;
  RECSYS_RETURN_IF_ERROR(Norm(device_, x, batch, d, final_ln_w_, final_ln_b_, config_.eps, out));
  return out;
}

absl::StatusOr<std::vector<float>> SasRec::Score(
    absl::Span<const std::vector<int64_t>> histories,
    absl::Span<const std::vector<int64_t>> candidates) const {
  if (candidates.size() != histories.size()) {
    return absl::InvalidArgumentError(absl::StrCat("candidates: ", candidates.size(),
                                                   " lists for ", histories.size(), " users"));
  }
  RECSYS_ASSIGN_OR_RETURN(std::vector<float> users, UserVectors(histories));
  return ScoreRows(users, config_.hidden, item_emb_, nullptr, config_.num_items, candidates);
}

}  // namespace recsys::models
