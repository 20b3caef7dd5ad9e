// ggml's tensor types as GGUF files store them: the block layout of every type ggml defines
// (elements and bytes per block, as in llama.cpp's ggml-common.h), so that a file's tensors
// can be sized and checked whatever their type; dequantize.h expands the ones the runtime reads.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace recsys::llm {

// ggml_type numbers (ggml.h); the names are llama.cpp's.
enum class GgmlType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ8_1 = 9,
  kQ2_K = 10,
  kQ3_K = 11,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kQ8_K = 15,
  kBF16 = 30,
};

struct GgmlTypeInfo {
  const char* name;     // "Q4_K"
  int64_t block_elems;  // elements per block (1 for plain types)
  int64_t block_bytes;  // bytes per block
  bool dequantizable;   // DequantizeRow (dequantize.h) handles it
};

// The layout of type number `type`, or nullptr for a number ggml does not define.
const GgmlTypeInfo* FindGgmlType(uint32_t type);

// "Q4_K", or "type 99" for an unknown number.
std::string GgmlTypeName(uint32_t type);

// Bytes of `elems` consecutive elements of `type`; INVALID_ARGUMENT when `elems` is not a whole
// number of blocks or the type is unknown.
absl::StatusOr<int64_t> GgmlRowBytes(uint32_t type, int64_t elems);

}  // namespace recsys::llm
