// CPU attention: FlashAttention-style tiling. Each task owns one (batch, head, block of query
// rows) and streams over key tiles with an online softmax (running max m, running sum l and an
// unnormalised output accumulator), so scratch is O(tile) per thread, never O(q_len * kv_len).
// Short key sequences (recommendation models: 50-200 items) take a second path that holds a
// block's whole [rows, kv_len] score tile, itself O(tile) since kv_len <= kShortKv.
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
// Up to this many keys, a block's score rows are computed whole with our register-blocked
// GEMM tiles and an ordinary softmax: at these sizes OpenBLAS's per-call packing and the
// online-softmax rescaling cost more than the arithmetic.
constexpr int64_t kShortKv = 256;
using internal::kGemmCols;
using internal::kGemmRows;

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
    RECSYS_RETURN_IF_ERROR(internal::CheckNonNegative(kOp, field, value));
  }
  // Head counts only matter when some output row exists; empty calls are no-ops.
  if (p.batch > 0 && p.q_len > 0) {
    for (const auto& [field, value] : {dims[3], dims[4], dims[5]}) {
      RECSYS_RETURN_IF_ERROR(internal::CheckPositive(kOp, field, value));
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
    RECSYS_RETURN_IF_ERROR(CheckTensor(field, ptr, q_elems));
  }
  for (const auto& [field, ptr] : kv_side) {
    RECSYS_RETURN_IF_ERROR(CheckTensor(field, ptr, kv_elems));
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
      RECSYS_RETURN_IF_ERROR(CheckTensor("set_ids", p.set_ids, Elements({p.batch, p.kv_len})));
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
    RECSYS_RETURN_IF_ERROR(
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
  // Short path: kv_len and head_dim rounded up to whole GEMM tiles.
  int64_t keys_pad;
  int64_t dim_pad;
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

// Adds the bias and sets every invisible logit of keys [j0, j0 + n) to -inf; row r of the
// tile starts at tile + r * ld.
void MaskTile(const Plan& plan, int64_t b, int64_t h, int64_t i0, int64_t j0, int64_t n,
              int64_t rows, float* tile, int64_t ld) {
  const AttentionParams& p = *plan.p;
  const uint8_t* valid = p.key_valid ? p.key_valid + b * p.kv_len + j0 : nullptr;
  const int32_t* ids = plan.sets ? p.set_ids + b * p.kv_len : nullptr;
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t i = i0 + r;
    float* s = tile + r * ld;
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

// exp() only of -|x| (no overflow) and a select, not a branch, so gate loops vectorise.
RECSYS_VECTOR_INLINE float Sigmoid(float x) {
  const float e = internal::ExpNonPositive(-std::abs(x));
  return (x >= 0.0f ? 1.0f : e) / (1.0f + e);
}

// out = acc / l, zeros for rows that saw no key, then the optional sigmoid gate. Row r of
// the accumulator starts at acc_tile + r * ld.
RECSYS_VECTOR_INLINE void StoreBlock(const Plan& plan, int64_t b, int64_t h, int64_t i0,
                                     int64_t rows, const float* l, const float* acc_tile,
                                     int64_t ld) {
  const AttentionParams& p = *plan.p;
  const int64_t d = p.head_dim;
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t row = (b * p.q_len + i0 + r) * p.num_heads + h;
    float* out = p.out + row * d;
    if (l[r] == 0.0f) {
      std::fill(out, out + d, 0.0f);  // fully masked: zeros, whatever the gate says
      continue;
    }
    const float inv = 1.0f / l[r];
    const float* acc = acc_tile + r * ld;
    if (p.gate == nullptr) {
#pragma omp simd
      for (int64_t e = 0; e < d; ++e) out[e] = acc[e] * inv;
    } else if (p.gate_dim == 1) {
      const float g = Sigmoid(p.gate[row]) * inv;
#pragma omp simd
      for (int64_t e = 0; e < d; ++e) out[e] = acc[e] * g;
    } else {
      const float* gate = p.gate + row * d;
#pragma omp simd
      for (int64_t e = 0; e < d; ++e) out[e] = acc[e] * inv * Sigmoid(gate[e]);
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
    MaskTile(plan, b, h, i0, j0, n, rows, sc.s.data(), kKeyTile);
    AccumulateTile(plan, b, g, j0, n, rows, sc);
  }
  StoreBlock(plan, b, h, i0, rows, sc.l.data(), sc.acc.data(), d);
}

// ---- Short key sequences: whole score rows per block ----

int64_t RoundUp(int64_t n, int64_t multiple) { return (n + multiple - 1) / multiple * multiple; }

// Per-thread buffers of the short path. They outlive the call (OpenMP keeps its threads), so
// steady-state calls allocate nothing; kt and v keep the K and V of one (batch entry, KV
// head) for that pair's next blocks and heads on the same thread.
struct ShortScratch {
  std::vector<float> q;    // [rows_pad, d] scaled queries, zero rows past the block
  std::vector<float> kt;   // [d, keys_pad] K transposed, zero past kv_len
  std::vector<float> v;    // [kv_len, dim_pad] V in zero-padded rows (head_dim % 32 != 0)
  std::vector<float> s;    // [rows_pad, keys_pad] logits, then unnormalised probabilities
  std::vector<float> acc;  // [rows_pad, dim_pad] unnormalised output
  std::vector<float> l;    // [rows_pad] softmax denominators
  // Batch entry * num_kv_heads + KV head whose K / V kt / v hold; -1: none.
  int64_t kt_of = -1, v_of = -1;
};

void Grow(std::vector<float>& v, int64_t n) {
  if (static_cast<int64_t>(v.size()) < n) v.resize(n);
}

ShortScratch& ThreadShortScratch(const Plan& plan) {
  thread_local ShortScratch sc;
  const int64_t d = plan.p->head_dim, rows_pad = RoundUp(kQueryBlock, kGemmRows);
  Grow(sc.q, rows_pad * d);
  Grow(sc.kt, d * plan.keys_pad);
  if (d != plan.dim_pad) Grow(sc.v, plan.p->kv_len * plan.dim_pad);
  Grow(sc.s, rows_pad * plan.keys_pad);
  Grow(sc.acc, rows_pad * plan.dim_pad);
  Grow(sc.l, rows_pad);
  sc.kt_of = sc.v_of = -1;  // the previous call's tensors are not this call's
  return sc;
}

// Keys that rows [r0, r0 + n) of the block starting at query i0 can see, at most key_end.
int64_t KeysSeen(const Plan& plan, int64_t i0, int64_t r0, int64_t n, int64_t key_end) {
  return plan.causal ? std::min(key_end, i0 + r0 + n + plan.offset) : key_end;
}

// c[r][0, n) = sum over i < k of a[r][i] * b[i * ldb + (0, n)] for r < kGemmRows, n rounded
// up to whole tiles. A function of its own (per instruction set) so that GCC lays out
// GemmTile's register tile the same way wherever it is used: inlined into larger code, its
// SLP vectoriser sometimes splits the tile into mixed vector widths.
RECSYS_VECTOR_CLONES void GemmRows(const float* const (&a)[kGemmRows], const float* b, int64_t ldb,
                                   int64_t k, int64_t n, float* c, int64_t ldc) {
  if (internal::WideVectors()) {
    for (int64_t c0 = 0; c0 < n; c0 += kGemmCols) internal::GemmTile(a, b + c0, ldb, k, c + c0, ldc);
  } else {
    for (int64_t c0 = 0; c0 < n; c0 += internal::kGemmColsAvx2) {
      internal::GemmTile<internal::kGemmColsAvx2>(a, b + c0, ldb, k, c + c0, ldc);
    }
  }
}

// Blocks of fewer query rows than this compute logits as dot products against K as stored,
// unless K is already transposed: the transpose costs about as much as 8 rows of GEMM.
constexpr int64_t kMinGemmRows = 8;

// s = (scaled q) K^T for the keys each group of kGemmRows rows sees; later key tiles stay
// unwritten (MaskTile hides them). Padding rows (rows_pad > rows) get finite values.
RECSYS_VECTOR_INLINE void ShortLogits(const Plan& plan, int64_t b, int64_t g, int64_t i0,
                                      int64_t rows, int64_t key_end, ShortScratch& sc) {
  const AttentionParams& p = *plan.p;
  const int64_t d = p.head_dim, kv = p.kv_len, ld = plan.keys_pad;
  const int64_t rows_pad = RoundUp(rows, kGemmRows), pair = b * p.num_kv_heads + g;
  const float* k = p.k + (b * kv * p.num_kv_heads + g) * d;  // key j at k + j * kv_stride
  if (sc.kt_of != pair && rows < kMinGemmRows) {
    for (int64_t r = 0; r < rows_pad; ++r) {
      float* s = sc.s.data() + r * ld;
      const int64_t n = r < rows ? KeysSeen(plan, i0, r, 1, key_end) : 0;
      for (int64_t j = 0; j < n; ++j) {
        s[j] = internal::Dot(sc.q.data() + r * d, k + j * plan.kv_stride, d);
      }
      std::fill(s + n, s + key_end, 0.0f);
    }
    return;
  }
  if (sc.kt_of != pair) {
    // Column by column: the 16 columns of a cache line of K stay in L1 while kt is written
    // contiguously (row by row, each store would go to another line of kt).
    for (int64_t e = 0; e < d; ++e) {
      float* kt = sc.kt.data() + e * ld;
      for (int64_t j = 0; j < kv; ++j) kt[j] = k[j * plan.kv_stride + e];
      for (int64_t j = kv; j < ld; ++j) kt[j] = 0.0f;
    }
    sc.kt_of = pair;
  }
  for (int64_t r0 = 0; r0 < rows_pad; r0 += kGemmRows) {
    const float* a[kGemmRows];
    for (int r = 0; r < kGemmRows; ++r) a[r] = sc.q.data() + (r0 + r) * d;
    const int64_t n = KeysSeen(plan, i0, r0, kGemmRows, key_end);
    GemmRows(a, sc.kt.data(), ld, d, n, sc.s.data() + r0 * ld, ld);
  }
}

// Softmax numerators in place over each row's visible keys (zeros up to key_end past them,
// for the P V product) and their sums in l; a row that sees no key gets l = 0.
RECSYS_VECTOR_INLINE void SoftmaxRows(const Plan& plan, int64_t i0, int64_t rows, int64_t key_end,
                                      ShortScratch& sc) {
  const int64_t ld = plan.keys_pad;
  for (int64_t r = 0; r < rows; ++r) {
    float* s = sc.s.data() + r * ld;
    const int64_t n = KeysSeen(plan, i0, r, 1, key_end);
    const float max = n > 0 ? internal::LaneMax(s, n) : kNegInf;
    if (max == kNegInf) {  // every key hidden (or none): no distribution
      std::fill(s, s + key_end, 0.0f);
      sc.l[r] = 0.0f;
      continue;
    }
#pragma omp simd
    for (int64_t j = 0; j < n; ++j) s[j] = internal::ExpNonPositive(s[j] - max);
    sc.l[r] = internal::LaneSum(n, [s](int64_t j) { return s[j]; });
    std::fill(s + n, s + key_end, 0.0f);
  }
}

// acc = P V over the keys each group of kGemmRows rows sees. V is read in place when
// head_dim is a whole number of tiles (a tile reads kGemmCols floats per row), else from
// zero-padded rows.
RECSYS_VECTOR_INLINE void ShortOutput(const Plan& plan, int64_t b, int64_t g, int64_t i0,
                                      int64_t rows, int64_t key_end, ShortScratch& sc) {
  const AttentionParams& p = *plan.p;
  const int64_t d = p.head_dim, kv = p.kv_len, pair = b * p.num_kv_heads + g;
  const float* v = p.v + (b * kv * p.num_kv_heads + g) * d;  // value j at v + j * kv_stride
  int64_t ldv = plan.kv_stride;
  if (d != plan.dim_pad) {
    if (sc.v_of != pair) {
      for (int64_t j = 0; j < kv; ++j) {
        float* row = sc.v.data() + j * plan.dim_pad;
        for (int64_t e = 0; e < d; ++e) row[e] = v[j * plan.kv_stride + e];
        for (int64_t e = d; e < plan.dim_pad; ++e) row[e] = 0.0f;
      }
      sc.v_of = pair;
    }
    v = sc.v.data();
    ldv = plan.dim_pad;
  }
  const int64_t ld = plan.keys_pad;
  for (int64_t r0 = 0; r0 < rows; r0 += kGemmRows) {
    const float* a[kGemmRows];
    for (int r = 0; r < kGemmRows; ++r) a[r] = sc.s.data() + (r0 + r) * ld;
    const int64_t keys = KeysSeen(plan, i0, r0, std::min(rows - r0, int64_t{kGemmRows}), key_end);
    GemmRows(a, v, ldv, keys, d, sc.acc.data() + r0 * plan.dim_pad, plan.dim_pad);
  }
}

// Rows [i0, i0 + rows) of head h in batch entry b: logits for every key the block sees, the
// masks, an ordinary softmax over whole rows, then P V.
RECSYS_VECTOR_CLONES void AttendShortBlock(const Plan& plan, int64_t b, int64_t h, int64_t i0,
                                           int64_t rows, ShortScratch& sc) {
  const AttentionParams& p = *plan.p;
  const int64_t d = p.head_dim, g = h / plan.group;
  const int64_t key_end = KeysSeen(plan, i0, 0, rows, p.kv_len);
  const float* q = p.q + ((b * p.q_len + i0) * p.num_heads + h) * d;
  const float scale = plan.scale;
  for (int64_t r = 0; r < rows; ++r) {
    float* q_scaled = sc.q.data() + r * d;
    const float* q_row = q + r * plan.q_stride;
#pragma omp simd
    for (int64_t e = 0; e < d; ++e) q_scaled[e] = q_row[e] * scale;
  }
  std::fill(sc.q.data() + rows * d, sc.q.data() + RoundUp(rows, kGemmRows) * d, 0.0f);
  ShortLogits(plan, b, g, i0, rows, key_end, sc);
  MaskTile(plan, b, h, i0, 0, key_end, rows, sc.s.data(), plan.keys_pad);
  SoftmaxRows(plan, i0, rows, key_end, sc);
  ShortOutput(plan, b, g, i0, rows, key_end, sc);
  StoreBlock(plan, b, h, i0, rows, sc.l.data(), sc.acc.data(), plan.dim_pad);
}

// Tasks are (batch, head, block of kQueryBlock query rows); within each (batch, head), last
// query blocks first: under causality they see the most keys, so long tasks start early and
// short ones fill the tail.
// Shared by the threads of the caller's parallel region when `shared`, else all run here.
template <typename Attend>
void ForEachBlock(const Plan& plan, bool shared, Attend attend) {
  const AttentionParams& p = *plan.p;
  const int64_t blocks = (p.q_len + kQueryBlock - 1) / kQueryBlock;
  const int64_t tasks = p.batch * p.num_heads * blocks;
  auto task = [&](int64_t t) {
    const int64_t block = blocks - 1 - t % blocks;
    const int64_t bh = t / blocks;
    const int64_t i0 = block * kQueryBlock;
    attend(bh / p.num_heads, bh % p.num_heads, i0, std::min(kQueryBlock, p.q_len - i0));
  };
  if (shared) {
#pragma omp for schedule(dynamic, 1)
    for (int64_t t = 0; t < tasks; ++t) task(t);
  } else {
    for (int64_t t = 0; t < tasks; ++t) task(t);
  }
}

void AttendAll(const Plan& plan) {
  const AttentionParams& p = *plan.p;
  const int64_t tasks = p.batch * p.num_heads * ((p.q_len + kQueryBlock - 1) / kQueryBlock);
  // Below ~1 MFLOP the fork/join costs more than it saves.
  const int64_t work = p.batch * p.num_heads * p.q_len * p.kv_len * p.head_dim;
  auto run = [&](bool shared) {
    if (p.kv_len <= kShortKv) {
      ShortScratch& sc = ThreadShortScratch(plan);
      ForEachBlock(plan, shared, [&](int64_t b, int64_t h, int64_t i0, int64_t rows) {
        AttendShortBlock(plan, b, h, i0, rows, sc);
      });
    } else {
      Scratch sc(p.head_dim);
      ForEachBlock(plan, shared, [&](int64_t b, int64_t h, int64_t i0, int64_t rows) {
        AttendBlock(plan, b, h, i0, rows, sc);
      });
    }
  };
  // Serial calls skip OpenMP altogether: entering even a one-thread team costs about a
  // microsecond, a fifth of a B = 1, S = 50 call.
  if (tasks > 1 && work > (int64_t{1} << 19)) {
#pragma omp parallel
    run(true);
  } else {
    run(false);
  }
}

}  // namespace

absl::Status Attention(const Device& device, const AttentionParams& params) {
  RECSYS_RETURN_IF_ERROR(CheckDevice(device));
  RECSYS_RETURN_IF_ERROR(ValidateShapes(params));
  RECSYS_RETURN_IF_ERROR(ValidateOptions(params));
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
  plan.keys_pad = RoundUp(p.kv_len, kGemmCols);
  plan.dim_pad = RoundUp(p.head_dim, kGemmCols);
  AttendAll(plan);
  return absl::OkStatus();
}

}  // namespace recsys::kernels
