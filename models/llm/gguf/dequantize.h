// Expansion of GGUF tensor data into floats, exactly as llama.cpp's dequantize_row_* (checked
// against gguf-py's numpy dequantisation in tests/models/llm): F32, F16, BF16, Q8_0, Q4_0,
// Q5_0, Q4_K and Q6_K, the types of the F16, Q8_0 and Q4_K_M files of small instruct models
// (Q4_K_M's Q6_K tensors and its Q5_0 / Q8_0 fall-backs for rows not a multiple of 256).
#pragma once

#include <cstdint>

#include "absl/status/status.h"

namespace recsys::llm {

// Expands `elems` elements of ggml type `type` at `src` (whole blocks) into `dst`.
// INVALID_ARGUMENT when `elems` is not a whole number of blocks; UNIMPLEMENTED for a type the
// runtime does not read.
absl::Status DequantizeRow(uint32_t type, const void* src, int64_t elems, float* dst);

// F16, Q8_0, Q4_0, Q5_0, Q4_K and Q6_K have AVX2 / F16C loops, used when the CPU has them; both
// give the same bits. true forces the portable loops (tests compare the two).
void UsePortableDequantization(bool portable);

}  // namespace recsys::llm
