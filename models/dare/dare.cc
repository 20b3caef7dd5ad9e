#include "models/dare/dare.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "models/common/layers.h"
#include "models/common/model_config.h"
#include "models/common/safetensors.h"
#include "recsys/kernels/target_attention.h"

namespace recsys::models {
namespace {

absl::Status CheckIds(const char* field, absl::Span<const int64_t> ids, int64_t lo, int64_t hi) {
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < lo || ids[i] > hi) {
      return absl::InvalidArgumentError(absl::StrCat(field, "[", i, "]: ", ids[i],
                                                     " is outside ", lo, "..", hi));
    }
  }
  return absl::OkStatus();
}

void PRelu(float a, std::vector<float>& x) {
  for (float& v : x) v = v > 0 ? v : a * v;
}

}  // namespace

void Dare::Tables::Tokens(absl::Span<const int64_t> items, absl::Span<const int64_t> cats,
                          bool history, float* out) const {
  // Item rows are scattered over a table of up to millions of rows: ask for them a few rows
  // ahead so the cache misses overlap instead of queueing one by one.
  // A long history is split over the OpenMP team: one core cannot keep enough misses in
  // flight.
  constexpr size_t kAhead = 8;
  const int64_t d = dim(), rows = static_cast<int64_t>(items.size());
#pragma omp parallel for schedule(static) if (rows > 4096)
  for (int64_t r = 0; r < rows; ++r) {
    if (static_cast<size_t>(r) + kAhead < items.size()) {
      const float* next = item.data() + items[r + kAhead] * d_item;
      __builtin_prefetch(next);
      __builtin_prefetch(next + d_item - 1);
    }
    float* row = out + r * d;
    const float* src = item.data() + items[r] * d_item;
    for (int64_t i = 0; i < d_item; ++i) row[i] = src[i];
    src = cat.data() + cats[r] * d_cat;
    for (int64_t i = 0; i < d_cat; ++i) row[d_item + i] = src[i];
    src = time.data() + (history ? rows - r : 0) * d_time;
    for (int64_t i = 0; i < d_time; ++i) row[d_item + d_cat + i] = src[i];
  }
}

void Dare::Tables::AddToken(int64_t item_id, int64_t cat_id, int64_t time_id, float weight,
                            float* out) const {
  const float* src = item.data() + item_id * d_item;
  for (int64_t i = 0; i < d_item; ++i) out[i] += weight * src[i];
  src = cat.data() + cat_id * d_cat;
  for (int64_t i = 0; i < d_cat; ++i) out[d_item + i] += weight * src[i];
  src = time.data() + time_id * d_time;
  for (int64_t i = 0; i < d_time; ++i) out[d_item + d_cat + i] += weight * src[i];
}

absl::StatusOr<std::unique_ptr<Dare>> Dare::Load(const std::string& directory) {
  RECSYS_ASSIGN_OR_RETURN(ModelConfig config, ModelConfig::ReadOf(directory, "dare"));
  auto model = std::unique_ptr<Dare>(new Dare());
  DareConfig& c = model->config_;
  RECSYS_ASSIGN_OR_RETURN(c.variant, config.String("variant"));
  for (auto [key, field] : {std::pair<const char*, int64_t*>{"num_items", &c.num_items},
                            {"num_categories", &c.num_categories},
                            {"max_len", &c.max_len},
                            {"top_k", &c.top_k},
                            {"d_item", &c.d_item},
                            {"d_cat", &c.d_cat},
                            {"d_time", &c.d_time},
                            {"att_item", &c.att_item},
                            {"att_cat", &c.att_cat},
                            {"att_time", &c.att_time}}) {
    RECSYS_ASSIGN_OR_RETURN(*field, config.Int(key));
    if (*field < 1) {
      return absl::InvalidArgumentError(absl::StrCat(config.path(), ": ", key, " must be >= 1"));
    }
  }
  RECSYS_ASSIGN_OR_RETURN(double eps, config.Number("batch_norm_eps"));
  c.bn_eps = static_cast<float>(eps);
  RECSYS_ASSIGN_OR_RETURN(c.item_ids, config.IntList("item_ids"));
  if (c.variant != "dare" && c.variant != "twin") {
    return absl::InvalidArgumentError(absl::StrCat(config.path(), ": unknown variant ", c.variant));
  }
  if (static_cast<int64_t>(c.item_ids.size()) != c.num_items + 1) {
    return absl::InvalidArgumentError(absl::StrCat(config.path(), ": item_ids has ",
                                                   c.item_ids.size(), " entries, expected ",
                                                   c.num_items + 1));
  }
  RECSYS_ASSIGN_OR_RETURN(TensorFile file, TensorFile::Read(directory + "/model.safetensors"));
  Loader load(file);
  auto tables = [&](const std::string& prefix, int64_t di, int64_t dc, int64_t dt,
                    Tables* t) -> absl::Status {
    t->d_item = di;
    t->d_cat = dc;
    t->d_time = dt;
    std::vector<float> item;
    RECSYS_RETURN_IF_ERROR(load.Take(prefix + ".item.weight", {c.num_items + 1, di}, &item));
    t->item.assign(item.begin(), item.end());
    RECSYS_RETURN_IF_ERROR(load.Take(prefix + ".cat.weight", {c.num_categories + 1, dc}, &t->cat));
    return load.Take(prefix + ".time.weight", {c.max_len + 1, dt}, &t->time);
  };
  RECSYS_RETURN_IF_ERROR(tables("repr", c.d_item, c.d_cat, c.d_time, &model->repr_));
  if (c.variant == "dare") {
    RECSYS_RETURN_IF_ERROR(tables("att", c.att_item, c.att_cat, c.att_time, &model->att_));
  }
  const int64_t f = 3 * c.repr_dim();
  std::vector<float> bn_w, bn_b, mean, var;
  RECSYS_RETURN_IF_ERROR(load.TakeLinear("mlp.0", f, 0, &bn_w, &bn_b));
  RECSYS_RETURN_IF_ERROR(load.Take("mlp.0.running_mean", {f}, &mean));
  RECSYS_RETURN_IF_ERROR(load.Take("mlp.0.running_var", {f}, &var));
  // Eval-mode BatchNorm is one affine map: y = x * scale + shift.
  model->bn_scale_.resize(static_cast<size_t>(f));
  model->bn_shift_.resize(static_cast<size_t>(f));
  for (int64_t i = 0; i < f; ++i) {
    model->bn_scale_[i] = bn_w[i] / std::sqrt(var[i] + c.bn_eps);
    model->bn_shift_[i] = bn_b[i] - mean[i] * model->bn_scale_[i];
  }
  RECSYS_RETURN_IF_ERROR(load.TakeLinear("mlp.1", 200, f, &model->fc1_w_, &model->fc1_b_));
  RECSYS_RETURN_IF_ERROR(load.TakeLinear("mlp.3", 80, 200, &model->fc2_w_, &model->fc2_b_));
  RECSYS_RETURN_IF_ERROR(load.TakeLinear("mlp.5", 2, 80, &model->fc3_w_, &model->fc3_b_));
  std::vector<float> a;
  RECSYS_RETURN_IF_ERROR(load.Take("mlp.2.weight", {1}, &a));
  model->prelu1_ = a[0];
  RECSYS_RETURN_IF_ERROR(load.Take("mlp.4.weight", {1}, &a));
  model->prelu2_ = a[0];
  return model;
}

absl::StatusOr<DareScores> Dare::Search(absl::Span<const int64_t> history_items,
                                        absl::Span<const int64_t> history_categories,
                                        absl::Span<const int64_t> candidate_items,
                                        absl::Span<const int64_t> candidate_categories,
                                        int64_t top_k) const {
  const DareConfig& c = config_;
  if (top_k < 0) return absl::InvalidArgumentError("top_k must be >= 0 (0 = the model's)");
  if (history_items.size() != history_categories.size() ||
      candidate_items.size() != candidate_categories.size()) {
    return absl::InvalidArgumentError("items and categories must have one entry per behaviour "
                                      "and per candidate");
  }
  RECSYS_RETURN_IF_ERROR(CheckIds("history_items", history_items, 1, c.num_items));
  RECSYS_RETURN_IF_ERROR(CheckIds("history_categories", history_categories, 0, c.num_categories));
  RECSYS_RETURN_IF_ERROR(CheckIds("candidate_items", candidate_items, 1, c.num_items));
  RECSYS_RETURN_IF_ERROR(
      CheckIds("candidate_categories", candidate_categories, 0, c.num_categories));
  // The most recent max_len behaviours; positions reported back in the caller's indexing.
  const int64_t skipped = std::max<int64_t>(0, static_cast<int64_t>(history_items.size()) - c.max_len);
  const auto items = history_items.subspan(static_cast<size_t>(skipped));
  const auto cats = history_categories.subspan(static_cast<size_t>(skipped));
  const int64_t len = static_cast<int64_t>(items.size());
  const int64_t n = static_cast<int64_t>(candidate_items.size());
  // Uninitialised buffers: each is written whole before it is read.
  const Tables& att = attention();
  std::unique_ptr<float[]> keys(new float[static_cast<size_t>(len * att.dim())]);
  std::unique_ptr<float[]> queries(new float[static_cast<size_t>(n * att.dim())]);
  att.Tokens(items, cats, /*history=*/true, keys.get());
  att.Tokens(candidate_items, candidate_categories, /*history=*/false, queries.get());

  const int64_t k = top_k > 0 ? top_k : c.top_k;
  DareScores out;
  out.top_k = k;
  out.selected.resize(static_cast<size_t>(n * k));
  out.weights.resize(out.selected.size());
  kernels::TargetAttentionParams p;
  p.queries = queries.get();
  p.keys = keys.get();
  p.num_candidates = n;
  p.history_len = len;
  p.att_dim = c.att_dim();
  p.value_dim = 0;  // the search only: Score sums h from the K selected rows
  p.split_dim = c.att_item + c.att_cat;  // scales 0: 1/sqrt of each part's dims
  p.top_k = k;
  p.selected = out.selected.data();
  p.weights = out.weights.data();
  RECSYS_RETURN_IF_ERROR(kernels::TargetAttentionTopK(device_, p));
  for (int64_t& s : out.selected) s = s < 0 ? s : s + skipped;
  return out;
}

absl::StatusOr<DareScores> Dare::Score(absl::Span<const int64_t> history_items,
                                       absl::Span<const int64_t> history_categories,
                                       absl::Span<const int64_t> candidate_items,
                                       absl::Span<const int64_t> candidate_categories,
                                       int64_t top_k) const {
  RECSYS_ASSIGN_OR_RETURN(
      DareScores out,
      Search(history_items, history_categories, candidate_items, candidate_categories, top_k));
  const int64_t n = static_cast<int64_t>(candidate_items.size()), k = out.top_k;
  const int64_t dr = config_.repr_dim(), total = static_cast<int64_t>(history_items.size());
  std::unique_ptr<float[]> targets(new float[static_cast<size_t>(n * dr)]);
  repr_.Tokens(candidate_items, candidate_categories, /*history=*/false, targets.get());
  // h = sum over the selected behaviours of weight * representation token, best first: only
  // these K rows of the representation tables are read, never all L. Position s of the
  // caller's history has time id total - s (the most recent is 1).
  std::vector<float> h(static_cast<size_t>(n * dr), 0.0f);
  for (int64_t r = 0; r < n; ++r) {
    for (int64_t i = 0; i < k; ++i) {
      const int64_t s = out.selected[r * k + i];
      if (s < 0) continue;
      repr_.AddToken(history_items[s], history_categories[s], total - s,
                     out.weights[r * k + i], &h[r * dr]);
    }
  }
  RECSYS_ASSIGN_OR_RETURN(out.probabilities, Head(targets.get(), h.data(), n));
  return out;
}

absl::StatusOr<std::vector<float>> Dare::Head(const float* targets, const float* h, int64_t n) const {
  const DareConfig& c = config_;
  const int64_t dr = c.repr_dim();
  // [v_t, h, v_t * h], BatchNorm on running statistics, then the MLP.
  const int64_t f = 3 * dr;
  std::vector<float> x(static_cast<size_t>(n * f));
  for (int64_t r = 0; r < n; ++r) {
    const float* v = targets + r * dr;
    const float* hr = h + r * dr;
    float* row = x.data() + r * f;
    for (int64_t i = 0; i < dr; ++i) {
      row[i] = v[i];
      row[dr + i] = hr[i];
      row[2 * dr + i] = v[i] * hr[i];
    }
    for (int64_t i = 0; i < f; ++i) {
      row[i] = row[i] * bn_scale_[i] + bn_shift_[i];
    }
  }
  std::vector<float> a1, a2, logits;
  RECSYS_RETURN_IF_ERROR(Linear(device_, x, n, f, fc1_w_, fc1_b_, 200, a1));
  PRelu(prelu1_, a1);
  RECSYS_RETURN_IF_ERROR(Linear(device_, a1, n, 200, fc2_w_, fc2_b_, 80, a2));
  PRelu(prelu2_, a2);
  RECSYS_RETURN_IF_ERROR(Linear(device_, a2, n, 80, fc3_w_, fc3_b_, 2, logits));
  std::vector<float> probabilities(static_cast<size_t>(n));
  for (int64_t r = 0; r < n; ++r) {  // softmax over two classes, class 0 = click
    probabilities[r] = 1.0f / (1.0f + std::exp(logits[r * 2 + 1] - logits[r * 2]));
  }
  return probabilities;
}

}  // namespace recsys::models
