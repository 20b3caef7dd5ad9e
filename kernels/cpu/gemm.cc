#include "recsys/kernels/gemm.h"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "kernels/cuda/cuda_ops.h"
#include "kernels/src/check.h"

namespace recsys::kernels {
namespace {

using internal::CheckNonNegative;
using internal::CheckPointer;
using internal::Invalid;

// OpenBLAS runs on its caller's thread (cpu/blas_threads.cc). Batches of entries up to this
// much work are spread over the OpenMP team entry by entry; a larger single GEMM is split
// into row (or column) panels over the team instead.
constexpr int64_t kSmallGemmWork = int64_t{1} << 18;

// Leading dimensions with the "0 = dense" defaults applied, as checked.
struct Layout {
  int64_t lda = 0, ldb = 0, ldc = 0;
};

// Validates the shape, leading dimensions and (for `matrices` > 0 matrices) the pointers of
// p. `prefix` qualifies field names ("gemm." inside BatchedGemm).
absl::Status CheckGemm(const char* op, const std::string& prefix, const GemmParams& p,
                       int64_t matrices, Layout* layout) {
  const auto field = [&prefix](const char* name) { return prefix + name; };
  for (const auto& [name, value] : {std::pair<const char*, int64_t>{"m", p.m},
                                    {"n", p.n},
                                    {"k", p.k},
                                    {"lda", p.lda},
                                    {"ldb", p.ldb},
                                    {"ldc", p.ldc}}) {
    RECSYS_RETURN_IF_ERROR(CheckNonNegative(op, field(name).c_str(), value));
  }
  // Row length of each matrix as stored.
  const int64_t cols_a = p.transpose_a ? p.m : p.k;
  const int64_t cols_b = p.transpose_b ? p.k : p.n;
  const struct {
    const char* name;
    const char* what;
    int64_t ld, cols;
  } lds[] = {{"lda", "A", p.lda, cols_a}, {"ldb", "B", p.ldb, cols_b}, {"ldc", "C", p.ldc, p.n}};
  for (const auto& ld : lds) {
    if (ld.ld != 0 && ld.ld < ld.cols) {
      return Invalid(op, field(ld.name).c_str(),
                     absl::StrCat("(", ld.ld, ") must be >= ", ld.cols, " (the row length of ",
                                  ld.what, " as stored) or 0 for dense"));
    }
  }
  layout->lda = p.lda != 0 ? p.lda : cols_a;
  layout->ldb = p.ldb != 0 ? p.ldb : cols_b;
  layout->ldc = p.ldc != 0 ? p.ldc : p.n;
  // cblas takes blasint (32-bit in this OpenBLAS build).
  constexpr int64_t kMaxBlas = std::numeric_limits<blasint>::max();
  for (const auto& [name, value] : {std::pair<const char*, int64_t>{"m", p.m},
                                    {"n", p.n},
                                    {"k", p.k},
                                    {"lda", layout->lda},
                                    {"ldb", layout->ldb},
                                    {"ldc", layout->ldc}}) {
    if (value > kMaxBlas) {
      return Invalid(op, field(name).c_str(),
                     absl::StrCat("(", value, ") exceeds the BLAS int range (", kMaxBlas, ")"));
    }
  }
  const int64_t any = matrices > 0 ? 1 : 0;
  RECSYS_RETURN_IF_ERROR(CheckPointer(op, field("a").c_str(), p.a, any * p.m * p.k));
  RECSYS_RETURN_IF_ERROR(CheckPointer(op, field("b").c_str(), p.b, any * p.k * p.n));
  return CheckPointer(op, field("c").c_str(), p.c, any * p.m * p.n);
}

// C = beta * C, writing zeros (not 0 * C, which keeps NaN) when beta == 0.
void ScaleC(int64_t m, int64_t n, float beta, float* c, int64_t ldc) {
  if (beta == 1.0f) return;
  for (int64_t i = 0; i < m; ++i) {
    float* row = c + i * ldc;
    if (beta == 0.0f) {
      for (int64_t j = 0; j < n; ++j) row[j] = 0.0f;
    } else {
      for (int64_t j = 0; j < n; ++j) row[j] *= beta;
    }
  }
}

void Sgemm(const GemmParams& p, int64_t m, int64_t n, const float* a, const float* b, float* c,
           const Layout& l) {
  if (m == 1) {  // a matrix-vector product: sgemv reads B once, where sgemm would pack it
    const blasint inc_a = p.transpose_a ? static_cast<blasint>(l.lda) : 1;
    if (p.beta == 0.0f) std::fill(c, c + n, 0.0f);  // C's prior contents may be NaN
    if (p.transpose_b) {                            // c = B a with B stored [n, k]
      cblas_sgemv(CblasRowMajor, CblasNoTrans, static_cast<blasint>(n), static_cast<blasint>(p.k),
                  p.alpha, b, static_cast<blasint>(l.ldb), a, inc_a, p.beta, c, 1);
    } else {  // c = B^T a with B stored [k, n]
      cblas_sgemv(CblasRowMajor, CblasTrans, static_cast<blasint>(p.k), static_cast<blasint>(n),
                  p.alpha, b, static_cast<blasint>(l.ldb), a, inc_a, p.beta, c, 1);
    }
    return;
  }
  cblas_sgemm(CblasRowMajor, p.transpose_a ? CblasTrans : CblasNoTrans,
              p.transpose_b ? CblasTrans : CblasNoTrans, static_cast<blasint>(m),
              static_cast<blasint>(n), static_cast<blasint>(p.k), p.alpha, a,
              static_cast<blasint>(l.lda), b, static_cast<blasint>(l.ldb), p.beta, c,
              static_cast<blasint>(l.ldc));
}

// One checked GEMM. cblas rejects zero sizes (and a k == 0 product must still apply beta),
// so those are handled here. Outside a parallel region, a large product is split into
// panels of C, one per OpenMP thread: rows when m is the larger side, else columns.
void RunGemm(const GemmParams& p, const float* a, const float* b, float* c, const Layout& l) {
  if (p.m == 0 || p.n == 0) return;
  if (p.k == 0) {
    ScaleC(p.m, p.n, p.beta, c, l.ldc);
    return;
  }
  const double work = static_cast<double>(p.m) * static_cast<double>(p.n) *
                      static_cast<double>(p.k);
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  const bool by_rows = p.m >= p.n;
  const int64_t side = by_rows ? p.m : p.n;
  const int64_t panels = std::min<int64_t>(threads, side);
  if (panels < 2 || work <= kSmallGemmWork) {
    Sgemm(p, p.m, p.n, a, b, c, l);
    return;
  }
#pragma omp parallel for schedule(static) num_threads(static_cast<int>(panels))
  for (int64_t t = 0; t < panels; ++t) {
    const int64_t begin = side * t / panels, end = side * (t + 1) / panels;
    if (by_rows) {  // rows [begin, end) of op(A) and C
      Sgemm(p, end - begin, p.n, p.transpose_a ? a + begin : a + begin * l.lda, b,
            c + begin * l.ldc, l);
    } else {  // columns [begin, end) of op(B) and C
      Sgemm(p, p.m, end - begin, a, p.transpose_b ? b + begin * l.ldb : b + begin, c + begin, l);
    }
  }
}

// p + offset, leaving a null pointer (allowed for an empty operand) null rather than
// forming an invalid one.
template <typename T>
T* Advance(T* p, int64_t offset) {
  return p == nullptr ? p : p + offset;
}

// p with its leading dimensions resolved (the CUDA path takes no 0 = dense defaults).
GemmParams WithLayout(const GemmParams& p, const Layout& layout) {
  GemmParams resolved = p;
  resolved.lda = layout.lda;
  resolved.ldb = layout.ldb;
  resolved.ldc = layout.ldc;
  return resolved;
}

}  // namespace

namespace internal {

absl::Status CheckGemmShape(const char* op, const GemmParams& p, GemmParams* resolved) {
  Layout layout;
  RECSYS_RETURN_IF_ERROR(CheckGemm(op, "", p, 1, &layout));
  *resolved = WithLayout(p, layout);
  return absl::OkStatus();
}

}  // namespace internal

absl::Status Gemm(const Device& device, const GemmParams& params) {
  constexpr char kOp[] = "Gemm";
  RECSYS_RETURN_IF_ERROR(CheckDevice(device));
  Layout layout;
  RECSYS_RETURN_IF_ERROR(CheckGemm(kOp, "", params, 1, &layout));
  if (device.backend == Backend::kCuda) return cuda::Gemm(device, WithLayout(params, layout));
  RunGemm(params, params.a, params.b, params.c, layout);
  return absl::OkStatus();
}

absl::Status BatchedGemm(const Device& device, const BatchedGemmParams& params) {
  constexpr char kOp[] = "BatchedGemm";
  RECSYS_RETURN_IF_ERROR(CheckDevice(device));
  const GemmParams& g = params.gemm;
  for (const auto& [name, value] : {std::pair<const char*, int64_t>{"batch", params.batch},
                                    {"stride_a", params.stride_a},
                                    {"stride_b", params.stride_b},
                                    {"stride_c", params.stride_c}}) {
    RECSYS_RETURN_IF_ERROR(CheckNonNegative(kOp, name, value));
  }
  Layout layout;
  RECSYS_RETURN_IF_ERROR(CheckGemm(kOp, "gemm.", g, params.batch, &layout));
  if (params.batch > 1 && params.stride_c == 0) {
    return Invalid(kOp, "stride_c", "(0) must be > 0 when batch > 1: c cannot be broadcast");
  }
  // Entries must not share output elements: they would race and the result would depend on
  // the order of the batch.
  if (params.batch > 1 && g.m > 0 && g.n > 0) {
    const int64_t extent_c = (g.m - 1) * layout.ldc + g.n;
    if (params.stride_c < extent_c) {
      return Invalid(kOp, "stride_c",
                     absl::StrCat("(", params.stride_c, ") must be >= ", extent_c,
                                  " (the extent of one C matrix) when batch > 1"));
    }
  }
  if (device.backend == Backend::kCuda) {
    BatchedGemmParams resolved = params;
    resolved.gemm = WithLayout(g, layout);
    return cuda::BatchedGemm(device, resolved);
  }
  const double work =
      static_cast<double>(g.m) * static_cast<double>(g.n) * static_cast<double>(g.k);
  const bool parallel = params.batch > 1 && work <= kSmallGemmWork;
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t i = 0; i < params.batch; ++i) {
    RunGemm(g, Advance(g.a, i * params.stride_a), Advance(g.b, i * params.stride_b),
            Advance(g.c, i * params.stride_c), layout);
  }
  return absl::OkStatus();
}

}  // namespace recsys::kernels
