// The K best scores of a stream, kept lazily: shared by the catalogue top-K and the target
// attention's top-K search, so both rank the same way (higher score first, ties to the lower
// row, NaN as -inf).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace recsys::kernels::internal {

struct Candidate {
  float score;
  int64_t row;
};

// Result order: higher score first, ties to the lower row (a strict weak order). A lambda, so
// the sorting algorithms inline it.
inline constexpr auto Better = [](const Candidate& a, const Candidate& b) {
  return a.score > b.score || (a.score == b.score && a.row < b.row);
};

// The best `capacity` candidates seen (by one thread, for one user or one candidate), kept
// lazily: whatever can still make the cut is appended, and when the buffer reaches about twice the capacity it is
// cut back with nth_element and the bar rises to the worst survivor. Amortised O(1) per
// candidate, and correct for rows in any order.
class RunningTopK {
 public:
  void Reset(size_t capacity) {
    capacity_ = capacity;
    limit_ = 2 * capacity + 16;
    threshold_ = -std::numeric_limits<float>::infinity();
    kept_.clear();
    kept_.reserve(limit_);
  }

  // Offers scores s[j] + bias[j] as item rows j0 + j for j in [from, to). Most scores fall
  // below the bar once it has risen, so groups of them are tested at once with SIMD first.
  void Scan(const float* s, const float* bias, int64_t j0, int64_t from, int64_t to) {
    constexpr int64_t kGroup = 16;
    float threshold = threshold_;  // a local, so the loops keep it in a register
    int64_t j = from;
    for (; j + kGroup <= to; j += kGroup) {
      int hit = 0;
#pragma omp simd reduction(| : hit)
      for (int64_t i = j; i < j + kGroup; ++i) hit |= !(s[i] + bias[i] < threshold);  // or NaN
      if (hit) threshold = Offer(s, bias, j0, j, j + kGroup, threshold);
    }
    Offer(s, bias, j0, j, to, threshold);
  }

  // Offers rows [j0, j0 + nb), skipping the sorted `excluded` rows; s and bias point at row j0.
  void Merge(const float* s, const float* bias, int64_t j0, int64_t nb,
             const std::vector<int64_t>& excluded) {
    auto next = std::lower_bound(excluded.begin(), excluded.end(), j0);
    int64_t j = 0;
    while (j < nb) {
      const int64_t stop = (next != excluded.end() && *next < j0 + nb) ? *next - j0 : nb;
      Scan(s, bias, j0, j, stop);
      if (stop == nb) break;
      j = stop + 1;
      ++next;
    }
  }

  // Unordered; a superset of this thread's top `capacity`.
  const std::vector<Candidate>& candidates() const { return kept_; }

 private:
  // Scan's scalar path; returns the bar, raised when the buffer was cut.
  float Offer(const float* s, const float* bias, int64_t j0, int64_t from, int64_t to,
              float threshold) {
    for (int64_t j = from; j < to; ++j) {
      float v = s[j] + bias[j];
      if (!(v >= threshold)) {
        if (!std::isnan(v) || threshold != -std::numeric_limits<float>::infinity()) continue;
        v = -std::numeric_limits<float>::infinity();  // NaN ranks as -inf
      }
      kept_.push_back({v, j0 + j});
      if (kept_.size() == limit_) threshold = Cut();
    }
    return threshold;
  }

  // Keeps the best `capacity_` candidates and returns the new bar.
  float Cut() {
    std::nth_element(kept_.begin(), kept_.begin() + (capacity_ - 1), kept_.end(), Better);
    kept_.resize(capacity_);
    threshold_ = kept_.back().score;
    return threshold_;
  }

  size_t capacity_ = 0, limit_ = 0;
  float threshold_ = -std::numeric_limits<float>::infinity();
  std::vector<Candidate> kept_;
};

}  // namespace recsys::kernels::internal
