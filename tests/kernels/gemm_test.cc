#include "recsys/kernels/gemm.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <utility>
#include <vector>

#include "tests/testing/status_matchers.h"

namespace recsys::kernels {
namespace {

using ::recsys::testing::IsOk;
using ::recsys::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
// Written into padding that the kernel must neither read (A, B) nor write (C).
constexpr float kSentinel = 12345.0f;

// One GEMM problem with its own padded storage, filled with fixed-seed random values.
struct Problem {
  GemmParams p;
  std::vector<float> a, b, c;
  int64_t rows_a = 0, rows_b = 0;  // stored rows
  int64_t cols_a = 0, cols_b = 0;  // stored row lengths (without padding)
  int64_t lda = 0, ldb = 0, ldc = 0;

  Problem(bool ta, bool tb, int64_t m, int64_t n, int64_t k, int64_t pad = 0, uint32_t seed = 1) {
    p.transpose_a = ta;
    p.transpose_b = tb;
    p.m = m;
    p.n = n;
    p.k = k;
    rows_a = ta ? k : m;
    cols_a = ta ? m : k;
    rows_b = tb ? n : k;
    cols_b = tb ? k : n;
    lda = cols_a + pad;
    ldb = cols_b + pad;
    ldc = n + pad;
    // 0 asks for dense; padded problems pass the stride explicitly.
    p.lda = pad ? lda : 0;
    p.ldb = pad ? ldb : 0;
    p.ldc = pad ? ldc : 0;
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    // NaN padding in the inputs poisons the result if the kernel reads it.
    a = Fill(rows_a, cols_a, lda, rng, dist, kNaN);
    b = Fill(rows_b, cols_b, ldb, rng, dist, kNaN);
    c = Fill(m, n, ldc, rng, dist, kSentinel);
    p.a = a.data();
    p.b = b.data();
    p.c = c.data();
  }

  static std::vector<float> Fill(int64_t rows, int64_t cols, int64_t ld, std::mt19937& rng,
                                 std::uniform_real_distribution<float>& dist, float pad_value) {
    std::vector<float> x(rows * ld, pad_value);
    for (int64_t i = 0; i < rows; ++i) {
      for (int64_t j = 0; j < cols; ++j) x[i * ld + j] = dist(rng);
    }
    return x;
  }
};

// Double-precision reference of C = alpha * op(A) * op(B) + beta * C on the problem's
// initial C; also returns the magnitude sum per element for a relative tolerance.
void Reference(const Problem& pr, std::vector<double>* want, std::vector<double>* scale) {
  const GemmParams& p = pr.p;
  want->assign(p.m * p.n, 0.0);
  scale->assign(p.m * p.n, 0.0);
  for (int64_t i = 0; i < p.m; ++i) {
    for (int64_t j = 0; j < p.n; ++j) {
      double sum = 0, mag = 0;
      for (int64_t l = 0; l < p.k; ++l) {
        const double x = p.transpose_a ? pr.a[l * pr.lda + i] : pr.a[i * pr.lda + l];
        const double y = p.transpose_b ? pr.b[j * pr.ldb + l] : pr.b[l * pr.ldb + j];
        sum += x * y;
        mag += std::abs(x * y);
      }
      double out = p.alpha * sum;
      mag *= std::abs(p.alpha);
      if (p.beta != 0.0f) {
        out += static_cast<double>(p.beta) * pr.c[i * pr.ldc + j];
        mag += std::abs(p.beta * pr.c[i * pr.ldc + j]);
      }
      (*want)[i * p.n + j] = out;
      (*scale)[i * p.n + j] = mag;
    }
  }
}

// Checks got (laid out with the problem's ldc) against the reference, and that the padding
// of C is untouched.
void ExpectMatches(const Problem& pr, const std::vector<double>& want,
                   const std::vector<double>& scale, const float* got) {
  for (int64_t i = 0; i < pr.p.m; ++i) {
    for (int64_t j = 0; j < pr.ldc; ++j) {
      const float v = got[i * pr.ldc + j];
      if (j >= pr.p.n) {
        ASSERT_EQ(v, kSentinel) << "padding of C written at (" << i << ", " << j << ")";
        continue;
      }
      const double w = want[i * pr.p.n + j];
      ASSERT_NEAR(v, w, 1e-4 * std::max(1.0, scale[i * pr.p.n + j]))
          << "at (" << i << ", " << j << ")";
    }
  }
}

void RunAndCheck(Problem& pr) {
  std::vector<double> want, scale;
  Reference(pr, &want, &scale);
  ASSERT_THAT(Gemm(Device::Cpu(), pr.p), IsOk());
  ExpectMatches(pr, want, scale, pr.c.data());
}

struct Shape {
  int64_t m, n, k;
};

TEST(Gemm, AllTransposeCombinationsAndOddShapes) {
  const Shape shapes[] = {{7, 13, 5}, {1, 13, 5}, {7, 1, 5},    {7, 13, 1},
                          {1, 1, 1},  {1, 1, 9},  {33, 17, 65}, {130, 70, 300}};
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      for (const Shape& s : shapes) {
        SCOPED_TRACE(::testing::Message() << "ta=" << ta << " tb=" << tb << " m=" << s.m
                                          << " n=" << s.n << " k=" << s.k);
        Problem pr(ta, tb, s.m, s.n, s.k);
        RunAndCheck(pr);
      }
    }
  }
}

TEST(Gemm, AlphaAndBeta) {
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      for (const auto& [alpha, beta] :
           {std::pair<float, float>{0.5f, -1.5f}, {-2.0f, 1.0f}, {0.0f, 0.25f}, {3.0f, 0.0f}}) {
        SCOPED_TRACE(::testing::Message()
                     << "ta=" << ta << " tb=" << tb << " alpha=" << alpha << " beta=" << beta);
        Problem pr(ta, tb, 7, 13, 5, 0, 7);
        pr.p.alpha = alpha;
        pr.p.beta = beta;
        RunAndCheck(pr);
      }
    }
  }
}

TEST(Gemm, PaddedLeadingDimensions) {
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      for (int64_t pad : {1, 3, 16}) {
        SCOPED_TRACE(::testing::Message() << "ta=" << ta << " tb=" << tb << " pad=" << pad);
        Problem pr(ta, tb, 7, 13, 5, pad, 11);
        pr.p.alpha = 1.5f;
        pr.p.beta = 0.5f;
        RunAndCheck(pr);
      }
    }
  }
}

// Products above the split threshold run as row panels (m >= n) or column panels (n > m)
// over the OpenMP team: every layout, padded strides, alpha and beta.
TEST(Gemm, LargeProductsSplitIntoPanels) {
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      for (const Shape& s : {Shape{301, 40, 200}, Shape{40, 301, 200}, Shape{3, 1000, 300}}) {
        for (int64_t pad : {0, 5}) {
          SCOPED_TRACE(::testing::Message() << "ta=" << ta << " tb=" << tb << " m=" << s.m
                                            << " n=" << s.n << " k=" << s.k << " pad=" << pad);
          Problem pr(ta, tb, s.m, s.n, s.k, pad, 13);
          pr.p.alpha = 0.75f;
          pr.p.beta = pad ? 0.5f : 0.0f;
          RunAndCheck(pr);
        }
      }
    }
  }
}

TEST(Gemm, BetaZeroOverwritesNaN) {
  for (const Shape& s : {Shape{7, 13, 5}, Shape{1, 1, 1}, Shape{64, 64, 64}}) {
    Problem pr(false, true, s.m, s.n, s.k, 2);
    for (int64_t i = 0; i < s.m; ++i) {
      for (int64_t j = 0; j < s.n; ++j) pr.c[i * pr.ldc + j] = kNaN;
    }
    pr.p.beta = 0.0f;
    RunAndCheck(pr);
  }
}

TEST(Gemm, KZeroScalesC) {
  Problem pr(false, false, 3, 4, 0, 1);
  pr.p.a = nullptr;  // an empty operand may be null
  pr.p.b = nullptr;
  pr.p.beta = 2.0f;
  const std::vector<float> before = pr.c;
  ASSERT_THAT(Gemm(Device::Cpu(), pr.p), IsOk());
  for (int64_t i = 0; i < 3; ++i) {
    for (int64_t j = 0; j < 4; ++j) EXPECT_EQ(pr.c[i * pr.ldc + j], 2.0f * before[i * pr.ldc + j]);
    EXPECT_EQ(pr.c[i * pr.ldc + 4], kSentinel);
  }
  // beta == 0 writes zeros even over NaN.
  for (int64_t i = 0; i < 3; ++i) {
    for (int64_t j = 0; j < 4; ++j) pr.c[i * pr.ldc + j] = kNaN;
  }
  pr.p.beta = 0.0f;
  ASSERT_THAT(Gemm(Device::Cpu(), pr.p), IsOk());
  for (int64_t i = 0; i < 3; ++i) {
    for (int64_t j = 0; j < 4; ++j) EXPECT_EQ(pr.c[i * pr.ldc + j], 0.0f);
  }
}

TEST(Gemm, EmptyOutputIsNoOp) {
  GemmParams p;
  p.m = 0;
  p.n = 5;
  p.k = 3;
  std::vector<float> b(15, 1.0f);
  p.b = b.data();  // a and c are empty and may be null
  EXPECT_THAT(Gemm(Device::Cpu(), p), IsOk());
  p = GemmParams();
  p.m = 4;
  p.n = 0;
  p.k = 3;
  std::vector<float> a(12, 1.0f);
  p.a = a.data();
  EXPECT_THAT(Gemm(Device::Cpu(), p), IsOk());
  EXPECT_THAT(Gemm(Device::Cpu(), GemmParams()), IsOk());
}

TEST(Gemm, InvalidArgumentsNameTheField) {
  Problem pr(false, false, 7, 13, 5);
  GemmParams p = pr.p;
  p.a = nullptr;
  EXPECT_THAT(Gemm(Device::Cpu(), p), StatusIs(kInvalid, HasSubstr("Gemm: a is null")));
  p = pr.p;
  p.c = nullptr;
  EXPECT_THAT(Gemm(Device::Cpu(), p), StatusIs(kInvalid, HasSubstr("Gemm: c is null")));
  p = pr.p;
  p.lda = 4;  // k = 5
  EXPECT_THAT(Gemm(Device::Cpu(), p),
              StatusIs(kInvalid, AllOf(HasSubstr("Gemm: lda (4)"), HasSubstr(">= 5"))));
  p = pr.p;
  p.transpose_b = true;  // B stored as [13, 5]: ldb must be >= 5
  p.ldb = 4;
  EXPECT_THAT(Gemm(Device::Cpu(), p), StatusIs(kInvalid, HasSubstr("ldb (4)")));
  p = pr.p;
  p.ldc = 12;
  EXPECT_THAT(Gemm(Device::Cpu(), p), StatusIs(kInvalid, HasSubstr("ldc (12)")));
  p = pr.p;
  p.ldc = -1;
  EXPECT_THAT(Gemm(Device::Cpu(), p), StatusIs(kInvalid, HasSubstr("ldc (-1) must be >= 0")));
  p = pr.p;
  p.m = -1;
  EXPECT_THAT(Gemm(Device::Cpu(), p), StatusIs(kInvalid, HasSubstr("Gemm: m (-1)")));
  p = pr.p;
  p.k = -2;
  EXPECT_THAT(Gemm(Device::Cpu(), p), StatusIs(kInvalid, HasSubstr("k (-2)")));
  p = pr.p;
  p.n = int64_t{1} << 40;
  p.ldb = p.ldc = 0;
  EXPECT_THAT(Gemm(Device::Cpu(), p), StatusIs(kInvalid, HasSubstr("n (1099511627776)")));
}

TEST(Gemm, CudaDeviceIsRejectedWithoutTouchingC) {
  Problem pr(false, false, 7, 13, 5);
  const std::vector<float> before = pr.c;
  EXPECT_FALSE(Gemm(Device::Cuda(0), pr.p).ok());
  EXPECT_EQ(0, std::memcmp(before.data(), pr.c.data(), before.size() * sizeof(float)));
}

// A batch of `batch` problems laid out with the given strides in shared buffers.
struct Batch {
  BatchedGemmParams bp;
  std::vector<Problem> entries;
  std::vector<float> a, b, c;
};

Batch MakeBatch(bool ta, bool tb, Shape s, int64_t pad, int64_t batch, bool broadcast_a) {
  Batch out;
  for (int64_t i = 0; i < batch; ++i) {
    out.entries.emplace_back(ta, tb, s.m, s.n, s.k, pad, static_cast<uint32_t>(100 + i));
  }
  const Problem& first = out.entries[0];
  const int64_t gap = 3;  // unused floats between entries
  out.bp.gemm = first.p;
  out.bp.batch = batch;
  out.bp.stride_a = broadcast_a ? 0 : first.rows_a * first.lda + gap;
  out.bp.stride_b = first.rows_b * first.ldb + gap;
  out.bp.stride_c = s.m * first.ldc + gap;
  out.a.assign(broadcast_a ? first.a.size() : batch * out.bp.stride_a, kNaN);
  out.b.assign(batch * out.bp.stride_b, kNaN);
  out.c.assign(batch * out.bp.stride_c, kSentinel);
  for (int64_t i = 0; i < batch; ++i) {
    Problem& e = out.entries[i];
    if (broadcast_a) e.a = first.a;  // every entry's reference uses the shared A
    std::copy(e.a.begin(), e.a.end(), out.a.begin() + i * out.bp.stride_a);
    std::copy(e.b.begin(), e.b.end(), out.b.begin() + i * out.bp.stride_b);
    std::copy(e.c.begin(), e.c.end(), out.c.begin() + i * out.bp.stride_c);
  }
  out.bp.gemm.a = out.a.data();
  out.bp.gemm.b = out.b.data();
  out.bp.gemm.c = out.c.data();
  return out;
}

void RunBatchAndCheck(Batch& batch, float alpha, float beta) {
  batch.bp.gemm.alpha = alpha;
  batch.bp.gemm.beta = beta;
  ASSERT_THAT(BatchedGemm(Device::Cpu(), batch.bp), IsOk());
  for (size_t i = 0; i < batch.entries.size(); ++i) {
    SCOPED_TRACE(::testing::Message() << "entry " << i);
    Problem& e = batch.entries[i];
    e.p.alpha = alpha;
    e.p.beta = beta;
    std::vector<double> want, scale;
    Reference(e, &want, &scale);
    ExpectMatches(e, want, scale, batch.c.data() + i * batch.bp.stride_c);
    // The gap after each C entry stays untouched.
    const int64_t end = (i + 1) * batch.bp.stride_c;
    for (int64_t j = end - 3; j < end; ++j) ASSERT_EQ(batch.c[j], kSentinel);
  }
}

TEST(BatchedGemm, StridedEntries) {
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      SCOPED_TRACE(::testing::Message() << "ta=" << ta << " tb=" << tb);
      Batch batch = MakeBatch(ta, tb, {7, 13, 5}, 2, 5, false);
      RunBatchAndCheck(batch, 0.75f, -0.5f);
    }
  }
}

TEST(BatchedGemm, BroadcastA) {
  Batch batch = MakeBatch(false, true, {7, 13, 5}, 0, 4, true);
  RunBatchAndCheck(batch, 1.0f, 0.0f);
}

TEST(BatchedGemm, ManySmallAndFewLargeEntries) {
  Batch small = MakeBatch(true, false, {3, 4, 5}, 1, 67, false);
  RunBatchAndCheck(small, 1.0f, 1.0f);
  Batch large = MakeBatch(false, false, {70, 80, 60}, 0, 3, false);
  RunBatchAndCheck(large, 2.0f, 0.0f);
}

TEST(BatchedGemm, EmptyBatchIsNoOp) {
  BatchedGemmParams bp;
  bp.gemm.m = 4;
  bp.gemm.n = 5;
  bp.gemm.k = 6;
  EXPECT_THAT(BatchedGemm(Device::Cpu(), bp), IsOk());  // batch 0: pointers may be null
}

TEST(BatchedGemm, InvalidArgumentsNameTheField) {
  Batch batch = MakeBatch(false, false, {7, 13, 5}, 0, 2, false);
  BatchedGemmParams bp = batch.bp;
  bp.stride_c = 0;
  EXPECT_THAT(BatchedGemm(Device::Cpu(), bp),
              StatusIs(kInvalid, HasSubstr("BatchedGemm: stride_c (0)")));
  bp = batch.bp;
  bp.stride_c = 7 * 13 - 1;  // entries would overlap
  EXPECT_THAT(BatchedGemm(Device::Cpu(), bp), StatusIs(kInvalid, HasSubstr("stride_c (90)")));
  bp = batch.bp;
  bp.batch = -1;
  EXPECT_THAT(BatchedGemm(Device::Cpu(), bp), StatusIs(kInvalid, HasSubstr("batch (-1)")));
  bp = batch.bp;
  bp.stride_b = -4;
  EXPECT_THAT(BatchedGemm(Device::Cpu(), bp), StatusIs(kInvalid, HasSubstr("stride_b (-4)")));
  bp = batch.bp;
  bp.gemm.lda = 2;
  EXPECT_THAT(BatchedGemm(Device::Cpu(), bp), StatusIs(kInvalid, HasSubstr("gemm.lda (2)")));
  bp = batch.bp;
  bp.gemm.b = nullptr;
  EXPECT_THAT(BatchedGemm(Device::Cpu(), bp), StatusIs(kInvalid, HasSubstr("gemm.b is null")));
  // Even an empty C cannot be broadcast.
  bp = batch.bp;
  bp.gemm.m = 0;
  bp.stride_c = 0;
  EXPECT_THAT(BatchedGemm(Device::Cpu(), bp), StatusIs(kInvalid, HasSubstr("stride_c (0)")));
  // One entry may use stride_c 0.
  bp = batch.bp;
  bp.batch = 1;
  bp.stride_c = 0;
  EXPECT_THAT(BatchedGemm(Device::Cpu(), bp), IsOk());
  EXPECT_FALSE(BatchedGemm(Device::Cuda(0), batch.bp).ok());
}

}  // namespace
}  // namespace recsys::kernels
