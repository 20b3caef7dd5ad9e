// AVX2 / F16C versions of the hot dequantisation loops (dequantize.cc picks them at run time
// when the CPU has them). They compute exactly what the portable loops do: the same products
// in the same fp32 order (d * q, d * sc * q, d1 * q - m1; no fused multiply-add), so both paths
// are bit-identical and the tests against gguf-py cover either.
#include <immintrin.h>

#include <cstdint>

#include "models/llm/gguf/dequantize_internal.h"

#define RECSYS_AVX2 __attribute__((target("avx2,f16c")))

namespace recsys::llm::internal {
namespace {

RECSYS_AVX2 inline float Half(const uint8_t* p) {
  return _cvtsh_ss(static_cast<uint16_t>(p[0] | (p[1] << 8)));
}

// 8 signed bytes widened to floats.
RECSYS_AVX2 inline __m256 Int8x8(const int8_t* p) {
  return _mm256_cvtepi32_ps(
      _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
}

// 8 int32 lanes to floats.
RECSYS_AVX2 inline __m256 Float(__m256i v) { return _mm256_cvtepi32_ps(v); }

// 8 unsigned bytes widened to int32 lanes.
RECSYS_AVX2 inline __m256i Uint8x8(const uint8_t* p) {
  return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
}

}  // namespace

RECSYS_AVX2 void F16Avx2(const uint8_t* x, int64_t n, float* y) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(y + i,
                     _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + 2 * i))));
  }
  for (; i < n; ++i) y[i] = Half(x + 2 * i);
}

RECSYS_AVX2 void Q8_0Avx2(const uint8_t* x, int64_t blocks, float* y) {
  for (int64_t i = 0; i < blocks; ++i, x += 34, y += 32) {
    const __m256 d = _mm256_set1_ps(Half(x));
    const auto* qs = reinterpret_cast<const int8_t*>(x + 2);
    for (int j = 0; j < 32; j += 8) _mm256_storeu_ps(y + j, _mm256_mul_ps(Int8x8(qs + j), d));
  }
}

RECSYS_AVX2 void Q4_0Avx2(const uint8_t* x, int64_t blocks, float* y) {
  const __m256i low = _mm256_set1_epi32(0x0F), eight = _mm256_set1_epi32(8);
  for (int64_t i = 0; i < blocks; ++i, x += 18, y += 32) {
    const __m256 d = _mm256_set1_ps(Half(x));
    const uint8_t* qs = x + 2;
    for (int j = 0; j < 16; j += 8) {
      const __m256i b = Uint8x8(qs + j);
      const __m256 lo = Float(_mm256_sub_epi32(_mm256_and_si256(b, low), eight));
      const __m256 hi = Float(_mm256_sub_epi32(_mm256_srli_epi32(b, 4), eight));
      _mm256_storeu_ps(y + j, _mm256_mul_ps(lo, d));
      _mm256_storeu_ps(y + j + 16, _mm256_mul_ps(hi, d));
    }
  }
}

RECSYS_AVX2 void Q5_0Avx2(const uint8_t* x, int64_t blocks, float* y) {
  const __m256i low = _mm256_set1_epi32(0x0F), one = _mm256_set1_epi32(1),
                sixteen = _mm256_set1_epi32(16), lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  for (int64_t i = 0; i < blocks; ++i, x += 22, y += 32) {
    const __m256 d = _mm256_set1_ps(Half(x));
    const uint32_t qh = x[2] | (x[3] << 8) | (x[4] << 16) | (static_cast<uint32_t>(x[5]) << 24);
    const __m256i bits = _mm256_set1_epi32(static_cast<int>(qh));
    const uint8_t* qs = x + 6;
    for (int j = 0; j < 16;
         j += 8) {  // bit j of qh is element j's fifth bit, bit j + 16 element j + 16's
      const __m256i b = Uint8x8(qs + j);
      const __m256i at = _mm256_add_epi32(lanes, _mm256_set1_epi32(j));
      const __m256i h0 = _mm256_slli_epi32(_mm256_and_si256(_mm256_srlv_epi32(bits, at), one), 4);
      const __m256i h1 = _mm256_slli_epi32(
          _mm256_and_si256(_mm256_srlv_epi32(bits, _mm256_add_epi32(at, sixteen)), one), 4);
      const __m256i x0 = _mm256_sub_epi32(_mm256_or_si256(_mm256_and_si256(b, low), h0), sixteen);
      const __m256i x1 = _mm256_sub_epi32(_mm256_or_si256(_mm256_srli_epi32(b, 4), h1), sixteen);
      _mm256_storeu_ps(y + j, _mm256_mul_ps(Float(x0), d));
      _mm256_storeu_ps(y + j + 16, _mm256_mul_ps(Float(x1), d));
    }
  }
}

RECSYS_AVX2 void Q4_KAvx2(const uint8_t* x, int64_t blocks, float* y) {
  const __m256i low = _mm256_set1_epi32(0x0F);
  for (int64_t i = 0; i < blocks; ++i, x += 144) {
    const float d = Half(x);
    const float min = Half(x + 2);
    const uint8_t* scales = x + 4;
    const uint8_t* q = x + 16;
    for (int is = 0; is < 8; is += 2, q += 32) {
      uint8_t sc, m;
      ScaleMinK4(is, scales, &sc, &m);
      const __m256 d1 = _mm256_set1_ps(d * sc), m1 = _mm256_set1_ps(min * m);
      ScaleMinK4(is + 1, scales, &sc, &m);
      const __m256 d2 = _mm256_set1_ps(d * sc), m2 = _mm256_set1_ps(min * m);
      for (int l = 0; l < 32; l += 8) {
        const __m256i b = Uint8x8(q + l);
        const __m256 lo = Float(_mm256_and_si256(b, low));
        const __m256 hi = Float(_mm256_srli_epi32(b, 4));
        _mm256_storeu_ps(y + l, _mm256_sub_ps(_mm256_mul_ps(d1, lo), m1));
        _mm256_storeu_ps(y + 32 + l, _mm256_sub_ps(_mm256_mul_ps(d2, hi), m2));
      }
      y += 64;
    }
  }
}

RECSYS_AVX2 void Q6_KAvx2(const uint8_t* x, int64_t blocks, float* y) {
  const __m256i low = _mm256_set1_epi32(0x0F), two = _mm256_set1_epi32(3),
                bias = _mm256_set1_epi32(32);
  for (int64_t i = 0; i < blocks; ++i, x += 210) {
    const uint8_t* ql = x;
    const uint8_t* qh = x + 128;
    const auto* sc = reinterpret_cast<const int8_t*>(x + 192);
    const float d = Half(x + 208);
    for (int n = 0; n < 256; n += 128, y += 128, ql += 64, qh += 32, sc += 8) {
      for (int l = 0; l < 32; l += 8) {
        const int is = l / 16;
        const __m256i a = Uint8x8(ql + l), b = Uint8x8(ql + l + 32), h = Uint8x8(qh + l);
        const __m256i q1 =
            _mm256_sub_epi32(_mm256_or_si256(_mm256_and_si256(a, low),
                                             _mm256_slli_epi32(_mm256_and_si256(h, two), 4)),
                             bias);
        const __m256i q2 = _mm256_sub_epi32(
            _mm256_or_si256(_mm256_and_si256(b, low),
                            _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(h, 2), two), 4)),
            bias);
        const __m256i q3 = _mm256_sub_epi32(
            _mm256_or_si256(_mm256_srli_epi32(a, 4),
                            _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(h, 4), two), 4)),
            bias);
        const __m256i q4 = _mm256_sub_epi32(
            _mm256_or_si256(_mm256_srli_epi32(b, 4),
                            _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(h, 6), two), 4)),
            bias);
        // The portable loop computes (d * sc) * q, left to right.
        _mm256_storeu_ps(y + l, _mm256_mul_ps(_mm256_set1_ps(d * sc[is]), Float(q1)));
        _mm256_storeu_ps(y + l + 32, _mm256_mul_ps(_mm256_set1_ps(d * sc[is + 2]), Float(q2)));
        _mm256_storeu_ps(y + l + 64, _mm256_mul_ps(_mm256_set1_ps(d * sc[is + 4]), Float(q3)));
        _mm256_storeu_ps(y + l + 96, _mm256_mul_ps(_mm256_set1_ps(d * sc[is + 6]), Float(q4)));
      }
    }
  }
}

}  // namespace recsys::llm::internal
