// Argument checks shared by the op entry points: each returns INVALID_ARGUMENT naming the op
// and the field, so a caller sees e.g. "Attention: num_heads (6) must be a multiple of
// num_kv_heads (4)".
#pragma once

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "recsys/kernels/context.h"
#include "recsys/kernels/gemm.h"

namespace recsys::kernels::internal {

inline absl::Status Invalid(const char* op, const char* field, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(op, ": ", field, " ", what));
}

inline absl::Status CheckNonNegative(const char* op, const char* field, int64_t value) {
  if (value < 0) return Invalid(op, field, absl::StrCat("(", value, ") must be >= 0"));
  return absl::OkStatus();
}

inline absl::Status CheckPositive(const char* op, const char* field, int64_t value) {
  if (value <= 0) return Invalid(op, field, absl::StrCat("(", value, ") must be > 0"));
  return absl::OkStatus();
}

// A pointer that must be set whenever the tensor it points to is non-empty.
inline absl::Status CheckPointer(const char* op, const char* field, const void* p,
                                 int64_t elements) {
  if (p == nullptr && elements > 0) return Invalid(op, field, "is null");
  return absl::OkStatus();
}

// Gemm's shape, leading-dimension and pointer checks (op names the caller); *resolved gets
// p with its 0 = dense leading dimensions replaced by the actual ones.
absl::Status CheckGemmShape(const char* op, const GemmParams& p, GemmParams* resolved);

}  // namespace recsys::kernels::internal
