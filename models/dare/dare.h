// DARE / TWIN inference on the kernel library, loading a version exported by
// models/training/recsys_train (train_ctr.py; the math is dare.py's in eval mode): candidates
// of one user against the user's behaviour history.
//
//   keys / values  = attention / representation tokens [item; category; time] of the history,
//                    time id L - j for position j of an L-long history (the most recent is 1)
//   queries / v_t  = the same tokens of each candidate, time id 0
//   h              = the kernel's target-attention top-K (two-part scaled score, softmax over
//                    the K picked; a history shorter than K picks only real behaviours)
//   P(click)       = softmax(MLP(BatchNorm([v_t, h, v_t * h])))[0], BatchNorm on its running
//                    statistics
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "models/common/huge_pages.h"
#include "recsys/kernels/context.h"

namespace recsys::models {

struct DareConfig {
  std::string variant;  // "dare" (two table sets) or "twin" (one)
  int64_t num_items = 0, num_categories = 0, max_len = 0, top_k = 0;
  int64_t d_item = 0, d_cat = 0, d_time = 0;        // representation dims
  int64_t att_item = 0, att_cat = 0, att_time = 0;  // attention dims
  float bn_eps = 1e-5f;
  std::vector<int64_t> item_ids;  // catalogue id of internal item i (item_ids[0] = 0)

  int64_t att_dim() const { return att_item + att_cat + att_time; }
  int64_t repr_dim() const { return d_item + d_cat + d_time; }
};

struct DareScores {
  std::vector<float> probabilities;  // [candidates]
  int64_t top_k = 0;  // the K used
  // [candidates, top_k]: positions in the history as given (before any truncation), best
  // first, -1 where fewer than top_k behaviours exist; their softmax weights, 0 there.
  std::vector<int64_t> selected;
  std::vector<float> weights;
};

class Dare {
 public:
  // INVALID_ARGUMENT / NOT_FOUND / DATA_LOSS naming the file and the key or tensor at fault.
  static absl::StatusOr<std::unique_ptr<Dare>> Load(const std::string& directory);

  const DareConfig& config() const { return config_; }

  // Items are internal ids 1..num_items, categories 0..num_categories (history and
  // candidates alike; INVALID_ARGUMENT naming the field and index). Only the most recent
  // max_len behaviours are read. An empty history is allowed (h = 0). top_k: behaviours
  // retrieved per candidate, 0 = the model's.
  absl::StatusOr<DareScores> Score(absl::Span<const int64_t> history_items,
                                   absl::Span<const int64_t> history_categories,
                                   absl::Span<const int64_t> candidate_items,
                                   absl::Span<const int64_t> candidate_categories,
                                   int64_t top_k = 0) const;

  // The first stage alone: the same checks and the same selected positions and weights as
  // Score, without the aggregation and the MLP (probabilities stay empty).
  absl::StatusOr<DareScores> Search(absl::Span<const int64_t> history_items,
                                    absl::Span<const int64_t> history_categories,
                                    absl::Span<const int64_t> candidate_items,
                                    absl::Span<const int64_t> candidate_categories,
                                    int64_t top_k = 0) const;

 private:
  // P(click) of n candidates from their representation tokens and aggregated histories.
  absl::StatusOr<std::vector<float>> Head(const float* targets, const float* h, int64_t n) const;

  struct Tables {
    HugePageVector<float> item;  // gathered by id over the whole catalogue
    std::vector<float> cat, time;
    int64_t d_item = 0, d_cat = 0, d_time = 0;
    int64_t dim() const { return d_item + d_cat + d_time; }
    // rows x [item; cat; time] tokens into out (rows * dim() floats). The time index of row r
    // is rows - r for a history (most recent = 1) and 0 for candidates.
    void Tokens(absl::Span<const int64_t> items, absl::Span<const int64_t> cats, bool history,
                float* out) const;
    // out += weight * the token of one behaviour (item, cat, time index).
    void AddToken(int64_t item, int64_t cat, int64_t time, float weight, float* out) const;
  };

  DareConfig config_;
  kernels::Device device_ = kernels::Device::Cpu();
  const Tables& attention() const { return config_.variant == "twin" ? repr_ : att_; }

  Tables repr_, att_;  // att_ stays empty for TWIN
  std::vector<float> bn_scale_, bn_shift_;  // BatchNorm folded over its running statistics
  std::vector<float> fc1_w_, fc1_b_, fc2_w_, fc2_b_, fc3_w_, fc3_b_;
  float prelu1_ = 0, prelu2_ = 0;
};

}  // namespace recsys::models
