// Small math helpers written so GCC vectorises the loops that call them (no branches, no
// library calls), and the attribute that compiles a hot function for AVX-512 (x86-64-v4),
// AVX2 + FMA (x86-64-v3) and the x86-64 baseline (SSE2, 4 lanes), picked at load time.
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define RECSYS_VECTOR_CLONES \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define RECSYS_VECTOR_CLONES
#endif

// For helpers called from a RECSYS_VECTOR_CLONES function: inlined, they are compiled for
// each clone's instruction set; called, they would run the baseline (SSE2) code.
#if defined(__GNUC__)
#define RECSYS_VECTOR_INLINE __attribute__((always_inline)) inline
#else
#define RECSYS_VECTOR_INLINE inline
#endif

namespace recsys::kernels::internal {

// exp(x) for x <= 0 (softmax arguments after subtracting the row max): Cephes' expf
// polynomial after range reduction, relative error ~1e-7 (also for small x > 0). Arguments
// below about -87.7 (and -inf) give exactly 0; NaN stays NaN.
//
// Every step is straight-line arithmetic: under GCC's default -ftrapping-math, a float
// compare-and-select (a clamp, a final "x < -87 ? 0 : ..." select) gets split into branches
// that the vectoriser then refuses to if-convert ("control flow in loop").
RECSYS_VECTOR_INLINE float ExpNonPositive(float x) {
  // Clamp |x| to 88 with an integer min on the bit pattern (finite floats of one sign order
  // like their bits); NaN (bits above +inf's) is kept so that it propagates.
  uint32_t x_bits;
  std::memcpy(&x_bits, &x, sizeof(x_bits));
  const uint32_t abs_bits = x_bits & 0x7FFFFFFFu;
  constexpr uint32_t k88Bits = 0x42B00000u, kInfBits = 0x7F800000u;
  uint32_t c_bits = abs_bits < k88Bits ? abs_bits : k88Bits;
  c_bits = (abs_bits > kInfBits ? abs_bits : c_bits) | (x_bits & 0x80000000u);
  float clamped;
  std::memcpy(&clamped, &c_bits, sizeof(clamped));
  // n = round(x / ln 2) by the 1.5 * 2^23 trick: the sum's low mantissa bits hold n.
  constexpr float kRound = 12582912.0f;
  const float shifted = clamped * 1.44269504088896341f + kRound;
  const float n = shifted - kRound;
  const float r = clamped - n * 0.693359375f + n * 2.12194440e-4f;  // x - n ln 2, two parts
  float y = 1.9875691500e-4f;
  y = y * r + 1.3981999507e-3f;
  y = y * r + 8.3334519073e-3f;
  y = y * r + 4.1665795894e-2f;
  y = y * r + 1.6666665459e-1f;
  y = y * r + 5.0000001201e-1f;
  y = y * r * r + r + 1.0f;
  // 2^n from the same bits: n + 127 in the exponent field. n = -127 (x < -87.7) gives +0.
  uint32_t bits;
  std::memcpy(&bits, &shifted, sizeof(bits));
  bits = (bits + (127u - 0x4B400000u)) << 23;
  float two_n;
  std::memcpy(&two_n, &bits, sizeof(two_n));
  return y * two_n;
}

// Row reductions keep kLanes fp32 partials (one AVX-512 vector, two AVX2 ones: independent
// dependency chains) and fold them pairwise at the end; GCC vectorises the fixed-length lane
// loops at -O2. (An `omp simd reduction` ends every call in a scalar loop over a stack array,
// which costs as much as the loop itself on short rows.)
constexpr int kLanes = 16;

RECSYS_VECTOR_INLINE float FoldSum(float (&acc)[kLanes]) {
  for (int l = 0; l < 8; ++l) acc[l] += acc[l + 8];
  for (int l = 0; l < 4; ++l) acc[l] += acc[l + 4];
  for (int l = 0; l < 2; ++l) acc[l] += acc[l + 2];
  return acc[0] + acc[1];
}

RECSYS_VECTOR_INLINE float FoldMax(float (&acc)[kLanes]) {
  for (int l = 0; l < 8; ++l) acc[l] = acc[l + 8] > acc[l] ? acc[l + 8] : acc[l];
  for (int l = 0; l < 4; ++l) acc[l] = acc[l + 4] > acc[l] ? acc[l + 4] : acc[l];
  for (int l = 0; l < 2; ++l) acc[l] = acc[l + 2] > acc[l] ? acc[l + 2] : acc[l];
  return acc[1] > acc[0] ? acc[1] : acc[0];
}

// 1.0f for lane >= counted, else 0.0f, by integer arithmetic: a compare here becomes a
// branch in the AVX2 and baseline clones, which stops the lane loop from vectorising.
RECSYS_VECTOR_INLINE float TailWeight(int32_t lane, int32_t counted) {
  return static_cast<float>(((lane - counted) >> 31) + 1);  // arithmetic shift: -1 or 0
}

// max of x[0, n) for n >= 1, ignoring NaN (-inf if every entry is NaN or -inf).
RECSYS_VECTOR_INLINE float LaneMax(const float* x, int64_t n) {
  if (n < kLanes) {
    float max = -std::numeric_limits<float>::infinity();
    for (int64_t j = 0; j < n; ++j) max = x[j] > max ? x[j] : max;
    return max;
  }
  // The first chunk initialises the lanes (see LaneSum).
  float acc[kLanes];
  for (int l = 0; l < kLanes; ++l) {
    acc[l] = x[l] == x[l] ? x[l] : -std::numeric_limits<float>::infinity();
  }
  int64_t j = kLanes;
  for (; j + kLanes <= n; j += kLanes) {
    for (int l = 0; l < kLanes; ++l) acc[l] = x[j + l] > acc[l] ? x[j + l] : acc[l];
  }
  // Ragged end: the last full chunk once more (max does not mind the overlap).
  const float* last = x + n - kLanes;
  for (int l = 0; l < kLanes; ++l) acc[l] = last[l] > acc[l] ? last[l] : acc[l];
  return FoldMax(acc);
}

// Sum of term(j) over j in [0, n) in fp32 (callers keep n to a few hundred and add blocks in
// double). term must be cheap, and finite for finite input: the ragged end takes the terms of
// the last full chunk again, the lanes already counted weighted 0.
template <typename Term>
RECSYS_VECTOR_INLINE float LaneSum(int64_t n, Term term) {
  if (n < kLanes) {
    float sum = 0.0f;
    for (int64_t j = 0; j < n; ++j) sum += term(j);
    return sum;
  }
  // The first chunk initialises the lanes: zeroing them in memory first makes the AVX2 clone
  // reload them across a store-forwarding stall on every call.
  float acc[kLanes];
  for (int l = 0; l < kLanes; ++l) acc[l] = term(l);
  int64_t j = kLanes;
  for (; j + kLanes <= n; j += kLanes) {
    for (int l = 0; l < kLanes; ++l) acc[l] += term(j + l);
  }
  if (j < n) {
    const int32_t counted = static_cast<int32_t>(kLanes - (n - j));  // leading lanes, already in
    for (int l = 0; l < kLanes; ++l) acc[l] += term(n - kLanes + l) * TailWeight(l, counted);
  }
  return FoldSum(acc);
}

RECSYS_VECTOR_INLINE float Dot(const float* a, const float* b, int64_t n) {
  return LaneSum(n, [a, b](int64_t j) { return a[j] * b[j]; });
}

// One register-blocked tile of C = A B for small GEMMs (short-sequence attention):
// c[r][0, Cols) = sum over i < k of a[r][i] * b[i * ldb + (0, Cols)] for r < kGemmRows,
// overwriting c (row stride ldc). The unrolled loops keep the tile in registers and each b
// vector load feeds kGemmRows FMAs: Cols = kGemmCols fills 8 AVX-512 registers; AVX2 has 16
// registers of half the width, so it takes Cols = kGemmColsAvx2 (8 registers) instead of
// spilling a 32-column tile.
constexpr int kGemmRows = 4;
constexpr int kGemmCols = 32;
constexpr int kGemmColsAvx2 = 16;

template <int Cols = kGemmCols>
RECSYS_VECTOR_INLINE void GemmTile(const float* const (&a)[kGemmRows], const float* b, int64_t ldb,
                                   int64_t k, float* c, int64_t ldc) {
  float acc[kGemmRows][Cols] = {};
  for (int64_t i = 0; i < k; ++i) {
    const float* bi = b + i * ldb;
#pragma GCC unroll 4
    for (int r = 0; r < kGemmRows; ++r) {
      const float ari = a[r][i];
#pragma GCC unroll 32
      for (int j = 0; j < Cols; ++j) acc[r][j] += ari * bi[j];
    }
  }
#pragma GCC unroll 4
  for (int r = 0; r < kGemmRows; ++r) {
#pragma GCC unroll 32
    for (int j = 0; j < Cols; ++j) c[r * ldc + j] = acc[r][j];
  }
}

// Whether the x86-64-v4 (AVX-512) clones run on this CPU: picks a GEMM tile width.
inline bool WideVectors() {
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
  static const bool wide = __builtin_cpu_supports("x86-64-v4");
  return wide;
#else
  return false;
#endif
}

}  // namespace recsys::kernels::internal
