#include "models/llm/model/kv_cache.h"

#include <limits>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace recsys::llm {

absl::StatusOr<KvCache> KvCache::Create(const kernels::Device& device, int64_t layers,
                                        int64_t kv_heads, int64_t head_dim, int64_t capacity) {
  if (layers <= 0 || kv_heads <= 0 || head_dim <= 0 || capacity <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("KV cache of ", layers, " layers, ", kv_heads,
                                                   " heads of ", head_dim, ", ", capacity,
                                                   " positions"));
  }
  // Positions x heads x dims x 4 bytes x 2 (keys, values) x layers must fit an int64.
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max() / 8;
  if (kv_heads > kMax / head_dim || capacity > kMax / (kv_heads * head_dim) / layers) {
    return absl::ResourceExhaustedError(
        absl::StrCat("a KV cache of ", capacity, " positions is too large"));
  }
  KvCache c;
  c.device_ = device;
  c.capacity_ = capacity;
  c.row_floats_ = kv_heads * head_dim;
  const int64_t bytes = capacity * c.row_floats_ * static_cast<int64_t>(sizeof(float));
  for (int64_t l = 0; l < layers; ++l) {
    RECSYS_ASSIGN_OR_RETURN(kernels::DeviceBuffer k,
                            kernels::DeviceBuffer::Allocate(device, bytes));
    RECSYS_ASSIGN_OR_RETURN(kernels::DeviceBuffer v,
                            kernels::DeviceBuffer::Allocate(device, bytes));
    c.keys_.push_back(std::move(k));
    c.values_.push_back(std::move(v));
  }
  return c;
}

absl::StatusOr<KvCache> KvCache::Clone(int64_t capacity) const {
  if (capacity < length_) {
    return absl::InvalidArgumentError(
        absl::StrCat("a clone of ", capacity, " positions cannot hold the ", length_, " cached"));
  }
  RECSYS_ASSIGN_OR_RETURN(KvCache c, Create(device_, layers(), 1, row_floats_, capacity));
  const int64_t bytes = length_ * row_floats_ * static_cast<int64_t>(sizeof(float));
  for (int64_t l = 0; l < layers(); ++l) {
    RECSYS_RETURN_IF_ERROR(kernels::CopyOnDevice(device_, c.keys(l), keys(l), bytes));
    RECSYS_RETURN_IF_ERROR(kernels::CopyOnDevice(device_, c.values(l), values(l), bytes));
  }
  c.length_ = length_;
  return c;
}

}  // namespace recsys::llm
