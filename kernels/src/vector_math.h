// Small math helpers written so GCC vectorises the loops that call them (no branches, no
// library calls), and the attribute that compiles a hot function for AVX2 + FMA as well as
// the x86-64 baseline, picked at load time (the baseline alone is SSE2, 4 lanes).
#pragma once

#include <cstdint>
#include <cstring>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define RECSYS_VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define RECSYS_VECTOR_CLONES
#endif

namespace recsys::kernels::internal {

// exp(x) for x <= 0 (softmax arguments after subtracting the row max): Cephes' expf
// polynomial after range reduction, relative error ~1e-7. Arguments below -87 (and -inf)
// give exactly 0; NaN stays NaN.
inline float ExpNonPositive(float x) {
  const float clamped = x > -87.0f ? x : -87.0f;
  // n = round(x / ln 2) = floor(t) with t = x / ln 2 + 0.5, without a library call.
  const float t = clamped * 1.44269504088896341f + 0.5f;
  const int32_t ti = static_cast<int32_t>(t);  // truncates towards zero; t in [-125, 0.5]
  const float n = static_cast<float>(ti) - (static_cast<float>(ti) > t ? 1.0f : 0.0f);
  const float r = clamped - n * 0.693359375f + n * 2.12194440e-4f;  // x - n ln 2, two parts
  float y = 1.9875691500e-4f;
  y = y * r + 1.3981999507e-3f;
  y = y * r + 8.3334519073e-3f;
  y = y * r + 4.1665795894e-2f;
  y = y * r + 1.6666665459e-1f;
  y = y * r + 5.0000001201e-1f;
  y = y * r * r + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;  // 2^n, n in [-126, 0]
  float two_n;
  std::memcpy(&two_n, &bits, sizeof(two_n));
  return x > -87.0f ? y * two_n : (x == x ? 0.0f : x);
}

}  // namespace recsys::kernels::internal
