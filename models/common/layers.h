// The building blocks the model families share: torch.nn.Linear and LayerNorm on the kernel
// library, row masking, elementwise adds, and reading named tensors out of a TensorFile.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "models/common/safetensors.h"
#include "recsys/kernels/attention.h"
#include "recsys/kernels/context.h"

namespace recsys::models {

// y[rows, out] = x[rows, in] W^T + b, with W stored [out, in] as torch.nn.Linear keeps it.
absl::Status Linear(const kernels::Device& device, const std::vector<float>& x, int64_t rows,
                    int64_t in, const std::vector<float>& w, const std::vector<float>& b,
                    int64_t out, std::vector<float>& y);

// y = LayerNorm(x) over rows of `cols`, with weight w and bias b.
absl::Status Norm(const kernels::Device& device, const std::vector<float>& x, int64_t rows,
                  int64_t cols, const std::vector<float>& w, const std::vector<float>& b,
                  float eps, std::vector<float>& y);

// Multi-head self-attention of q [batch, q_len, heads * head_dim] over k, v [batch, len, ...]
// (as the Linear layers produce them) with the key-padding mask `valid` [batch * len]; out
// [batch, q_len, hidden] is resized. q_len < len: the queries of a subset of the positions
// (one per sequence in the last block, where only one position's output is read).
absl::Status SelfAttention(const kernels::Device& device, const std::vector<float>& q,
                           const std::vector<float>& k, const std::vector<float>& v,
                           int64_t batch, int64_t q_len, int64_t len, int64_t heads,
                           int64_t hidden, kernels::AttentionMask mask,
                           const std::vector<uint8_t>& valid, std::vector<float>& out);

// The rows `rows` of x (cols wide), in that order.
template <typename T>
std::vector<T> GatherRows(const std::vector<T>& x, int64_t cols, const std::vector<int64_t>& rows) {
  std::vector<T> out(rows.size() * static_cast<size_t>(cols));
  for (size_t i = 0; i < rows.size(); ++i) {
    std::copy_n(x.begin() + rows[i] * cols, cols, out.begin() + static_cast<int64_t>(i) * cols);
  }
  return out;
}

// Zeroes the rows r of x (cols wide) whose valid[r] is 0.
void MaskRows(std::vector<float>& x, const std::vector<uint8_t>& valid, int64_t cols);

// x += y, elementwise.
void Add(std::vector<float>& x, const std::vector<float>& y);

// users[b] . table[candidates[b][c]] (+ bias[row] when bias is set) for every candidate c of
// every user b, concatenated user by user; candidate rows must be in 1..num_items
// (INVALID_ARGUMENT naming "candidates[b][c]"), and candidates must hold one list per user.
absl::StatusOr<std::vector<float>> ScoreRows(const std::vector<float>& users, int64_t dim,
                                             const std::vector<float>& table, const float* bias,
                                             int64_t num_items,
                                             absl::Span<const std::vector<int64_t>> candidates);

// Copies tensors of an exact shape out of a file; errors name the tensor.
class Loader {
 public:
  explicit Loader(const TensorFile& file) : file_(file) {}
  absl::Status Take(const std::string& name, const std::vector<int64_t>& shape,
                    std::vector<float>* out);
  // name.weight [out, in] (or [cols] for a norm, in == 0) and name.bias [out].
  absl::Status TakeLinear(const std::string& name, int64_t out, int64_t in,
                          std::vector<float>* weight, std::vector<float>* bias);

 private:
  const TensorFile& file_;
};

}  // namespace recsys::models
