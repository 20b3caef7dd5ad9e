#include "models/sasrec/sasrec.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "models/common/layers.h"
#include "models/common/model_config.h"
#include "models/common/safetensors.h"
#include "recsys/kernels/elementwise.h"
#include "recsys/kernels/gemm.h"
#include "recsys/kernels/rows.h"

namespace recsys::models {

absl::StatusOr<std::unique_ptr<SasRec>> SasRec::Load(const std::string& directory,
                                                     const kernels::Device& device) {
  RECSYS_RETURN_IF_ERROR(kernels::CheckDevice(device));
  RECSYS_ASSIGN_OR_RETURN(ModelConfig config, ModelConfig::ReadOf(directory, "sasrec"));
  auto model = std::unique_ptr<SasRec>(new SasRec());
  model->device_ = device;
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
  Loader load(file, device);
  const int64_t d = c.hidden;
  std::vector<float> item_emb;  // kept on the host too: catalogue top-K reads it there
  RECSYS_RETURN_IF_ERROR(load.Take("item_emb.weight", {c.num_items + 1, d}, &item_emb));
  RECSYS_ASSIGN_OR_RETURN(model->item_emb_, Weights::Place(device, std::move(item_emb), true));
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

absl::StatusOr<float*> SasRec::RunBlock(const Block& b, const Inputs& in, bool last, float* x,
                                        Workspace& ws) const {
  const int64_t d = config_.hidden, len = config_.max_len, batch = in.batch, rows = batch * len;
  // Keys and values always span every position; in the last block the queries (and everything
  // after attention) are the last position's alone: one row per sequence.
  const int64_t q_rows = last ? batch : rows;
  const uint8_t* q_valid = last ? in.last_valid : in.valid;
  // Temporaries live in the block's own workspace, freed when it returns; only buffers that
  // can become the output (the queries' rows, h2) come from the call's.
  Workspace block_ws(device_);
  auto floats = [&](int64_t n) { return block_ws.Floats(n * d); };
  auto query_rows_of = [&](float* all, Workspace& from) -> absl::StatusOr<float*> {
    if (!last) return all;
    RECSYS_ASSIGN_OR_RETURN(float* out, from.Floats(batch * d));
    RECSYS_RETURN_IF_ERROR(GatherRowsOf(device_, all, rows, d, in.last_rows, batch, out));
    return out;
  };
  // Which input the queries and the keys/values come from, per layout.
  const bool original = config_.layout == "original", pre = config_.layout == "pre_ln";
  float* normed_all = nullptr;
  if (pre) {
    RECSYS_ASSIGN_OR_RETURN(normed_all, floats(rows));
    RECSYS_RETURN_IF_ERROR(Norm(device_, x, rows, d, b.attn_ln_w.data(), b.attn_ln_b.data(),
                                config_.eps, normed_all));
  }
  const float* kv_in = pre ? normed_all : x;
  RECSYS_ASSIGN_OR_RETURN(float* k, floats(rows));
  RECSYS_ASSIGN_OR_RETURN(float* v, floats(rows));
  RECSYS_RETURN_IF_ERROR(Linear(device_, kv_in, rows, d, b.k_w.data(), b.k_b.data(), d, k));
  RECSYS_RETURN_IF_ERROR(Linear(device_, kv_in, rows, d, b.v_w.data(), b.v_b.data(), d, v));
  RECSYS_ASSIGN_OR_RETURN(float* xq, query_rows_of(x, ws));
  float* normed = nullptr;
  if (original) {
    RECSYS_ASSIGN_OR_RETURN(normed, floats(q_rows));
    RECSYS_RETURN_IF_ERROR(Norm(device_, xq, q_rows, d, b.attn_ln_w.data(), b.attn_ln_b.data(),
                                config_.eps, normed));
  } else if (pre) {
    RECSYS_ASSIGN_OR_RETURN(normed, query_rows_of(normed_all, block_ws));
  }
  RECSYS_ASSIGN_OR_RETURN(float* q, floats(q_rows));
  RECSYS_RETURN_IF_ERROR(Linear(device_, (original || pre) ? normed : xq, q_rows, d,
                                b.q_w.data(), b.q_b.data(), d, q));
  // One query per sequence sees every key, as the last position does under the causal mask.
  RECSYS_ASSIGN_OR_RETURN(float* attn, floats(q_rows));
  RECSYS_RETURN_IF_ERROR(SelfAttention(
      device_, q, k, v, batch, last ? 1 : len, len, config_.heads, d,
      last ? kernels::AttentionMask::kBidirectional : kernels::AttentionMask::kCausal, in.valid,
      attn));
  RECSYS_RETURN_IF_ERROR(kernels::ZeroRows(device_, attn, q_valid, q_rows, d));  // query mask
  RECSYS_ASSIGN_OR_RETURN(float* h1, floats(q_rows));
  RECSYS_ASSIGN_OR_RETURN(float* h2, ws.Floats(q_rows * d));
  RECSYS_ASSIGN_OR_RETURN(float* f, floats(q_rows));
  const int64_t n = q_rows * d;
  auto ffn = [&](const float* input, float* out) -> absl::Status {
    RECSYS_RETURN_IF_ERROR(Linear(device_, input, q_rows, d, b.ffn1_w.data(), b.ffn1_b.data(), d, h1));
    RECSYS_RETURN_IF_ERROR(kernels::Activate(device_, kernels::Activation::kRelu, h1, h1, n));
    return Linear(device_, h1, q_rows, d, b.ffn2_w.data(), b.ffn2_b.data(), d, out);
  };
  float* out = nullptr;
  if (original) {  // x = attn + LN(x); f = LN(x); x = FFN(f) + f
    RECSYS_RETURN_IF_ERROR(kernels::AddInPlace(device_, attn, normed, n));
    RECSYS_RETURN_IF_ERROR(Norm(device_, attn, q_rows, d, b.ffn_ln_w.data(), b.ffn_ln_b.data(),
                                config_.eps, f));
    RECSYS_RETURN_IF_ERROR(ffn(f, h2));
    RECSYS_RETURN_IF_ERROR(kernels::AddInPlace(device_, h2, f, n));
    out = h2;
  } else if (pre) {  // x += attn; x += FFN(LN(x))
    RECSYS_RETURN_IF_ERROR(kernels::AddInPlace(device_, xq, attn, n));
    RECSYS_RETURN_IF_ERROR(Norm(device_, xq, q_rows, d, b.ffn_ln_w.data(), b.ffn_ln_b.data(),
                                config_.eps, f));
    RECSYS_RETURN_IF_ERROR(ffn(f, h2));
    RECSYS_RETURN_IF_ERROR(kernels::AddInPlace(device_, xq, h2, n));
    out = xq;
  } else {  // x = LN(x + attn); x = LN(x + FFN(x))
    RECSYS_RETURN_IF_ERROR(kernels::AddInPlace(device_, attn, xq, n));
    RECSYS_RETURN_IF_ERROR(Norm(device_, attn, q_rows, d, b.attn_ln_w.data(), b.attn_ln_b.data(),
                                config_.eps, f));
    RECSYS_RETURN_IF_ERROR(ffn(f, h2));
    RECSYS_RETURN_IF_ERROR(kernels::AddInPlace(device_, h2, f, n));
    RECSYS_RETURN_IF_ERROR(Norm(device_, h2, q_rows, d, b.ffn_ln_w.data(), b.ffn_ln_b.data(),
                                config_.eps, h2));
    out = h2;
  }
  RECSYS_RETURN_IF_ERROR(kernels::ZeroRows(device_, out, q_valid, q_rows, d));
  return out;
}

absl::StatusOr<std::vector<float>> SasRec::UserVectors(
    absl::Span<const std::vector<int64_t>> histories) const {
  const int64_t batch = static_cast<int64_t>(histories.size());
  const int64_t len = config_.max_len, d = config_.hidden, rows = batch * len;
  // Left padding: the most recent item is last; padded slots read row 0 and are zeroed.
  std::vector<uint8_t> valid(static_cast<size_t>(rows), 0), last_valid(batch);
  std::vector<int64_t> ids(static_cast<size_t>(rows), 0), positions(rows), last_rows(batch);
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
      const int64_t pos = len - used + j;
      valid[b * len + pos] = 1;
      ids[b * len + pos] = item;
    }
    for (int64_t pos = 0; pos < len; ++pos) positions[b * len + pos] = pos;
    last_rows[b] = b * len + len - 1;  // only the last position is read
    last_valid[b] = used > 0;
  }
  if (batch == 0) return std::vector<float>();
  Workspace ws(device_);
  Inputs in;
  in.batch = batch;
  RECSYS_ASSIGN_OR_RETURN(in.valid, ws.Upload(valid));
  RECSYS_ASSIGN_OR_RETURN(in.last_rows, ws.Upload(last_rows));
  RECSYS_ASSIGN_OR_RETURN(in.last_valid, ws.Upload(last_valid));
  RECSYS_ASSIGN_OR_RETURN(const int64_t* ids_d, ws.Upload(ids));
  RECSYS_ASSIGN_OR_RETURN(const int64_t* positions_d, ws.Upload(positions));
  RECSYS_ASSIGN_OR_RETURN(float* x, ws.Floats(rows * d));
  RECSYS_RETURN_IF_ERROR(EmbedTokens(device_, item_emb_, config_.num_items + 1, ids_d,
                                     std::sqrt(static_cast<float>(d)), pos_emb_, len,
                                     positions_d, rows, d, x));  // E * sqrt(d) + P
  RECSYS_RETURN_IF_ERROR(kernels::ZeroRows(device_, x, in.valid, rows, d));
  for (size_t i = 0; i < blocks_.size(); ++i) {
    RECSYS_ASSIGN_OR_RETURN(x, RunBlock(blocks_[i], in, i + 1 == blocks_.size(), x, ws));
  }
  if (blocks_.empty()) {
    RECSYS_ASSIGN_OR_RETURN(float* last, ws.Floats(batch * d));
    RECSYS_RETURN_IF_ERROR(GatherRowsOf(device_, x, rows, d, in.last_rows, batch, last));
    x = last;
  }
  RECSYS_ASSIGN_OR_RETURN(float* out, ws.Floats(batch * d));
  RECSYS_RETURN_IF_ERROR(Norm(device_, x, batch, d, final_ln_w_.data(), final_ln_b_.data(),
                              config_.eps, out));
  return Download(device_, out, batch * d);
}

absl::StatusOr<std::vector<float>> SasRec::Score(
    absl::Span<const std::vector<int64_t>> histories,
    absl::Span<const std::vector<int64_t>> candidates) const {
  if (candidates.size() != histories.size()) {
    return absl::InvalidArgumentError(absl::StrCat("candidates: ", candidates.size(),
                                                   " lists for ", histories.size(), " users"));
  }
  RECSYS_ASSIGN_OR_RETURN(std::vector<float> users, UserVectors(histories));
  return ScoreRows(users, config_.hidden, item_emb_.host(), nullptr, config_.num_items,
                   candidates);
}

}  // namespace recsys::models
