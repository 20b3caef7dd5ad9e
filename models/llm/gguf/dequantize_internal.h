// Shared between dequantize.cc and its AVX2 loops (dequantize_avx2.cc).
#pragma once

#include <cstdint>

namespace recsys::llm::internal {

// The 6-bit scale and min of sub-block j of a Q4_K / Q5_K super-block.
inline void ScaleMinK4(int j, const uint8_t* q, uint8_t* d, uint8_t* m) {
  if (j < 4) {
    *d = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *d = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
    *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

// The AVX2 / F16C loops; call only when HasAvx2() says the CPU has them.
bool HasAvx2();
void F16Avx2(const uint8_t* x, int64_t n, float* y);
void Q8_0Avx2(const uint8_t* x, int64_t blocks, float* y);
void Q4_0Avx2(const uint8_t* x, int64_t blocks, float* y);
void Q5_0Avx2(const uint8_t* x, int64_t blocks, float* y);
void Q4_KAvx2(const uint8_t* x, int64_t blocks, float* y);
void Q6_KAvx2(const uint8_t* x, int64_t blocks, float* y);

}  // namespace recsys::llm::internal
