// The building blocks the model families share: torch.nn.Linear, LayerNorm and self-attention
// on the kernel library, row gathers, candidate scoring, and reading named tensors out of a
// TensorFile.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "models/common/device_tensor.h"
#include "models/common/safetensors.h"
#include "recsys/kernels/attention.h"
#include "recsys/kernels/context.h"

namespace recsys::models {

// y[rows, out] = x[rows, in] W^T + b, with W stored [out, in] as torch.nn.Linear keeps it;
// b may be null (no bias).
// The pointer forms take device memory (host memory for the CPU device) and never resize.
absl::Status Linear(const kernels::Device& device, const float* x, int64_t rows, int64_t in,
                    const float* w, const float* b, int64_t out, float* y);
absl::Status Linear(const kernels::Device& device, const std::vector<float>& x, int64_t rows,
                    int64_t in, const std::vector<float>& w, const std::vector<float>& b,
                    int64_t out, std::vector<float>& y);

// y = LayerNorm(x) over rows of `cols`, with weight w and bias b (y may be x).
absl::Status Norm(const kernels::Device& device, const float* x, int64_t rows, int64_t cols,
                  const float* w, const float* b, float eps, float* y);

// Multi-head self-attention of q [batch, q_len, heads * head_dim] over k, v [batch, len, ...]
// (as the Linear layers produce them) with the key-padding mask `valid` [batch * len]; out is
// [batch, q_len, hidden]. q_len < len: the queries of a subset of the positions (one per
// sequence in the last block, where only one position's output is read). Device memory.
absl::Status SelfAttention(const kernels::Device& device, const float* q, const float* k,
                           const float* v, int64_t batch, int64_t q_len, int64_t len,
                           int64_t heads, int64_t hidden, kernels::AttentionMask mask,
                           const uint8_t* valid, float* out);

// out[i] = table[ids[i]] * scale + pos[positions[i]] for n tokens of cols floats: the token
// plus position embedding both sequence models start from. ids and positions in device memory.
absl::Status EmbedTokens(const kernels::Device& device, const Weights& table, int64_t table_rows,
                         const int64_t* ids, float scale, const Weights& pos, int64_t pos_rows,
                         const int64_t* positions, int64_t n, int64_t cols, float* out);

// Rows rows[0..n) of x [x_rows, cols], in that order, into out [n, cols]; device memory.
absl::Status GatherRowsOf(const kernels::Device& device, const float* x, int64_t x_rows,
                          int64_t cols, const int64_t* rows, int64_t n, float* out);

// users[b] . table[candidates[b][c]] (+ bias[row] when bias is set) for every candidate c of
// every user b, concatenated user by user; candidate rows must be in 1..num_items
// (INVALID_ARGUMENT naming "candidates[b][c]"), and candidates must hold one list per user.
absl::StatusOr<std::vector<float>> ScoreRows(const std::vector<float>& users, int64_t dim,
                                             const std::vector<float>& table, const float* bias,
                                             int64_t num_items,
                                             absl::Span<const std::vector<int64_t>> candidates);

// Copies tensors of an exact shape out of a file; errors name the tensor.
// The Weights forms place them on the loader's device.
class Loader {
 public:
  explicit Loader(const TensorFile& file, const kernels::Device& device = kernels::Device::Cpu())
      : file_(file), device_(device) {}
  absl::Status Take(const std::string& name, const std::vector<int64_t>& shape,
                    std::vector<float>* out);
  absl::Status Take(const std::string& name, const std::vector<int64_t>& shape, Weights* out);
  // name.weight [out, in] (or [cols] for a norm, in == 0) and name.bias [out], into host
  // vectors or Weights.
  template <typename T>
  absl::Status TakeLinear(const std::string& name, int64_t out, int64_t in, T* weight, T* bias) {
    const std::vector<int64_t> shape = in == 0 ? std::vector<int64_t>{out}
                                               : std::vector<int64_t>{out, in};
    absl::Status s = Take(name + ".weight", shape, weight);
    if (!s.ok()) return s;
    return Take(name + ".bias", {out}, bias);
  }

 private:
  const TensorFile& file_;
  kernels::Device device_;
};

}  // namespace recsys::models
