#include "models/llm/gguf/dequantize.h"

#include <atomic>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "models/llm/gguf/dequantize_internal.h"
#include "models/llm/gguf/ggml_types.h"
#include "recsys/kernels/gemm.h"

namespace recsys::llm {
namespace {

using kernels::HalfToFloat;
using kernels::HalfType;

uint16_t Load16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }

float Fp16(const uint8_t* p) { return HalfToFloat(Load16(p), HalfType::kFloat16); }

// Block layouts: ggml-common.h (block_q8_0, block_q4_0, block_q5_0, block_q4_K, block_q6_K).

void Q8_0(const uint8_t* x, int64_t blocks, float* y) {
  for (int64_t i = 0; i < blocks; ++i, x += 34, y += 32) {
    const float d = Fp16(x);
    const auto* qs = reinterpret_cast<const int8_t*>(x + 2);
    for (int j = 0; j < 32; ++j) y[j] = qs[j] * d;
  }
}

void Q4_0(const uint8_t* x, int64_t blocks, float* y) {
  for (int64_t i = 0; i < blocks; ++i, x += 18, y += 32) {
    const float d = Fp16(x);
    const uint8_t* qs = x + 2;
    for (int j = 0; j < 16; ++j) {  // low nibbles are elements 0-15, high ones 16-31
      y[j] = ((qs[j] & 0x0F) - 8) * d;
      y[j + 16] = ((qs[j] >> 4) - 8) * d;
    }
  }
}

void Q5_0(const uint8_t* x, int64_t blocks, float* y) {
  for (int64_t i = 0; i < blocks; ++i, x += 22, y += 32) {
    const float d = Fp16(x);
    const uint32_t qh = x[2] | (x[3] << 8) | (x[4] << 16) | (static_cast<uint32_t>(x[5]) << 24);
    const uint8_t* qs = x + 6;
    for (int j = 0; j < 16;
         ++j) {  // bit j of qh is element j's fifth bit, bit j + 16 element j + 16's
      const int x0 = ((qs[j] & 0x0F) | (((qh >> j) << 4) & 0x10)) - 16;
      const int x1 = ((qs[j] >> 4) | ((qh >> (j + 12)) & 0x10)) - 16;
      y[j] = x0 * d;
      y[j + 16] = x1 * d;
    }
  }
}

using internal::ScaleMinK4;

void Q4_K(const uint8_t* x, int64_t blocks, float* y) {
  for (int64_t i = 0; i < blocks; ++i, x += 144) {
    const float d = Fp16(x);
    const float min = Fp16(x + 2);
    const uint8_t* scales = x + 4;
    const uint8_t* q = x + 16;
    for (int is = 0; is < 8; is += 2, q += 32) {  // 64 elements: 32 low nibbles, 32 high
      uint8_t sc, m;
      ScaleMinK4(is, scales, &sc, &m);
      const float d1 = d * sc, m1 = min * m;
      ScaleMinK4(is + 1, scales, &sc, &m);
      const float d2 = d * sc, m2 = min * m;
      for (int l = 0; l < 32; ++l) *y++ = d1 * (q[l] & 0xF) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * (q[l] >> 4) - m2;
    }
  }
}

void Q6_K(const uint8_t* x, int64_t blocks, float* y) {
  for (int64_t i = 0; i < blocks; ++i, x += 210) {
    const uint8_t* ql = x;
    const uint8_t* qh = x + 128;
    const auto* sc = reinterpret_cast<const int8_t*>(x + 192);
    const float d = Fp16(x + 208);
    for (int n = 0; n < 256; n += 128, y += 128, ql += 64, qh += 32, sc += 8) {
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        y[l] = d * sc[is] * q1;
        y[l + 32] = d * sc[is + 2] * q2;
        y[l + 64] = d * sc[is + 4] * q3;
        y[l + 96] = d * sc[is + 6] * q4;
      }
    }
  }
}

std::atomic<bool>& PortableOnly() {
  static std::atomic<bool> portable{false};
  return portable;
}

bool UseAvx2() {
  static const bool has = internal::HasAvx2();
  return has && !PortableOnly().load(std::memory_order_relaxed);
}

}  // namespace

namespace internal {

bool HasAvx2() { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c"); }

}  // namespace internal

void UsePortableDequantization(bool portable) {
  PortableOnly().store(portable, std::memory_order_relaxed);
}

absl::Status DequantizeRow(uint32_t type, const void* src, int64_t elems, float* dst) {
  const GgmlTypeInfo* info = FindGgmlType(type);
  if (info == nullptr || !info->dequantizable) {
    return absl::UnimplementedError(
        absl::StrCat("tensor type ", GgmlTypeName(type),
                     " is not read (F32, F16, BF16, Q8_0, Q4_0, Q5_0, Q4_K, Q6_K are)"));
  }
  const absl::StatusOr<int64_t> bytes = GgmlRowBytes(type, elems);
  if (!bytes.ok()) return bytes.status();
  const auto* x = static_cast<const uint8_t*>(src);
  const int64_t blocks = elems / info->block_elems;
  const bool fast = UseAvx2();
  switch (static_cast<GgmlType>(type)) {
    case GgmlType::kF32:
      std::memcpy(dst, x, static_cast<size_t>(elems) * sizeof(float));
      break;
    case GgmlType::kF16:
      if (fast) {
        internal::F16Avx2(x, elems, dst);
        break;
      }
      for (int64_t i = 0; i < elems; ++i) dst[i] = Fp16(x + 2 * i);
      break;
    case GgmlType::kBF16:
      for (int64_t i = 0; i < elems; ++i)
        dst[i] = HalfToFloat(Load16(x + 2 * i), HalfType::kBFloat16);
      break;
    case GgmlType::kQ8_0:
      fast ? internal::Q8_0Avx2(x, blocks, dst) : Q8_0(x, blocks, dst);
      break;
    case GgmlType::kQ4_0:
      fast ? internal::Q4_0Avx2(x, blocks, dst) : Q4_0(x, blocks, dst);
      break;
    case GgmlType::kQ5_0:
      fast ? internal::Q5_0Avx2(x, blocks, dst) : Q5_0(x, blocks, dst);
      break;
    case GgmlType::kQ4_K:
      fast ? internal::Q4_KAvx2(x, blocks, dst) : Q4_K(x, blocks, dst);
      break;
    case GgmlType::kQ6_K:
      fast ? internal::Q6_KAvx2(x, blocks, dst) : Q6_K(x, blocks, dst);
      break;
    default:
      return absl::UnimplementedError(absl::StrCat("tensor type ", info->name, " is not read"));
  }
  return absl::OkStatus();
}

}  // namespace recsys::llm
