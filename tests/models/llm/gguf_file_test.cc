#include "models/llm/gguf/gguf_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "models/llm/gguf/ggml_types.h"
#include "tests/models/llm/gguf_builder.h"
#include "tests/models/llm/llama_cpp_files.h"
#include "tests/testing/temp_dir.h"

namespace recsys::llm {
namespace {

using testing::GgufBuilder;
using ::testing::HasSubstr;

GgufBuilder SmallModel() {
  GgufBuilder b;
  b.String("general.architecture", "llama")
      .U32("llama.block_count", 2)
      .F32("llama.rope.freq_base", 10000.0f)
      .Bool("tokenizer.ggml.add_bos_token", true)
      .U64("big", 1ull << 40)
      .F64("llama.attention.layer_norm_rms_epsilon", 1e-5)
      .Strings("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "\xe2\x96\x81the"})
      .Array<float>("tokenizer.ggml.scores", 6, {0.f, -1.f, -2.f, -3.5f})
      .Array<int32_t>("tokenizer.ggml.token_type", 5, {2, 3, 3, 1})
      .F32Tensor("output_norm.weight", {4}, {1, 2, 3, 4})
      .F32Tensor("token_embd.weight", {4, 3}, std::vector<float>(12, 0.5f));
  return b;
}

absl::StatusOr<std::unique_ptr<GgufFile>> Parse(const std::string& bytes) {
  return GgufFile::FromBytes(bytes, "model.gguf");
}

TEST(GgufFileTest, ReadsMetadataOfEveryKindAndTensorsInPlace) {
  const std::string bytes = SmallModel().Build();
  auto file = Parse(bytes);
  ASSERT_TRUE(file.ok()) << file.status();
  const GgufFile& f = **file;
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.keys().size(), 9u);
  EXPECT_EQ(f.keys()[0], "general.architecture");
  EXPECT_EQ(*f.GetString("general.architecture"), "llama");
  EXPECT_EQ(*f.GetInt("llama.block_count"), 2);
  EXPECT_EQ(*f.GetInt("big"), 1ll << 40);
  EXPECT_FLOAT_EQ(*f.GetFloat("llama.rope.freq_base"), 10000.0f);
  EXPECT_DOUBLE_EQ(*f.GetFloat("llama.attention.layer_norm_rms_epsilon"), 1e-5);
  EXPECT_TRUE(*f.GetBool("tokenizer.ggml.add_bos_token"));
  EXPECT_THAT(*f.GetStrings("tokenizer.ggml.tokens"),
              ::testing::ElementsAre("<unk>", "<s>", "</s>", "\xe2\x96\x81the"));
  EXPECT_THAT(*f.GetFloats("tokenizer.ggml.scores"), ::testing::ElementsAre(0, -1, -2, -3.5));
  EXPECT_THAT(*f.GetInts("tokenizer.ggml.token_type"), ::testing::ElementsAre(2, 3, 3, 1));
  EXPECT_EQ(f.Describe(*f.Find("tokenizer.ggml.scores")), "[f32 x 4] 0, -1, -2, -3.5");

  ASSERT_EQ(f.tensors().size(), 2u);
  const GgufTensor* norm = f.FindTensor("output_norm.weight");
  ASSERT_NE(norm, nullptr);
  EXPECT_EQ(norm->type, 0u);
  EXPECT_EQ(norm->elements, 4);
  EXPECT_EQ(norm->bytes, 16);
  EXPECT_EQ(norm->offset % 32, 0u);
  EXPECT_EQ(norm->offset, f.data_offset());
  float values[4];
  std::memcpy(values, norm->data, sizeof(values));
  EXPECT_THAT(values, ::testing::ElementsAre(1, 2, 3, 4));
  EXPECT_EQ(norm->data, reinterpret_cast<const uint8_t*>(bytes.data()) + norm->offset);
  const GgufTensor* embd = f.FindTensor("token_embd.weight");
  EXPECT_THAT(embd->dims, ::testing::ElementsAre(4, 3));
  EXPECT_EQ(embd->offset, f.data_offset() + 32);  // 16 bytes, padded to the alignment
  EXPECT_EQ(f.FindTensor("nope"), nullptr);
}

TEST(GgufFileTest, MapsAFileFromDisk) {
  recsys::testing::TempDir dir;
  const std::string path = dir.File("m.gguf");
  std::ofstream(path, std::ios::binary) << SmallModel().Build();
  auto file = GgufFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ((*file)->tensors().size(), 2u);
  EXPECT_EQ(*(*file)->GetString("general.architecture"), "llama");
  // Released pages come back from the file when read again.
  const GgufTensor& embd = *(*file)->FindTensor("token_embd.weight");
  (*file)->Release(embd);
  float first = 0;
  std::memcpy(&first, embd.data, sizeof(first));
  EXPECT_EQ(first, 0.5f);
  EXPECT_EQ(GgufFile::Open(dir.File("absent.gguf")).status().code(), absl::StatusCode::kNotFound);
  std::ofstream(dir.File("empty.gguf"), std::ios::binary) << "";
  EXPECT_EQ(GgufFile::Open(dir.File("empty.gguf")).status().code(), absl::StatusCode::kDataLoss);
}

TEST(GgufFileTest, TypedReadsNameTheKeyAndTheStoredType) {
  const std::string bytes = SmallModel().Build();
  const auto file = *Parse(bytes);
  EXPECT_EQ(file->GetString("absent").status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(file->GetString("absent").status().message()),
              HasSubstr("key 'absent' is missing"));
  const absl::Status s = file->GetInt("general.architecture").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("key 'general.architecture' is string; expected an integer"));
  EXPECT_THAT(std::string(file->GetStrings("tokenizer.ggml.scores").status().message()),
              HasSubstr("is array of f32; expected array of string"));
  EXPECT_FALSE(file->GetFloat("llama.block_count").ok());
}

TEST(GgufFileTest, EveryTruncationIsRefusedWithoutACrash) {
  const std::string bytes = SmallModel().Build();
  for (size_t n = 0; n < bytes.size(); ++n) {
    const std::string prefix = bytes.substr(0, n);
    const auto file = Parse(prefix);
    ASSERT_FALSE(file.ok()) << n;
    EXPECT_EQ(file.status().code(), absl::StatusCode::kDataLoss) << n << file.status();
  }
}

struct BrokenCase {
  std::string label;
  std::string bytes;
  absl::StatusCode code;
  std::string message;
};

std::vector<BrokenCase> BrokenFiles() {
  std::vector<BrokenCase> cases;
  std::string not_gguf = SmallModel().Build();
  not_gguf[0] = 'X';
  cases.push_back({"magic", not_gguf, absl::StatusCode::kDataLoss, "not a GGUF file"});
  cases.push_back({"version", GgufBuilder().Version(1).Build(), absl::StatusCode::kInvalidArgument,
                   "GGUF version 1; versions 2 and 3"});
  cases.push_back({"big-endian", GgufBuilder().Version(0x03000000).Build(),
                   absl::StatusCode::kInvalidArgument, "big-endian"});
  cases.push_back({"value type", GgufBuilder().RawValue("k", std::string("\x63\0\0\0", 4)).Build(),
                   absl::StatusCode::kInvalidArgument, "key 'k' has unknown value type 99"});
  cases.push_back({"nested array",
                   GgufBuilder().RawValue("a", std::string("\x09\0\0\0\x09\0\0\0", 8)).Build(),
                   absl::StatusCode::kInvalidArgument, "key 'a' is an array of arrays"});
  cases.push_back({"huge string",
                   GgufBuilder()
                       .RawValue("s", std::string("\x08\0\0\0\xff\xff\xff\xff\xff\xff\xff\x7f", 12))
                       .Build(),
                   absl::StatusCode::kDataLoss, "key 's': a string of 9223372036854775807 bytes"});
  cases.push_back({"huge array",
                   GgufBuilder()
                       .RawValue("t", std::string("\x09\0\0\0\x06\0\0\0\0\0\0\0\0\0\0\x10", 16))
                       .Build(),
                   absl::StatusCode::kDataLoss, "key 't': 1152921504606846976 elements of f32"});
  cases.push_back({"duplicate key", GgufBuilder().U32("k", 1).U32("k", 2).Build(),
                   absl::StatusCode::kDataLoss, "key 'k' appears twice"});
  cases.push_back({"alignment", GgufBuilder().U32("general.alignment", 24).Build(),
                   absl::StatusCode::kInvalidArgument,
                   "'general.alignment' is 24; it must be a power of two"});
  cases.push_back(
      {"tensor type",
       GgufBuilder().AddTensor({"blk.0.attn_q.weight", {32}, 99, std::string(128, '\0')}).Build(),
       absl::StatusCode::kInvalidArgument,
       "tensor 'blk.0.attn_q.weight' has unknown tensor type 99"});
  cases.push_back({"partial block",
                   GgufBuilder().AddTensor({"w", {48, 2}, 8, std::string(102, '\0')}).Build(),
                   absl::StatusCode::kInvalidArgument,
                   "tensor 'w' is Q8_0 with rows of 48 elements, not whole blocks of 32"});
  cases.push_back({"dimensions",
                   GgufBuilder().AddTensor({"w", {1, 1, 1, 1, 1}, 0, std::string(4, '\0')}).Build(),
                   absl::StatusCode::kInvalidArgument, "tensor 'w' has 5 dimensions"});
  cases.push_back({"negative dimension",
                   GgufBuilder().AddTensor({"w", {4, -1}, 0, std::string(16, '\0')}).Build(),
                   absl::StatusCode::kInvalidArgument, "tensor 'w' has negative dimension 1"});
  cases.push_back({"overflow",
                   GgufBuilder().AddTensor({"w", {1ll << 40, 1ll << 40}, 0, ""}).Build(),
                   absl::StatusCode::kInvalidArgument, "tensor 'w': its element count overflows"});
  GgufBuilder::Tensor outside{"output.weight", {8}, 0, std::string(32, '\0')};
  outside.offset_override = 4096;
  cases.push_back({"out of range", GgufBuilder().AddTensor(outside).Build(),
                   absl::StatusCode::kDataLoss,
                   "tensor 'output.weight''s data (32 bytes at offset 4096"});
  GgufBuilder::Tensor misaligned{"w", {1}, 0, std::string(4, '\0')};
  misaligned.offset_override = 4;
  cases.push_back({"misaligned", GgufBuilder().AddTensor(misaligned).Build(),
                   absl::StatusCode::kDataLoss,
                   "tensor 'w''s data offset 4 is not a multiple of the 32-byte alignment"});
  cases.push_back({"duplicate tensor",
                   GgufBuilder().F32Tensor("w", {1}, {1}).F32Tensor("w", {1}, {2}).Build(),
                   absl::StatusCode::kDataLoss, "tensor 'w' appears twice"});
  std::string counts = GgufBuilder().Build();
  std::memset(counts.data() + 8, 0xff, 8);  // tensor count
  cases.push_back({"tensor count", counts, absl::StatusCode::kDataLoss,
                   "tensor count 18446744073709551615 does not fit"});
  return cases;
}

TEST(GgufFileTest, BrokenFilesGetAStatusNamingTheKeyOrTensor) {
  for (const BrokenCase& c : BrokenFiles()) {
    const auto file = Parse(c.bytes);
    ASSERT_FALSE(file.ok()) << c.label;
    EXPECT_EQ(file.status().code(), c.code) << c.label << ": " << file.status();
    EXPECT_THAT(std::string(file.status().message()), HasSubstr(c.message)) << c.label;
    EXPECT_THAT(std::string(file.status().message()), ::testing::StartsWith("model.gguf: "))
        << c.label;
  }
}

TEST(GgufFileTest, TypeTableSizesRowsAndNamesTypes) {
  EXPECT_EQ(*GgmlRowBytes(12, 512), 288);  // Q4_K: two 144-byte super-blocks
  EXPECT_EQ(*GgmlRowBytes(14, 256), 210);  // Q6_K
  EXPECT_EQ(*GgmlRowBytes(8, 64), 68);     // Q8_0
  EXPECT_EQ(*GgmlRowBytes(30, 3), 6);      // BF16
  EXPECT_FALSE(GgmlRowBytes(12, 100).ok());
  EXPECT_FALSE(GgmlRowBytes(99, 32).ok());
  EXPECT_EQ(GgmlTypeName(6), "Q5_0");
  EXPECT_EQ(GgmlTypeName(5), "type 5");  // removed from ggml (old Q4_2)
}

// llama.cpp's own vocabulary files (llama_cpp_files.h), written by its gguf-py: real GGUF
// files from outside the project.
TEST(GgufFileTest, ReadsLlamaCppVocabularyFiles) {
  struct Expect {
    const char* name;
    const char* model;
    int64_t tokens;
  };
  int read = 0;
  for (const Expect& e : {Expect{"llama-spm", "llama", 32000}, Expect{"gpt-2", "gpt2", 50257},
                          Expect{"qwen2", "gpt2", 151936}}) {
    const std::string path = testing::VocabFile(e.name);
    if (path.empty()) continue;
    auto file = GgufFile::Open(path);
    ASSERT_TRUE(file.ok()) << file.status();
    EXPECT_EQ(*(*file)->GetString("tokenizer.ggml.model"), e.model) << e.name;
    auto tokens = (*file)->GetStrings("tokenizer.ggml.tokens");
    ASSERT_TRUE(tokens.ok()) << tokens.status();
    EXPECT_EQ(static_cast<int64_t>(tokens->size()), e.tokens) << e.name;
    ++read;
  }
  if (read == 0)
    GTEST_SKIP() << "no llama.cpp vocabulary files (shared data, scripts/install-llama-cpp.sh)";
}

}  // namespace
}  // namespace recsys::llm
