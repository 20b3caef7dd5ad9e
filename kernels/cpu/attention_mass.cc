// CPU attention mass: heads run in parallel; per head, key tiles of logits come from one small
// sgemm each; pass 1 keeps
// the running max and normaliser of every query row, pass 2 recomputes the tiles and adds
// each probability / q_len to its key. Scratch is O(q_len * tile), never O(q_len * kv_len).
#include "recsys/kernels/attention_mass.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/cuda/cuda_ops.h"
#include "kernels/src/check.h"

namespace recsys::kernels {
namespace {

constexpr char kOp[] = "AttentionMass";
// Tiles are sized so q_len x tile x head_dim stays under OpenBLAS's single-thread threshold:
// heads run in our OpenMP threads, and OpenBLAS's own threads would fight them.
constexpr int64_t kMaxSgemmWork = int64_t{1} << 18;

int64_t KeyTile(const AttentionMassParams& p) {
  return std::clamp<int64_t>(kMaxSgemmWork / std::max<int64_t>(1, p.q_len * p.head_dim), 16, 512);
}

absl::Status Validate(const Device& device, const AttentionMassParams& p) {
  RECSYS_RETURN_IF_ERROR(CheckDevice(device));
  for (const auto& [name, value] : {std::pair<const char*, int64_t>{"q_len", p.q_len},
                                    {"kv_len", p.kv_len},
                                    {"q_position", p.q_position}}) {
    RECSYS_RETURN_IF_ERROR(internal::CheckNonNegative(kOp, name, value));
  }
  for (const auto& [name, value] : {std::pair<const char*, int64_t>{"num_heads", p.num_heads},
                                    {"num_kv_heads", p.num_kv_heads},
                                    {"head_dim", p.head_dim}}) {
    RECSYS_RETURN_IF_ERROR(internal::CheckPositive(kOp, name, value));
  }
  if (p.num_heads % p.num_kv_heads != 0) {
    return internal::Invalid(
        kOp, "num_heads",
        absl::StrCat("(", p.num_heads, ") must be a multiple of num_kv_heads (", p.num_kv_heads,
                     ")"));
  }
  if (p.q_position + p.q_len > p.kv_len) {
    return internal::Invalid(kOp, "q_position",
                             absl::StrCat("(", p.q_position, ") + q_len (", p.q_len,
                                          ") exceeds kv_len (", p.kv_len, ")"));
  }
  if (!std::isfinite(p.scale) || p.scale < 0) {
    return internal::Invalid(kOp, "scale", "must be finite and >= 0");
  }
  const int64_t q_elems = p.q_len * p.num_heads * p.head_dim;
  const int64_t k_elems = p.kv_len * p.num_kv_heads * p.head_dim;
  RECSYS_RETURN_IF_ERROR(internal::CheckPointer(kOp, "q", p.q, q_elems));
  RECSYS_RETURN_IF_ERROR(internal::CheckPointer(kOp, "k", p.k, k_elems));
  return internal::CheckPointer(kOp, "mass", p.mass, p.kv_len);
}

// logits[i, t] = scale * q[i, head] . k[t0 + t, kv_head] for a tile of keys.
void TileLogits(const AttentionMassParams& p, int64_t head, int64_t t0, int64_t tile, float scale,
                float* logits) {
  const int64_t kv_head = head / (p.num_heads / p.num_kv_heads);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(p.q_len),
              static_cast<int>(tile), static_cast<int>(p.head_dim), scale, p.q + head * p.head_dim,
              static_cast<int>(p.num_heads * p.head_dim),
              p.k + (t0 * p.num_kv_heads + kv_head) * p.head_dim,
              static_cast<int>(p.num_kv_heads * p.head_dim), 0.0f, logits, static_cast<int>(tile));
}

// Adds sum_i softmax_t(logits[i, t]) / q_len for one head into mass.
void AccumulateHead(const AttentionMassParams& p, int64_t head, float scale,
                    std::vector<float>& logits, std::vector<double>& mass) {
  const int64_t q_len = p.q_len;
  const int64_t kKeyTile = KeyTile(p);
  // Keys past the last query's causal limit are never seen by any query.
  const int64_t key_end = p.q_position + q_len;
  std::vector<float> row_max(q_len, -std::numeric_limits<float>::infinity());
  std::vector<double> row_sum(q_len, 0.0);
  for (int64_t t0 = 0; t0 < key_end; t0 += kKeyTile) {  // pass 1: max and normaliser
    const int64_t tile = std::min(kKeyTile, key_end - t0);
    TileLogits(p, head, t0, tile, scale, logits.data());
    for (int64_t i = 0; i < q_len; ++i) {
      const int64_t visible = std::min(tile, p.q_position + i + 1 - t0);
      const float* row = logits.data() + i * tile;
      for (int64_t t = 0; t < visible; ++t) {
        if (row[t] > row_max[i]) {
          row_sum[i] *= std::exp(static_cast<double>(row_max[i]) - row[t]);
          row_max[i] = row[t];
        }
        row_sum[i] += std::exp(static_cast<double>(row[t]) - row_max[i]);
      }
    }
  }
  for (int64_t t0 = 0; t0 < key_end; t0 += kKeyTile) {  // pass 2: probabilities per key
    const int64_t tile = std::min(kKeyTile, key_end - t0);
    TileLogits(p, head, t0, tile, scale, logits.data());
    for (int64_t i = 0; i < q_len; ++i) {
      const int64_t visible = std::min(tile, p.q_position + i + 1 - t0);
      const float* row = logits.data() + i * tile;
      const double norm = 1.0 / (row_sum[i] * static_cast<double>(q_len));
      for (int64_t t = 0; t < visible; ++t) {
        mass[t0 + t] += std::exp(static_cast<double>(row[t]) - row_max[i]) * norm;
      }
    }
  }
}

}  // namespace

absl::Status AttentionMass(const Device& device, const AttentionMassParams& p) {
  RECSYS_RETURN_IF_ERROR(Validate(device, p));
  if (device.backend == Backend::kCuda) return cuda::AttentionMass(device, p);
  if (!p.accumulate) std::fill(p.mass, p.mass + p.kv_len, 0.0f);
  if (p.q_len == 0 || p.kv_len == 0) return absl::OkStatus();
  const float scale = p.scale > 0 ? p.scale : 1.0f / std::sqrt(static_cast<float>(p.head_dim));
  std::vector<double> mass(static_cast<size_t>(p.kv_len), 0.0);
  // Heads are spread over threads, each with its own partial sums, added up at the end.
#pragma omp parallel if (p.num_heads > 1 && p.q_len * p.kv_len * p.head_dim > 65536)
  {
    std::vector<float> logits(static_cast<size_t>(p.q_len * KeyTile(p)));
    std::vector<double> partial(static_cast<size_t>(p.kv_len), 0.0);
#pragma omp for schedule(dynamic, 1)
    for (int64_t head = 0; head < p.num_heads; ++head) {
      AccumulateHead(p, head, scale, logits, partial);
    }
#pragma omp critical
    for (int64_t t = 0; t < p.kv_len; ++t) mass[t] += partial[t];
  }
  for (int64_t t = 0; t < p.kv_len; ++t) p.mass[t] += static_cast<float>(mass[t]);
  return absl::OkStatus();
}

}  // namespace recsys::kernels
