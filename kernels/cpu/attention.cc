// CPU attention: FlashAttention-style tiling. Each task owns one (batch, head, block of query
// rows) and streams over key tiles with an online softmax (running max m, running sum l and an
// unnormalised output accumulator), so scratch is O(tile) per thread, never O(q_len * kv_len).
#include "recsys/kernels/attention.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "kernels/cuda/cuda_ops.h"
#include "kernels/src/check.h"
#include "kernels/src/vector_math.h"

namespace recsys::kernels {
namespace {

using internal::Invalid;

constexpr char kOp[] = "Attention";
// 64 query rows share each transposed K tile (amortising the transpose), and the 64 x 64
// score tile plus a 64-key K/V tile fit in L1/L2 for head_dim up to ~128.
constexpr int64_t kQueryBlock = 64;
constexpr int64_t kKeyTile = 64;
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// Product of non-negative extents, or -1 when it does not fit in int64_t.
int64_t Elements(std::initializer_list<int64_t> dims) {
  // A zero extent makes the tensor empty however large the others are.
  if (std::find(dims.begin(), dims.end(), 0) != dims.end()) return 0;
  int64_t n = 1;
  for (int64_t d : dims) {
    if (__builtin_mul_overflow(n, d, &n)) return -1;
  }
  return n;
}

absl::Status CheckTensor(const char* field, const void* p, int64_t elements) {
  if (elements < 0) return Invalid(kOp, field, "element count overflows int64");
  return internal::CheckPointer(kOp, field, p, elements);
}

absl::Status ValidateShapes(const AttentionParams& p) {
  const std::pair<const char*, int64_t> dims[] = {{"batch", p.batch},
                                                  {"q_len", p.q_len},
                                                  {"kv_len", p.kv_len},
                                                  {"num_heads", p.num_heads},
                                                  {"num_kv_heads", p.num_kv_heads},
                                                  {"head_dim", p.head_dim}};
  for (const auto& [field, value] : dims) {
    RECSYS_KERNEL_RETURN_IF_ERROR(internal::CheckNonNegative(kOp, field, value));
  }
  // Head counts only matter when some output row exists; empty calls are no-ops.
  if (p.batch > 0 && p.q_len > 0) {
    for (const auto& [field, value] : {dims[3], dims[4], dims[5]}) {
      RECSYS_KERNEL_RETURN_IF_ERROR(internal::CheckPositive(kOp, field, value));
    }
  }
  if (p.num_kv_heads > 0 && p.num_heads % p.num_kv_heads != 0) {
    return Invalid(kOp, "num_heads",
                   absl::StrCat("(", p.num_heads, ") must be a multiple of num_kv_heads (",
                                p.num_kv_heads, ")"));
  }
  const int64_t q_elems = Elements({p.batch, p.q_len, p.num_heads, p.head_dim});
  const int64_t kv_elems = Elements({p.batch, p.kv_len, p.num_kv_heads, p.head_dim});
  const std::pair<const char*, const void*> q_side[] = {{"q", p.q}, {"out", p.out}};
  const std::pair<const char*, const void*> kv_side[] = {{"k", p.k}, {"v", p.v}};
  for (const auto& [field, ptr] : q_side) {
    RECSYS_KERNEL_RETURN_IF_ERROR(CheckTensor(field, ptr, q_elems));
  }
  for (const auto& [field, ptr] : kv_side) {
    RECSYS_KERNEL_RETURN_IF_ERROR(CheckTensor(field, ptr, kv_elems));
  }
  return absl::OkStatus();
}

absl::Status ValidateOptions(const AttentionParams& p) {
  switch (p.mask) {
    case AttentionMask::kBidirectional:
      break;
    case AttentionMask::kCausal:
      if (p.q_len > p.kv_len) {
        return Invalid(
            kOp, "q_len",
            absl::StrCat("(", p.q_len, ") must be <= kv_len (", p.kv_len, ") for kCausal"));
      }
      break;
    case AttentionMask::kCausalSets:
      if (p.q_len != p.kv_len) {
        return Invalid(
            kOp, "q_len",
            absl::StrCat("(", p.q_len, ") must equal kv_len (", p.kv_len, ") for kCausalSets"));
      }
      RECSYS_KERNEL_RETURN_IF_ERROR(
          CheckTensor("set_ids", p.set_ids, Elements({p.batch, p.kv_len})));
      break;
    default:
      return Invalid(kOp, "mask", "is not a known AttentionMask");
  }
  if (p.gate != nullptr && p.gate_dim != 1 && p.gate_dim != p.head_dim) {
    return Invalid(kOp, "gate_dim",
                   absl::StrCat("(", p.gate_dim, ") must be 1 or head_dim (", p.head_dim, ")"));
  }
  if (!std::isfinite(p.scale) || p.scale < 0.0f) {
    return Invalid(kOp, "scale", absl::StrCat("(", p.scale, ") must be finite and >= 0"));
  }
  if (p.bias != nullptr) {
    RECSYS_KERNEL_RETURN_IF_ERROR(
        internal::CheckNonNegative(kOp, "bias_batch_stride", p.bias_batch_stride));
    return internal::CheckNonNegative(kOp, "bias_head_stride", p.bias_head_stride);
  }
  return absl::OkStatus();
}

// What every block needs, derived once from the params.
struct Plan {
  const AttentionParams* p;
  int64_t q_stride;   // floats between consecutive query positions
  int64_t kv_stride;  // floats between consecutive key/value positions
  int64_t group;      // query heads per KV head
  int64_t offset;     // causal: query i sees keys j <= i + offset
  bool causal;
  bool sets;
  float scale;
  // Keys per tile (<= kKeyTile): small enough that each tile sgemm stays under OpenBLAS's
  // single-thread threshold, since the tiles already run in our OpenMP threads.
  int64_t key_tile;
};

// Per-thread tile buffers, allocated once per parallel region.
struct Scratch {
  explicit Scratch(int64_t d)
      : q(kQueryBlock * d),
        s(kQueryBlock * kKeyTile),
        acc(kQueryBlock * d),
        m(kQueryBlock),
        l(kQueryBlock) {}
  std::vector<float> q;    // [rows, d] scaled queries
  std::vector<float> s;    // [rows, kKeyTile] logits, then masked logits
  std::vector<float> acc;  // [rows, d] unnormalised output
  std::vector<float> m;    // running max per row
  std::vector<float> l;    // running softmax denominator per row
};

// s[r, jj] = q_r . k_{j0 + jj} for the n keys of the tile: one small sgemm.
void ScoreTile(const Plan& plan, int64_t b, int64_t g, int64_t j0, int64_t n, int64_t rows,
               Scratch& sc) {
  const AttentionParams& p = *plan.p;
  const int64_t d = p.head_dim;
  const float* k = p.k + ((b * p.kv_len + j0) * p.num_kv_heads + g) * d;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(rows), static_cast<int>(n),
              static_cast<int>(d), 1.0f, sc.q.data(), static_cast<int>(d), k,
              static_cast<int>(plan.kv_stride), 0.0f, sc.s.data(), static_cast<int>(kKeyTile));
}

// Adds the bias and sets every invisible logit to -inf.
void MaskTile(const Plan& plan, int64_t b, int64_t h, int64_t i0, int64_t j0, int64_t n,
              int64_t rows, Scratch& sc) {
  const AttentionParams& p = *plan.p;
  const uint8_t* valid = p.key_valid ? p.key_valid + b * p.kv_len + j0 : nullptr;
  const int32_t* ids = plan.sets ? p.set_ids + b * p.kv_len : nullptr;
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t i = i0 + r;
    float* s = sc.s.data() + r * kKeyTile;
    if (p.bias != nullptr) {
      const float* bias =
          p.bias + b * p.bias_batch_stride + h * p.bias_head_stride + i * p.kv_len + j0;
      for (int64_t jj = 0; jj < n; ++jj) s[jj] += bias[jj];
    }
    if (plan.causal) {
      // Keys past the row's limit; a negative count means the whole tile is visible.
      const int64_t first_hidden = std::max<int64_t>(0, i + plan.offset + 1 - j0);
      for (int64_t jj = first_hidden; jj < n; ++jj) s[jj] = kNegInf;
    }
    if (valid != nullptr) {
      for (int64_t jj = 0; jj < n; ++jj) {
        if (valid[jj] == 0) s[jj] = kNegInf;
      }
    }
    if (ids != nullptr && ids[i] >= 0) {
      for (int64_t jj = 0; jj < n; ++jj) {
        if (ids[j0 + jj] == ids[i] && j0 + jj != i) s[jj] = kNegInf;
      }
    }
  }
}

// Online softmax step: folds the tile's probabilities into m, l and acc. The tile's logits
// are turned into unnormalised probabilities in place.
RECSYS_VECTOR_CLONES void AccumulateTile(const Plan& plan, int64_t b, int64_t g, int64_t j0,
                                         int64_t n, int64_t rows, Scratch& sc) {
  const AttentionParams& p = *plan.p;
  const int64_t d = p.head_dim;
  const float* v = p.v + ((b * p.kv_len + j0) * p.num_kv_heads + g) * d;
  for (int64_t r = 0; r < rows; ++r) {
    float* s = sc.s.data() + r * kKeyTile;
    float tile_max = kNegInf;
    for (int64_t jj = 0; jj < n; ++jj) tile_max = std::max(tile_max, s[jj]);
    if (tile_max == kNegInf) {  // every key of the tile is hidden from this row
      std::fill(s, s + n, 0.0f);
      continue;
    }
    const float m_new = std::max(sc.m[r], tile_max);
    // exp(-inf) = 0 on the row's first visible tile, which clears the (zero) accumulator.
    const float alpha = std::exp(sc.m[r] - m_new);
    float* acc = sc.acc.data() + r * d;
    if (alpha != 1.0f) {
      for (int64_t e = 0; e < d; ++e) acc[e] *= alpha;
    }
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (int64_t jj = 0; jj < n; ++jj) {
      s[jj] = internal::ExpNonPositive(s[jj] - m_new);
      sum += s[jj];
    }
    sc.l[r] = sc.l[r] * alpha + sum;
    sc.m[r] = m_new;
  }
  // acc += P V for the whole block of rows at once.
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(rows),
              static_cast<int>(d), static_cast<int>(n), 1.0f, sc.s.data(),
              static_cast<int>(kKeyTile), v, static_cast<int>(plan.kv_stride), 1.0f, sc.acc.data(),
              static_cast<int>(d));
}

float Sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

// out = acc / l, zeros for rows that saw no key, then the optional sigmoid gate.
void StoreBlock(const Plan& plan, int64_t b, int64_t h, int64_t i0, int64_t rows,
                const Scratch& sc) {
  const AttentionParams& p = *plan.p;
  const int64_t d = p.head_dim;
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t row = (b * p.q_len + i0 + r) * p.num_heads + h;
    float* out = p.out + row * d;
    if (sc.l[r] == 0.0f) {
      std::fill(out, out + d, 0.0f);  // fully masked: zeros, whatever the gate says
      continue;
    }
    const float inv = 1.0f / sc.l[r];
    const float* acc = sc.acc.data() + r * d;
    for (int64_t e = 0; e < d; ++e) out[e] = acc[e] * inv;
    if (p.gate == nullptr) continue;
    const float* gate = p.gate + row * p.gate_dim;
    if (p.gate_dim == 1) {
      const float g = Sigmoid(gate[0]);
      for (int64_t e = 0; e < d; ++e) out[e] *= g;
    } else {
      for (int64_t e = 0; e < d; ++e) out[e] *= Sigmoid(gate[e]);
    }
  }
}

// Rows [i0, i0 + rows) of head h in batch entry b.
void AttendBlock(const Plan& plan, int64_t b, int64_t h, int64_t i0, int64_t rows, Scratch& sc) {
  const AttentionParams& p = *plan.p;
  const int64_t d = p.head_dim;
  const int64_t g = h / plan.group;
  // Fold the scale into Q once instead of scaling every logit.
  const float* q = p.q + ((b * p.q_len + i0) * p.num_heads + h) * d;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t e = 0; e < d; ++e) sc.q[r * d + e] = q[r * plan.q_stride + e] * plan.scale;
  }
  std::fill(sc.acc.begin(), sc.acc.begin() + rows * d, 0.0f);
  std::fill(sc.m.begin(), sc.m.begin() + rows, kNegInf);
  std::fill(sc.l.begin(), sc.l.begin() + rows, 0.0f);
  // Under causality, key tiles past the block's last row are hidden from every row: skip them.
  const int64_t key_end = plan.causal ? std::min(p.kv_len, i0 + rows + plan.offset) : p.kv_len;
  for (int64_t j0 = 0; j0 < key_end; j0 += plan.key_tile) {
    const int64_t n = std::min(plan.key_tile, key_end - j0);
    ScoreTile(plan, b, g, j0, n, rows, sc);
    MaskTile(plan, b, h, i0, j0, n, rows, sc);
    AccumulateTile(plan, b, g, j0, n, rows, sc);
  }
  StoreBlock(plan, b, h, i0, rows, sc);
}

}  // namespace

absl::Status Attention(const Device& device, const AttentionParams& params) {
  RECSYS_KERNEL_RETURN_IF_ERROR(CheckDevice(device));
  RECSYS_KERNEL_RETURN_IF_ERROR(ValidateShapes(params));
  RECSYS_KERNEL_RETURN_IF_ERROR(ValidateOptions(params));
  const AttentionParams& p = params;
  if (p.batch == 0 || p.q_len == 0) return absl::OkStatus();
  if (device.backend == Backend::kCuda) return cuda::Attention(device, p);

  Plan plan;
  plan.p = &p;
  plan.q_stride = p.num_heads * p.head_dim;
  plan.kv_stride = p.num_kv_heads * p.head_dim;
  plan.group = p.num_heads / p.num_kv_heads;
  plan.offset = p.kv_len - p.q_len;
  plan.causal = p.mask != AttentionMask::kBidirectional;
  plan.sets = p.mask == AttentionMask::kCausalSets;
  plan.key_tile = std::clamp<int64_t>((int64_t{1} << 18) / (kQueryBlock * p.head_dim), 8, kKeyTile);
  plan.scale = p.scale > 0.0f ? p.scale : 1.0f / std::sqrt(static_cast<float>(p.head_dim));

  const int64_t blocks = (p.q_len + kQueryBlock - 1) / kQueryBlock;
  const int64_t tasks = p.batch * p.num_heads * blocks;
  // Below ~1 MFLOP the fork/join costs more than it saves.
  const int64_t work = p.batch * p.num_heads * p.q_len * p.kv_len * p.head_dim;
#pragma omp parallel if (tasks > 1 && work > (int64_t{1} << 19))
  {
    Scratch scratch(p.head_dim);
#pragma omp for schedule(dynamic, 1)
    for (int64_t t = 0; t < tasks; ++t) {
      // Within each (batch, head), last query blocks first: under causality they see the
      // most keys, so long tasks start early and short ones fill the tail.
      const int64_t block = blocks - 1 - t % blocks;
      const int64_t bh = t / blocks;
      const int64_t i0 = block * kQueryBlock;
      AttendBlock(plan, bh / p.num_heads, bh % p.num_heads, i0, std::min(kQueryBlock, p.q_len - i0),
                  scratch);
    }
  }
  return absl::OkStatus();
}

}  // namespace recsys::kernels
