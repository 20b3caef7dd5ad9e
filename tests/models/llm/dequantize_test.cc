#include "models/llm/gguf/dequantize.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>

#include "absl/strings/match.h"
#include "models/llm/gguf/ggml_types.h"
#include "models/llm/gguf/gguf_file.h"

namespace recsys::llm {
namespace {

// tests/models/testdata/gguf/quant-types.gguf (recsys_train.llm.quant_fixture): each type the
// runtime reads, written and dequantised by llama.cpp's gguf-py; $RECSYS_QUANT_FIXTURE names
// another such file (dequantize_fresh_fixture_test makes one with another seed).
TEST(DequantizeTest, MatchesGgufPyBitForBitOnEveryTypeTheRuntimeReads) {
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

TEST(DequantizeTest, RefusesPartialBlocksAndTypesItDoesNotRead) {
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
