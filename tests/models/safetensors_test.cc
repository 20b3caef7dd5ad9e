#include "models/common/safetensors.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

namespace recsys::models {
namespace {

using ::testing::HasSubstr;

// An 8-byte little-endian header length, the JSON header, then the data.
std::string File(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  uint64_t n = header.size();
  std::memcpy(out.data(), &n, 8);
  return out + header + data;
}

std::string Floats(std::initializer_list<float> v) {
  std::string out(v.size() * 4, '\0');
  std::memcpy(out.data(), std::data(v), out.size());
  return out;
}

TEST(SafetensorsTest, ReadsF32TensorsAndRefusesBrokenHeadersNamingTheTensor) {
  auto ok = TensorFile::FromBytes(
      File(R"({"w":{"dtype":"F32","shape":[2,1],"data_offsets":[0,8]},"__metadata__":{}})",
           Floats({1.5f, -2})),
      "m.safetensors");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_THAT((*ok->Get("w", {2, 1}))->values, ::testing::ElementsAre(1.5f, -2.0f));
  struct Case {
    std::string header, data, message;
  };
  const Case cases[] = {
      {R"({"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", Floats({1, 2}),
       "tensor 'w' has a bad dimension"},
      {R"({"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,8]}})", Floats({1, 2}),
       "tensor 'w' has a bad dimension"},
      {R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})",
       Floats({1, 2}), "tensor 'w' has a bad"},
      {R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}})", Floats({1, 2}),
       "tensor 'w' has a bad byte range"},
      {R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", Floats({1, 2}),
       "tensor 'w' has a bad byte range"},
      {R"({"w":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}})", Floats({1}),
       "tensor 'w' is 'BF16'; only F32"},
      {R"({"w":{"dtype":"F32","shape":2,"data_offsets":[0,8]}})", Floats({1, 2}),
       "tensor 'w' lacks dtype, shape or data_offsets"},
      {R"({"w":7})", "", "tensor 'w' is not an object"},
      {R"({"w":)", "", "bad header"},
  };
  for (const Case& c : cases) {
    const auto file = TensorFile::FromBytes(File(c.header, c.data), "m.safetensors");
    ASSERT_FALSE(file.ok()) << c.header;
    EXPECT_THAT(std::string(file.status().message()), HasSubstr(c.message)) << c.header;
  }
  std::string truncated = File(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", "");
  EXPECT_EQ(TensorFile::FromBytes(truncated, "t").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(TensorFile::FromBytes("abc", "t").status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace recsys::models
