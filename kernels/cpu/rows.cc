// CPU row gathers and broadcasts: plain loops the compiler vectorises along the row; rows
// are short (tens to hundreds of floats) and calls are made per model step, so no threads.
#include "recsys/kernels/rows.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "kernels/cuda/cuda_ops.h"
#include "kernels/src/check.h"

namespace recsys::kernels {

using internal::CheckNonNegative;
using internal::CheckPointer;
using internal::Invalid;

namespace {

absl::Status CheckRows(const char* op, float* x, int64_t rows, int64_t cols) {
  RECSYS_RETURN_IF_ERROR(CheckNonNegative(op, "rows", rows));
  RECSYS_RETURN_IF_ERROR(CheckNonNegative(op, "cols", cols));
  int64_t n = 0;
  if (__builtin_mul_overflow(rows, cols, &n)) return Invalid(op, "rows", "* cols overflows int64");
  return CheckPointer(op, "x", x, n);
}

absl::Status CheckIds(const char* field, const int64_t* ids, int64_t n, int64_t rows) {
  for (int64_t i = 0; i < n; ++i) {
    if (ids[i] < 0 || ids[i] >= rows) {
      const std::string at = absl::StrCat(field, "[", i, "]");
      return Invalid("GatherRows", at.c_str(),
                     absl::StrCat("= ", ids[i], " is outside [0, ", rows, ")"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status GatherRows(const Device& device, const GatherRowsParams& params) {
  constexpr const char* kOp = "GatherRows";
  const GatherRowsParams& p = params;
  RECSYS_RETURN_IF_ERROR(CheckDevice(device));
  for (auto [field, value] : {std::pair{"n", p.n}, std::pair{"cols", p.cols},
                              std::pair{"table_rows", p.table_rows}}) {
    RECSYS_RETURN_IF_ERROR(CheckNonNegative(kOp, field, value));
  }
  int64_t out_elems = 0;
  if (__builtin_mul_overflow(p.n, p.cols, &out_elems)) {
    return Invalid(kOp, "n", "* cols overflows int64");
  }
  if (out_elems == 0) return absl::OkStatus();
  if (!std::isfinite(p.scale)) return Invalid(kOp, "scale", "must be finite");
  RECSYS_RETURN_IF_ERROR(CheckPointer(kOp, "table", p.table, 1));
  RECSYS_RETURN_IF_ERROR(CheckPointer(kOp, "ids", p.ids, p.n));
  RECSYS_RETURN_IF_ERROR(CheckPointer(kOp, "out", p.out, out_elems));
  if (p.add != nullptr) {
    RECSYS_RETURN_IF_ERROR(CheckNonNegative(kOp, "add_rows", p.add_rows));
    RECSYS_RETURN_IF_ERROR(CheckPointer(kOp, "add_ids", p.add_ids, p.n));
  }
  if (device.backend == Backend::kCuda) return cuda::GatherRows(device, p);
  RECSYS_RETURN_IF_ERROR(CheckIds("ids", p.ids, p.n, p.table_rows));
  if (p.add != nullptr) RECSYS_RETURN_IF_ERROR(CheckIds("add_ids", p.add_ids, p.n, p.add_rows));
  const int64_t d = p.cols;
  for (int64_t i = 0; i < p.n; ++i) {
    const float* t = p.table + p.ids[i] * d;
    float* out = p.out + i * d;
    if (p.add == nullptr) {
      if (p.scale == 1.0f) {
        std::copy_n(t, d, out);
      } else {
        for (int64_t e = 0; e < d; ++e) out[e] = t[e] * p.scale;
      }
    } else {
      const float* a = p.add + p.add_ids[i] * d;
      for (int64_t e = 0; e < d; ++e) out[e] = t[e] * p.scale + a[e];
    }
  }
  return absl::OkStatus();
}

absl::Status AddBias(const Device& device, float* x, const float* bias, int64_t rows,
                     int64_t cols) {
  constexpr const char* kOp = "AddBias";
  RECSYS_RETURN_IF_ERROR(CheckDevice(device));
  RECSYS_RETURN_IF_ERROR(CheckRows(kOp, x, rows, cols));
  RECSYS_RETURN_IF_ERROR(CheckPointer(kOp, "bias", bias, rows > 0 ? cols : 0));
  if (rows == 0 || cols == 0) return absl::OkStatus();
  if (device.backend == Backend::kCuda) return cuda::AddBias(device, x, bias, rows, cols);
  for (int64_t r = 0; r < rows; ++r) {
    float* row = x + r * cols;
    for (int64_t j = 0; j < cols; ++j) row[j] += bias[j];
  }
  return absl::OkStatus();
}

absl::Status AddInPlace(const Device& device, float* x, const float* y, int64_t n) {
  constexpr const char* kOp = "AddInPlace";
  RECSYS_RETURN_IF_ERROR(CheckDevice(device));
  RECSYS_RETURN_IF_ERROR(CheckNonNegative(kOp, "n", n));
  RECSYS_RETURN_IF_ERROR(CheckPointer(kOp, "x", x, n));
  RECSYS_RETURN_IF_ERROR(CheckPointer(kOp, "y", y, n));
  if (n == 0) return absl::OkStatus();
  if (device.backend == Backend::kCuda) return cuda::AddInPlace(device, x, y, n);
  for (int64_t i = 0; i < n; ++i) x[i] += y[i];
  return absl::OkStatus();
}

absl::Status ZeroRows(const Device& device, float* x, const uint8_t* keep, int64_t rows,
                      int64_t cols) {
  constexpr const char* kOp = "ZeroRows";
  RECSYS_RETURN_IF_ERROR(CheckDevice(device));
  RECSYS_RETURN_IF_ERROR(CheckRows(kOp, x, rows, cols));
  RECSYS_RETURN_IF_ERROR(CheckPointer(kOp, "keep", keep, rows));
  if (rows == 0 || cols == 0) return absl::OkStatus();
  if (device.backend == Backend::kCuda) return cuda::ZeroRows(device, x, keep, rows, cols);
  for (int64_t r = 0; r < rows; ++r) {
    if (keep[r] == 0) std::fill_n(x + r * cols, cols, 0.0f);
  }
  return absl::OkStatus();
}

}  // namespace recsys::kernels
