#include "models/common/layers.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "recsys/kernels/elementwise.h"
#include "recsys/kernels/gemm.h"
#include "recsys/kernels/rows.h"

namespace recsys::models {

absl::Status Linear(const kernels::Device& device, const float* x, int64_t rows, int64_t in,
                    const float* w, const float* b, int64_t out, float* y) {
  kernels::GemmParams p;
  p.m = rows;
  p.n = out;
  p.k = in;
  p.a = x;
  p.b = w;
  p.transpose_b = true;
  p.c = y;
  RECSYS_RETURN_IF_ERROR(kernels::Gemm(device, p));
  return b == nullptr ? absl::OkStatus() : kernels::AddBias(device, y, b, rows, out);
}

absl::Status Linear(const kernels::Device& device, const std::vector<float>& x, int64_t rows,
                    int64_t in, const std::vector<float>& w, const std::vector<float>& b,
                    int64_t out, std::vector<float>& y) {
  y.resize(static_cast<size_t>(rows * out));
  return Linear(device, x.data(), rows, in, w.data(), b.data(), out, y.data());
}

absl::Status Norm(const kernels::Device& device, const float* x, int64_t rows, int64_t cols,
                  const float* w, const float* b, float eps, float* y) {
  kernels::LayerNormParams p;
  p.x = x;
  p.gamma = w;
  p.beta = b;
  p.y = y;
  p.rows = rows;
  p.cols = cols;
  p.eps = eps;
  return kernels::LayerNorm(device, p);
}

absl::Status SelfAttention(const kernels::Device& device, const float* q, const float* k,
                           const float* v, int64_t batch, int64_t q_len, int64_t len,
                           int64_t heads, int64_t hidden, kernels::AttentionMask mask,
                           const uint8_t* valid, float* out) {
  kernels::AttentionParams p;
  p.q = q;
  p.k = k;
  p.v = v;
  p.out = out;
  p.batch = batch;
  p.q_len = q_len;
  p.kv_len = len;
  p.num_heads = p.num_kv_heads = heads;
  p.head_dim = hidden / heads;
  p.mask = mask;
  p.key_valid = valid;
  return kernels::Attention(device, p);
}

absl::Status EmbedTokens(const kernels::Device& device, const Weights& table, int64_t table_rows,
                         const int64_t* ids, float scale, const Weights& pos, int64_t pos_rows,
                         const int64_t* positions, int64_t n, int64_t cols, float* out) {
  kernels::GatherRowsParams p;
  p.table = table.data();
  p.table_rows = table_rows;
  p.ids = ids;
  p.scale = scale;
  p.add = pos.data();
  p.add_rows = pos_rows;
  p.add_ids = positions;
  p.out = out;
  p.n = n;
  p.cols = cols;
  return kernels::GatherRows(device, p);
}

absl::Status GatherRowsOf(const kernels::Device& device, const float* x, int64_t x_rows,
                          int64_t cols, const int64_t* rows, int64_t n, float* out) {
  kernels::GatherRowsParams p;
  p.table = x;
  p.table_rows = x_rows;
  p.ids = rows;
  p.n = n;
  p.cols = cols;
  p.out = out;
  return kernels::GatherRows(device, p);
}

namespace {

// a . b in float with eight independent partial sums: the compiler keeps them in one vector
// register (a single running sum is a serial chain it may not reorder).
float Dot(const float* a, const float* b, int64_t n) {
  float part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int j = 0; j < 8; ++j) part[j] += a[i + j] * b[i + j];
  }
  float sum = ((part[0] + part[4]) + (part[1] + part[5])) + ((part[2] + part[6]) + (part[3] + part[7]));
  for (; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

}  // namespace

absl::StatusOr<std::vector<float>> ScoreRows(const std::vector<float>& users, int64_t dim,
                                             const std::vector<float>& table, const float* bias,
                                             int64_t num_items,
                                             absl::Span<const std::vector<int64_t>> candidates) {
  if (static_cast<int64_t>(candidates.size()) * dim != static_cast<int64_t>(users.size())) {
    return absl::InvalidArgumentError(absl::StrCat("candidates: ", candidates.size(),
                                                   " lists for ", users.size() / dim, " users"));
  }
  std::vector<float> scores;
  size_t total = 0;
  for (const auto& list : candidates) total += list.size();
  scores.reserve(total);
  for (size_t b = 0; b < candidates.size(); ++b) {
    for (size_t c = 0; c < candidates[b].size(); ++c) {
      const int64_t row = candidates[b][c];
      if (row < 1 || row > num_items) {
        return absl::InvalidArgumentError(absl::StrCat("candidates[", b, "][", c, "]: item ", row,
                                                       " is outside 1..", num_items));
      }
      const float dot = Dot(users.data() + b * dim, table.data() + row * dim, dim);
      scores.push_back(bias != nullptr ? dot + bias[row] : dot);
    }
  }
  return scores;
}

absl::Status Loader::Take(const std::string& name, const std::vector<int64_t>& shape,
                          std::vector<float>* out) {
  absl::StatusOr<const Tensor*> t = file_.Get(name, shape);
  if (!t.ok()) return t.status();
  *out = (*t)->values;
  return absl::OkStatus();
}

absl::Status Loader::Take(const std::string& name, const std::vector<int64_t>& shape,
                          Weights* out) {
  std::vector<float> host;
  RECSYS_RETURN_IF_ERROR(Take(name, shape, &host));
  RECSYS_ASSIGN_OR_RETURN(*out, Weights::Place(device_, std::move(host)));
  return absl::OkStatus();
}

}  // namespace recsys::models
