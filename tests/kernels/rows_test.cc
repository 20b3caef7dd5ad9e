// The row gathers and broadcasts on the CPU against loops written here, with the bad-argument
// errors that name the field.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "recsys/kernels/rows.h"

namespace recsys::kernels {
namespace {

using ::testing::HasSubstr;

std::vector<float> Iota(int64_t n, float start) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = start + 0.25f * static_cast<float>(i);
  return v;
}

TEST(GatherRowsTest, ScalesAndAddsASecondLookup) {
  const int64_t cols = 7;  // not a multiple of any vector width
  const std::vector<float> table = Iota(5 * cols, -3.0f), pos = Iota(3 * cols, 10.0f);
  const std::vector<int64_t> ids = {4, 0, 4, 2}, pos_ids = {0, 1, 2, 2};
  std::vector<float> out(ids.size() * cols, -1.0f);
  GatherRowsParams p;
  p.table = table.data(), p.table_rows = 5, p.ids = ids.data(), p.out = out.data();
  p.n = 4, p.cols = cols;
  ASSERT_TRUE(GatherRows(Device::Cpu(), p).ok());
  for (int64_t i = 0; i < 4; ++i) {
    for (int64_t e = 0; e < cols; ++e) EXPECT_EQ(out[i * cols + e], table[ids[i] * cols + e]);
  }
  p.scale = 1.5f, p.add = pos.data(), p.add_rows = 3, p.add_ids = pos_ids.data();
  ASSERT_TRUE(GatherRows(Device::Cpu(), p).ok());
  for (int64_t i = 0; i < 4; ++i) {
    for (int64_t e = 0; e < cols; ++e) {
      EXPECT_FLOAT_EQ(out[i * cols + e],
                      table[ids[i] * cols + e] * 1.5f + pos[pos_ids[i] * cols + e]);
    }
  }
}

TEST(GatherRowsTest, RefusesIdsOutsideTheTablesAndEmptyCallsDoNothing) {
  const std::vector<float> table(6, 1.0f);
  std::vector<float> out(6, 0.0f);
  std::vector<int64_t> ids = {0, 3};
  GatherRowsParams p;
  p.table = table.data(), p.table_rows = 3, p.ids = ids.data(), p.out = out.data();
  p.n = 2, p.cols = 2;
  absl::Status s = GatherRows(Device::Cpu(), p);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("ids[1] = 3 is outside [0, 3)"));
  ids[1] = -1;
  EXPECT_THAT(GatherRows(Device::Cpu(), p).message(), HasSubstr("ids[1] = -1"));
  ids[1] = 2;
  const std::vector<int64_t> add_ids = {1, 1};
  p.add = table.data(), p.add_rows = 1, p.add_ids = add_ids.data();
  EXPECT_THAT(GatherRows(Device::Cpu(), p).message(), HasSubstr("add_ids[0] = 1"));
  p.add_ids = nullptr;
  EXPECT_THAT(GatherRows(Device::Cpu(), p).message(), HasSubstr("add_ids"));
  p.add = nullptr;
  p.n = -1;
  EXPECT_THAT(GatherRows(Device::Cpu(), p).message(), HasSubstr("GatherRows: n "));
  GatherRowsParams empty;  // n = 0: nothing to read, null pointers are fine
  EXPECT_TRUE(GatherRows(Device::Cpu(), empty).ok());
}

TEST(RowsTest, AddBiasAddInPlaceAndZeroRows) {
  const int64_t rows = 3, cols = 5;
  std::vector<float> x = Iota(rows * cols, 0.0f);
  const std::vector<float> original = x, bias = Iota(cols, -1.0f);
  ASSERT_TRUE(AddBias(Device::Cpu(), x.data(), bias.data(), rows, cols).ok());
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t j = 0; j < cols; ++j) EXPECT_EQ(x[r * cols + j], original[r * cols + j] + bias[j]);
  }
  std::vector<float> y = x;
  ASSERT_TRUE(AddInPlace(Device::Cpu(), y.data(), original.data(), rows * cols).ok());
  for (size_t i = 0; i < y.size(); ++i) EXPECT_EQ(y[i], x[i] + original[i]);
  ASSERT_TRUE(AddInPlace(Device::Cpu(), x.data(), x.data(), rows * cols).ok());  // y == x
  for (size_t i = 0; i < x.size(); ++i) EXPECT_EQ(x[i], 2.0f * y[i] - 2.0f * original[i]);
  const std::vector<uint8_t> keep = {1, 0, 1};
  ASSERT_TRUE(ZeroRows(Device::Cpu(), y.data(), keep.data(), rows, cols).ok());
  for (int64_t j = 0; j < cols; ++j) {
    EXPECT_NE(y[j], 0.0f);
    EXPECT_EQ(y[cols + j], 0.0f);
    EXPECT_NE(y[2 * cols + j], 0.0f);
  }
  EXPECT_THAT(AddBias(Device::Cpu(), x.data(), nullptr, rows, cols).message(), HasSubstr("bias"));
  EXPECT_THAT(ZeroRows(Device::Cpu(), x.data(), keep.data(), -2, cols).message(),
              HasSubstr("rows"));
  EXPECT_THAT(AddInPlace(Device::Cpu(), nullptr, x.data(), 4).message(), HasSubstr("x"));
  EXPECT_TRUE(AddBias(Device::Cpu(), nullptr, nullptr, 0, cols).ok());
}

}  // namespace
}  // namespace recsys::kernels
