#include "models/llm/gguf/dequantize.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "models/llm/gguf/ggml_types.h"
#include "models/llm/gguf/gguf_file.h"

namespace recsys::llm {
namespace {

// tests/models/testdata/gguf/quant-types.gguf (recsys_train.llm.quant_fixture): each type the
// runtime reads, written and dequantised by llama.cpp's gguf-py; $RECSYS_QUANT_FIXTURE names
// another such file (dequantize_fresh_fixture_test makes one with another seed).
// Run with the CPU's fast loops (AVX2 where it has them) and with the portable ones.
class DequantizeTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override { UsePortableDequantization(GetParam()); }
  void TearDown() override { UsePortableDequantization(false); }
};

TEST_P(DequantizeTest, MatchesGgufPyBitForBitOnEveryTypeTheRuntimeReads) {
  const char* fresh = std::getenv("RECSYS_QUANT_FIXTURE");
  auto file = GgufFile::Open(fresh != nullptr ? std::string(fresh)
                                              : RECSYS_TESTDATA_DIR "/gguf/quant-types.gguf");
  ASSERT_TRUE(file.ok()) << file.status();
  std::vector<std::string> seen;
  for (const GgufTensor& t : (*file)->tensors()) {
    const std::string name(t.name);
    if (absl::EndsWith(name, ".expected")) continue;
    SCOPED_TRACE(name);
    seen.push_back(GgmlTypeName(t.type));
    const GgufTensor* expected = (*file)->FindTensor(name + ".expected");
    ASSERT_NE(expected, nullptr);
    ASSERT_EQ(expected->type, 0u);
    ASSERT_EQ(expected->elements, t.elements);
    ASSERT_EQ(t.dims.size(), 2u);
    const int64_t cols = t.dims[0];
    const int64_t row_bytes = *GgmlRowBytes(t.type, cols);
    std::vector<float> want(t.elements), got(t.elements, -1.f);
    std::memcpy(want.data(), expected->data, want.size() * sizeof(float));
    for (int64_t r = 0; r < t.dims[1]; ++r) {  // row by row, as the runtime reads them
      ASSERT_TRUE(DequantizeRow(t.type, t.data + r * row_bytes, cols, got.data() + r * cols).ok());
    }
    int mismatches = 0;
    for (int64_t i = 0; i < t.elements; ++i) {
      ASSERT_TRUE(std::isfinite(want[i])) << i;
      if (std::memcmp(&want[i], &got[i], sizeof(float)) != 0 && ++mismatches <= 5) {
        ADD_FAILURE() << "element " << i << ": gguf-py " << want[i] << ", ours " << got[i];
      }
    }
    EXPECT_EQ(mismatches, 0);
  }
  EXPECT_THAT(seen, ::testing::UnorderedElementsAre("F32", "F16", "BF16", "Q8_0", "Q4_0", "Q5_0",
                                                    "Q4_K", "Q6_K"));
}

INSTANTIATE_TEST_SUITE_P(Loops, DequantizeTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Portable" : "Fast";
                         });

// Random bytes reach every quant value and scale bit pattern (NaN and infinite scales too):
// the fast loops give the portable loops' bits.
TEST(DequantizeLoopsTest, FastAndPortableLoopsAgreeOnRandomBlocks) {
  std::mt19937 rng(7);
  for (const auto& [type, cols] : std::vector<std::pair<uint32_t, int64_t>>{
           {1, 1000}, {8, 4096}, {2, 4096}, {6, 4096}, {12, 4096}, {14, 4096}}) {
    // F16, Q8_0, Q4_0, Q5_0, Q4_K, Q6_K
    SCOPED_TRACE(GgmlTypeName(type));
    std::vector<uint8_t> bytes(static_cast<size_t>(*GgmlRowBytes(type, cols)));
    for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng());
    std::vector<float> fast(cols), portable(cols);
    UsePortableDequantization(false);
    ASSERT_TRUE(DequantizeRow(type, bytes.data(), cols, fast.data()).ok());
    UsePortableDequantization(true);
    ASSERT_TRUE(DequantizeRow(type, bytes.data(), cols, portable.data()).ok());
    UsePortableDequantization(false);
    int mismatches = 0;
    for (int64_t i = 0; i < cols; ++i) {
      const bool same = std::memcmp(&fast[i], &portable[i], sizeof(float)) == 0 ||
                        (std::isnan(fast[i]) && std::isnan(portable[i]));
      if (!same && ++mismatches <= 5) {
        ADD_FAILURE() << "element " << i << ": fast " << fast[i] << ", portable " << portable[i];
      }
    }
    EXPECT_EQ(mismatches, 0);
  }
}

TEST(DequantizeErrorsTest, RefusesPartialBlocksAndTypesItDoesNotRead) {
  std::vector<uint8_t> block(210, 0);
  std::vector<float> out(256);
  EXPECT_EQ(DequantizeRow(14, block.data(), 100, out.data()).code(),
            absl::StatusCode::kInvalidArgument);
  const absl::Status s = DequantizeRow(13, block.data(), 256, out.data());  // Q5_K
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("tensor type Q5_K is not read"));
  EXPECT_EQ(DequantizeRow(77, block.data(), 1, out.data()).code(),
            absl::StatusCode::kUnimplemented);
}

}  // namespace
}  // namespace recsys::llm
