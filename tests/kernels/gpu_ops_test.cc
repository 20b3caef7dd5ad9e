// Label gpu: the CUDA GEMMs, elementwise ops and memory helpers against the CPU path on the
// same inputs. Skips without a CUDA device.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>
#include <vector>

#include "recsys/kernels/elementwise.h"
#include "recsys/kernels/gemm.h"
#include "recsys/kernels/rows.h"
#include "tests/kernels/gpu_test_util.h"

namespace recsys::kernels::testing {
namespace {

using ::testing::HasSubstr;

class GpuOpsTest : public GpuTest {};

TEST_F(GpuOpsTest, BufferRoundTrip) {
  const std::vector<float> host = RandomFloats(1001, 1);
  DeviceBuffer buffer = Upload(host);
  EXPECT_EQ(buffer.size_bytes(), static_cast<int64_t>(host.size() * sizeof(float)));
  EXPECT_EQ(Download<float>(buffer, host.size()), host);
  EXPECT_TRUE(DeviceBuffer::Allocate(gpu_, 0).ok());
}

TEST_F(GpuOpsTest, GemmMatchesCpuForEveryTransposeAndPaddedStrides) {
  const int64_t m = 37, n = 53, k = 71, pad = 3;
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      GemmParams p;
      p.transpose_a = ta;
      p.transpose_b = tb;
      p.m = m, p.n = n, p.k = k;
      p.lda = (ta ? m : k) + pad;
      p.ldb = (tb ? k : n) + pad;
      p.ldc = n + pad;
      p.alpha = 0.75f;
      p.beta = 0.5f;
      const std::vector<float> a = RandomFloats((ta ? k : m) * p.lda, 2);
      const std::vector<float> b = RandomFloats((tb ? n : k) * p.ldb, 3);
      std::vector<float> c = RandomFloats(m * p.ldc, 4);
      DeviceBuffer da = Upload(a), db = Upload(b), dc = Upload(c);
      GemmParams g = p;
      g.a = da.as<float>(), g.b = db.as<float>(), g.c = dc.as<float>();
      ASSERT_TRUE(Gemm(gpu_, g).ok());
      p.a = a.data(), p.b = b.data(), p.c = c.data();
      ASSERT_TRUE(Gemm(cpu_, p).ok());
      ExpectNear(Download<float>(dc, c.size()), c, 1e-4f, 1e-4f, "c");
    }
  }
}

TEST_F(GpuOpsTest, BatchedGemmBroadcastsB) {
  BatchedGemmParams p;
  p.gemm.m = 9, p.gemm.n = 17, p.gemm.k = 33;
  p.batch = 5;
  p.stride_a = 9 * 33, p.stride_b = 0, p.stride_c = 9 * 17;
  const std::vector<float> a = RandomFloats(5 * 9 * 33, 5), b = RandomFloats(33 * 17, 6);
  std::vector<float> c(5 * 9 * 17, std::numeric_limits<float>::quiet_NaN());
  DeviceBuffer da = Upload(a), db = Upload(b), dc = Upload(c);
  BatchedGemmParams g = p;
  g.gemm.a = da.as<float>(), g.gemm.b = db.as<float>(), g.gemm.c = dc.as<float>();
  ASSERT_TRUE(BatchedGemm(gpu_, g).ok());
  p.gemm.a = a.data(), p.gemm.b = b.data(), p.gemm.c = c.data();
  ASSERT_TRUE(BatchedGemm(cpu_, p).ok());  // beta 0: the NaN in C must not survive
  ExpectNear(Download<float>(dc, c.size()), c, 1e-4f, 1e-4f, "c");
}

TEST_F(GpuOpsTest, MixedGemmMatchesCpuForBothHalfTypes) {
  for (HalfType type : {HalfType::kFloat16, HalfType::kBFloat16}) {
    const int64_t m = 45, n = 29, k = 130;
    std::vector<uint16_t> a(m * k), b(n * k);
    const std::vector<float> fa = RandomFloats(a.size(), 7), fb = RandomFloats(b.size(), 8);
    for (size_t i = 0; i < a.size(); ++i) a[i] = FloatToHalf(fa[i], type);
    for (size_t i = 0; i < b.size(); ++i) b[i] = FloatToHalf(fb[i], type);
    MixedGemmParams p;
    p.type = type;
    p.shape.m = m, p.shape.n = n, p.shape.k = k;
    p.shape.transpose_b = true;
    std::vector<float> c(m * n);
    DeviceBuffer da = Upload(a), db = Upload(b), dc = Upload(c);
    MixedGemmParams g = p;
    g.a = da.as<uint16_t>(), g.b = db.as<uint16_t>(), g.shape.c = dc.as<float>();
    ASSERT_TRUE(MixedGemm(gpu_, g).ok());
    p.a = a.data(), p.b = b.data(), p.shape.c = c.data();
    ASSERT_TRUE(MixedGemm(cpu_, p).ok());
    ExpectNear(Download<float>(dc, c.size()), c, 1e-3f, 1e-3f, "c");
  }
}

TEST_F(GpuOpsTest, RowOpsMatchCpuIncludingMaskedRows) {
  const int64_t rows = 67, cols = 301;
  std::vector<float> x = RandomFloats(rows * cols, 9, -4.0f, 4.0f);
  const float inf = std::numeric_limits<float>::infinity();
  for (int64_t j = 0; j < cols; ++j) x[5 * cols + j] = -inf;  // fully masked row
  for (int64_t j = 0; j < cols; j += 3) x[6 * cols + j] = -inf;
  std::vector<float> x_norm = RandomFloats(rows * cols, 10, 90.0f, 110.0f);  // large mean
  const std::vector<float> gamma = RandomFloats(cols, 11), beta = RandomFloats(cols, 12);
  DeviceBuffer dx = Upload(x), dn = Upload(x_norm), dg = Upload(gamma), db = Upload(beta);
  DeviceBuffer dy = Upload(std::vector<float>(rows * cols));
  std::vector<float> y(rows * cols);

  ASSERT_TRUE(Softmax(gpu_, {dx.as<float>(), dy.as<float>(), rows, cols}).ok());
  ASSERT_TRUE(Softmax(cpu_, {x.data(), y.data(), rows, cols}).ok());
  ExpectNear(Download<float>(dy, y.size()), y, 1e-6f, 1e-5f, "softmax");

  ASSERT_TRUE(LayerNorm(gpu_, {dn.as<float>(), dg.as<float>(), db.as<float>(), dy.as<float>(), rows,
                               cols, 1e-5f})
                  .ok());
  ASSERT_TRUE(
      LayerNorm(cpu_, {x_norm.data(), gamma.data(), beta.data(), y.data(), rows, cols, 1e-5f})
          .ok());
  ExpectNear(Download<float>(dy, y.size()), y, 1e-4f, 1e-4f, "layer_norm");

  ASSERT_TRUE(
      RmsNorm(gpu_, {dn.as<float>(), dg.as<float>(), dy.as<float>(), rows, cols, 1e-6f}).ok());
  ASSERT_TRUE(RmsNorm(cpu_, {x_norm.data(), gamma.data(), y.data(), rows, cols, 1e-6f}).ok());
  ExpectNear(Download<float>(dy, y.size()), y, 1e-5f, 1e-5f, "rms_norm");

  // In place on the device.
  ASSERT_TRUE(Softmax(gpu_, {dx.as<float>(), dx.as<float>(), rows, cols}).ok());
  ASSERT_TRUE(Softmax(cpu_, {x.data(), y.data(), rows, cols}).ok());
  ExpectNear(Download<float>(dx, y.size()), y, 1e-6f, 1e-5f, "softmax in place");
}

TEST_F(GpuOpsTest, ActivationsAndSwiGluMatchCpu) {
  const int64_t n = 100003;
  std::vector<float> x = RandomFloats(n, 13, -30.0f, 30.0f);
  x[0] = 0.0f, x[1] = -100.0f, x[2] = 100.0f;
  const std::vector<float> up = RandomFloats(n, 14);
  DeviceBuffer dx = Upload(x), dup = Upload(up), dy = Upload(std::vector<float>(n));
  std::vector<float> y(n);
  for (Activation a : {Activation::kRelu, Activation::kGeluErf, Activation::kGeluTanh,
                       Activation::kSilu, Activation::kSigmoid}) {
    ASSERT_TRUE(Activate(gpu_, a, dx.as<float>(), dy.as<float>(), n).ok());
    ASSERT_TRUE(Activate(cpu_, a, x.data(), y.data(), n).ok());
    ExpectNear(Download<float>(dy, n), y, 1e-6f, 1e-5f, "activation");
  }
  ASSERT_TRUE(SwiGlu(gpu_, dx.as<float>(), dup.as<float>(), dy.as<float>(), n).ok());
  ASSERT_TRUE(SwiGlu(cpu_, x.data(), up.data(), y.data(), n).ok());
  ExpectNear(Download<float>(dy, n), y, 1e-6f, 1e-5f, "swiglu");
}

TEST_F(GpuOpsTest, RopeMatchesCpuInBothLayoutsAtLargePositions) {
  const int64_t tokens = 37, heads = 3, dim = 64;
  std::vector<int64_t> positions(tokens);
  for (int64_t t = 0; t < tokens; ++t) positions[t] = t * 2731;  // up to ~10^5
  for (bool interleaved : {false, true}) {
    std::vector<float> x = RandomFloats(tokens * heads * dim, 15);
    DeviceBuffer dx = Upload(x), dp = Upload(positions);
    ASSERT_TRUE(
        Rope(gpu_, {dx.as<float>(), dp.as<int64_t>(), tokens, heads, dim, 10000.0f, interleaved})
            .ok());
    ASSERT_TRUE(
        Rope(cpu_, {x.data(), positions.data(), tokens, heads, dim, 10000.0f, interleaved}).ok());
    ExpectNear(Download<float>(dx, x.size()), x, 1e-5f, 1e-5f, "rope");
  }
}

TEST_F(GpuOpsTest, EmptyProductAppliesBetaLikeTheCpu) {
  for (float beta : {0.0f, 0.5f}) {
    GemmParams p;
    p.m = 3, p.n = 4, p.k = 0, p.beta = beta;
    std::vector<float> c(12, beta == 0.0f ? std::numeric_limits<float>::quiet_NaN() : 2.0f);
    DeviceBuffer dc = Upload(c), dummy = Upload(std::vector<float>(1));
    GemmParams g = p;
    g.a = g.b = dummy.as<float>();
    g.c = dc.as<float>();
    ASSERT_TRUE(Gemm(gpu_, g).ok());
    p.c = c.data();
    ASSERT_TRUE(Gemm(cpu_, p).ok());
    EXPECT_EQ(Download<float>(dc, 12), c) << "beta " << beta;
  }
}

TEST_F(GpuOpsTest, LayerNormKeepsASmallSpreadAroundALargeMean) {
  const int64_t rows = 4, cols = 257;
  std::vector<float> x = RandomFloats(rows * cols, 16, -0.01f, 0.01f);
  for (float& v : x) v += 1e4f;
  const std::vector<float> gamma(cols, 1.0f);
  DeviceBuffer dx = Upload(x), dg = Upload(gamma), dy = Upload(std::vector<float>(x.size()));
  std::vector<float> y(x.size());
  ASSERT_TRUE(
      LayerNorm(gpu_, {dx.as<float>(), dg.as<float>(), nullptr, dy.as<float>(), rows, cols, 1e-12f})
          .ok());
  ASSERT_TRUE(LayerNorm(cpu_, {x.data(), gamma.data(), nullptr, y.data(), rows, cols, 1e-12f}).ok());
  ExpectNear(Download<float>(dy, y.size()), y, 1e-3f, 1e-3f, "layer_norm");
}

TEST_F(GpuOpsTest, OpsRunOnANonDefaultStream) {
  absl::StatusOr<void*> stream = CreateStream(gpu_);
  ASSERT_TRUE(stream.ok()) << stream.status();
  const Device on_stream = Device::Cuda(0, *stream);
  const std::vector<float> a = RandomFloats(64 * 32, 17), b = RandomFloats(32 * 48, 18);
  DeviceBuffer da = Upload(a), db = Upload(b), dc = Upload(std::vector<float>(64 * 48));
  GemmParams g;
  g.m = 64, g.n = 48, g.k = 32;
  g.a = da.as<float>(), g.b = db.as<float>(), g.c = dc.as<float>();
  ASSERT_TRUE(Gemm(on_stream, g).ok());
  ASSERT_TRUE(Activate(on_stream, Activation::kSilu, dc.as<float>(), dc.as<float>(), 64 * 48).ok());
  ASSERT_TRUE(Synchronize(on_stream).ok());
  std::vector<float> c(64 * 48);
  GemmParams p = g;
  p.a = a.data(), p.b = b.data(), p.c = c.data();
  ASSERT_TRUE(Gemm(cpu_, p).ok());
  ASSERT_TRUE(Activate(cpu_, Activation::kSilu, c.data(), c.data(), 64 * 48).ok());
  ExpectNear(Download<float>(dc, c.size()), c, 1e-4f, 1e-4f, "gemm + silu on a stream");
  EXPECT_TRUE(DestroyStream(gpu_, *stream).ok());
}

TEST_F(GpuOpsTest, HostPointersAreRefusedNotFaulted) {
  std::vector<float> x(64, 1.0f), y(64);
  const absl::Status status = Activate(gpu_, Activation::kRelu, x.data(), y.data(), 64);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("host memory"));
  // The context is still usable afterwards.
  DeviceBuffer dx = Upload(x);
  EXPECT_TRUE(Activate(gpu_, Activation::kRelu, dx.as<float>(), dx.as<float>(), 64).ok());
  EXPECT_EQ(Download<float>(dx, 64), x);
}

TEST_F(GpuOpsTest, RowOpsMatchCpu) {
  const int64_t rows = 37, cols = 50, table_rows = 11;
  const std::vector<float> table = RandomFloats(table_rows * cols, 21);
  const std::vector<float> pos = RandomFloats(rows * cols, 22);
  std::vector<int64_t> ids(rows), pos_ids(rows);
  for (int64_t i = 0; i < rows; ++i) ids[i] = (i * 7) % table_rows, pos_ids[i] = rows - 1 - i;
  DeviceBuffer dtable = Upload(table), dpos = Upload(pos), dids = Upload(ids);
  DeviceBuffer dpos_ids = Upload(pos_ids);
  std::vector<float> out(rows * cols);
  DeviceBuffer dout = Upload(out);
  GatherRowsParams p;
  p.table_rows = table_rows, p.scale = 2.5f, p.add_rows = rows, p.n = rows, p.cols = cols;
  GatherRowsParams g = p;
  g.table = dtable.as<float>(), g.ids = dids.as<int64_t>(), g.add = dpos.as<float>();
  g.add_ids = dpos_ids.as<int64_t>(), g.out = dout.as<float>();
  ASSERT_TRUE(GatherRows(gpu_, g).ok());
  p.table = table.data(), p.ids = ids.data(), p.add = pos.data(), p.add_ids = pos_ids.data();
  p.out = out.data();
  ASSERT_TRUE(GatherRows(cpu_, p).ok());
  ExpectNear(Download<float>(dout, out.size()), out, 1e-6f, 1e-6f, "gathered");

  const std::vector<float> bias = RandomFloats(cols, 23);
  const std::vector<uint8_t> keep = {1, 0, 0, 1, 1, 0, 1};
  std::vector<uint8_t> keep_rows(rows);
  for (int64_t r = 0; r < rows; ++r) keep_rows[r] = keep[r % keep.size()];
  DeviceBuffer dbias = Upload(bias), dkeep = Upload(keep_rows), dother = Upload(pos);
  ASSERT_TRUE(AddBias(gpu_, dout.as<float>(), dbias.as<float>(), rows, cols).ok());
  ASSERT_TRUE(AddInPlace(gpu_, dout.as<float>(), dother.as<float>(), rows * cols).ok());
  ASSERT_TRUE(ZeroRows(gpu_, dout.as<float>(), dkeep.as<uint8_t>(), rows, cols).ok());
  ASSERT_TRUE(AddBias(cpu_, out.data(), bias.data(), rows, cols).ok());
  ASSERT_TRUE(AddInPlace(cpu_, out.data(), pos.data(), rows * cols).ok());
  ASSERT_TRUE(ZeroRows(cpu_, out.data(), keep_rows.data(), rows, cols).ok());
  ExpectNear(Download<float>(dout, out.size()), out, 1e-6f, 1e-6f, "bias, residual, zeroed");

  ids[3] = table_rows;  // out of range: the CUDA kernel writes a zero row, never reads past
  DeviceBuffer dbad = Upload(ids);
  g.ids = dbad.as<int64_t>();
  ASSERT_TRUE(GatherRows(gpu_, g).ok());
  const std::vector<float> got = Download<float>(dout, out.size());
  for (int64_t e = 0; e < cols; ++e) EXPECT_EQ(got[3 * cols + e], 0.0f);
}

}  // namespace
}  // namespace recsys::kernels::testing
