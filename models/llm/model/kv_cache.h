// The keys and values of the positions a model has run, per layer ([capacity, kv_heads,
// head_dim], post-rope keys), in the model's device memory. A prefix is run once into a cache;
// Clone copies it so that several different tails can each run on their own copy (ICR's
// second pass; SETRec's candidate sets).
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "recsys/kernels/context.h"
#include "recsys/kernels/memory.h"

namespace recsys::llm {

class KvCache {
 public:
  // RESOURCE_EXHAUSTED when the device cannot hold it.
  static absl::StatusOr<KvCache> Create(const kernels::Device& device, int64_t layers,
                                        int64_t kv_heads, int64_t head_dim, int64_t capacity);

  // A new cache of `capacity` (>= length()) holding this one's positions.
  absl::StatusOr<KvCache> Clone(int64_t capacity) const;

  int64_t length() const { return length_; }
  int64_t capacity() const { return capacity_; }
  int64_t row_floats() const { return row_floats_; }  // kv_heads * head_dim
  float* keys(int64_t layer) const { return keys_[layer].as<float>(); }
  float* values(int64_t layer) const { return values_[layer].as<float>(); }
  int64_t bytes() const { return 2 * layers() * capacity_ * row_floats_ * 4; }
  int64_t layers() const { return static_cast<int64_t>(keys_.size()); }

  // The forward pass appends; Truncate drops positions from the end (n <= length()).
  void set_length(int64_t n) { length_ = n; }
  void Truncate(int64_t n) { length_ = n < 0 ? 0 : (n < length_ ? n : length_); }

 private:
  kernels::Device device_;
  int64_t capacity_ = 0, row_floats_ = 0, length_ = 0;
  std::vector<kernels::DeviceBuffer> keys_, values_;
};

}  // namespace recsys::llm
