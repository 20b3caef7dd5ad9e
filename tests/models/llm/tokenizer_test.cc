#include "models/llm/tokenizer/tokenizer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "models/llm/tokenizer/pretokenize.h"
#include "models/llm/tokenizer/unicode.h"
#include "tests/models/llm/gguf_builder.h"
#include "tests/models/llm/llama_cpp_files.h"

namespace recsys::llm {
namespace {

using ::testing::ElementsAre;

using testing::VocabFile;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

class VocabVectorsTest : public ::testing::TestWithParam<std::string> {};

// Each input of llama.cpp's test (add_special = false, parse_special = false) gives exactly
// the ids Hugging Face's tokenizer gave, as recorded in the .out file.
TEST_P(VocabVectorsTest, EncodesLikeLlamaCppsGoldenVectors) {
  const std::string path = VocabFile(GetParam());
  if (path.empty()) {
    GTEST_SKIP() << "ggml-vocab-" << GetParam()
                 << ".gguf is absent (shared data, or scripts/install-llama-cpp.sh)";
  }
  auto file = GgufFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status();
  auto tokenizer = Tokenizer::FromGguf(**file);
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  const std::string inputs = ReadAll(path + ".inp");
  std::vector<std::string> cases = absl::StrSplit(inputs, "\n__ggml_vocab_test__\n");
  if (!cases.empty() && cases.back().empty()) cases.pop_back();
  std::vector<std::string> expected = absl::StrSplit(ReadAll(path + ".out"), '\n');
  if (!expected.empty() && expected.back().empty()) expected.pop_back();
  ASSERT_EQ(cases.size(), expected.size());
  ASSERT_GT(cases.size(), 30u);
  int failures = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const std::vector<int32_t> ids = (*tokenizer)->Encode(cases[i], false, false);
    const std::string got = absl::StrJoin(ids, " ");
    std::string want(absl::StripAsciiWhitespace(expected[i]));
    if (got != want && ++failures <= 8) {
      ADD_FAILURE() << "case " << i << " '" << cases[i] << "'\n  want: " << want
                    << "\n  got:  " << got;
    }
  }
  EXPECT_EQ(failures, 0) << "of " << cases.size();
}

INSTANTIATE_TEST_SUITE_P(LlamaCpp, VocabVectorsTest,
                         ::testing::Values("llama-spm", "gpt-2", "llama-bpe", "qwen2"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name) c = c == '-' ? '_' : c;
                           return name;
                         });

std::vector<std::string> Words(PreTokenizer kind, const std::string& text) {
  const std::vector<uint32_t> cps = DecodeUtf8(text);
  std::vector<std::string> out;
  for (const auto& [b, e] : PreTokenize(kind, cps)) {
    std::string w;
    for (size_t i = b; i < e; ++i) AppendUtf8(cps[i], &w);
    out.push_back(w);
  }
  return out;
}

TEST(PreTokenizeTest, SplitsAsEachFamilysRegex) {
  EXPECT_THAT(Words(PreTokenizer::kGpt2, "Hello world's 1234  x"),
              ElementsAre("Hello", " world", "'s", " 1234", " ", " x"));
  EXPECT_THAT(Words(PreTokenizer::kLlama3, "Hello WORLD'S 12345\n\n x!!\n"),
              ElementsAre("Hello", " WORLD", "'S", " ", "123", "45", "\n\n", " x", "!!\n"));
  EXPECT_THAT(Words(PreTokenizer::kQwen2, "ab 123"), ElementsAre("ab", " ", "1", "2", "3"));
  EXPECT_THAT(Words(PreTokenizer::kGpt2, "  "), ElementsAre("  "));  // trailing run: one word
  EXPECT_TRUE(Words(PreTokenizer::kLlama3, "").empty());
}

TEST(UnicodeTest, ClassifiesAndDecodesWithoutFailing) {
  EXPECT_EQ(ClassOf('a'), CodepointClass::kLetter);
  EXPECT_EQ(ClassOf(0x00E9), CodepointClass::kLetter);   // é
  EXPECT_EQ(ClassOf(0x0663), CodepointClass::kNumber);   // Arabic-Indic three
  EXPECT_EQ(ClassOf(0x0301), CodepointClass::kMark);     // combining acute
  EXPECT_EQ(ClassOf(0x1F999), CodepointClass::kSymbol);  // llama emoji
  EXPECT_EQ(ClassOf(0x0378), CodepointClass::kUndefined);
  EXPECT_EQ(ClassOf(0x110000), CodepointClass::kUndefined);
  EXPECT_TRUE(IsWhitespace(0x3000));
  EXPECT_FALSE(IsWhitespace(0x200B));  // zero-width space is not White_Space
  EXPECT_THAT(DecodeUtf8("a\xC3\xA9\xF0\x9F\xA6\x99"), ElementsAre('a', 0xE9, 0x1F999));
  // A stray continuation byte, a truncated sequence and an invalid lead byte each become U+FFFD.
  EXPECT_THAT(DecodeUtf8("\x80x\xE2\x96y\xFF"),
              ElementsAre(0xFFFD, 'x', 0xFFFD, 0xFFFD, 'y', 0xFFFD));
  EXPECT_TRUE(IsValidUtf8("h\xC3\xA9llo"));
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));      // overlong
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));  // surrogate
  EXPECT_FALSE(IsValidUtf8("\xE2\x96"));      // truncated
}

// Encoding and decoding with the real vocabularies (skipped where they are absent).
TEST(TokenizerTest, RoundTripsSpecialTokensAndBrokenUtf8) {
  for (const std::string name : {"llama-spm", "qwen2", "llama-bpe"}) {
    const std::string path = VocabFile(name);
    if (path.empty()) continue;
    SCOPED_TRACE(name);
    auto file = GgufFile::Open(path);
    ASSERT_TRUE(file.ok());
    auto tokenizer = Tokenizer::FromGguf(**file);
    ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
    const Tokenizer& t = **tokenizer;
    const std::string text = "Re-ranking 100 documents: the café's \xF0\x9F\xA6\x99 answer!\n";
    EXPECT_EQ(t.Decode(t.Encode(text, false, false)), text);
    // Not valid UTF-8: no crash, and the valid parts survive.
    const std::string broken = "ab\xFF\xC3 cd\x80";
    const std::string decoded = t.Decode(t.Encode(broken, false, false));
    EXPECT_THAT(decoded, ::testing::StartsWith("ab"));
    EXPECT_THAT(decoded, ::testing::HasSubstr(" cd"));
  }
  const std::string qwen = VocabFile("qwen2");
  if (qwen.empty()) GTEST_SKIP() << "ggml-vocab-qwen2.gguf is absent";
  auto file = GgufFile::Open(qwen);
  auto t = Tokenizer::FromGguf(**file);
  ASSERT_TRUE(t.ok());
  const int32_t im_start = (*t)->vocab().Find("<|im_start|>");
  ASSERT_GE(im_start, 0);
  const std::vector<int32_t> parsed = (*t)->Encode("<|im_start|>user", false, true);
  ASSERT_FALSE(parsed.empty());
  EXPECT_EQ(parsed[0], im_start);
  // Without parse_special the same characters are plain text.
  const std::vector<int32_t> plain = (*t)->Encode("<|im_start|>user", false, false);
  EXPECT_GT(plain.size(), parsed.size());
  EXPECT_EQ(std::count(plain.begin(), plain.end(), im_start), 0);
  EXPECT_EQ((*t)->Decode(parsed), "user");
  EXPECT_EQ((*t)->Decode(parsed, /*render_special=*/true), "<|im_start|>user");
}

// Vocabularies a hostile or unusual file describes: a status or sane output, never an abort.
TEST(TokenizerTest, OddVocabulariesGetAStatusOrSaneOutput) {
  auto load = [](testing::GgufBuilder b) {
    const std::string bytes = b.Build();
    auto file = GgufFile::FromBytes(bytes, "v.gguf");
    EXPECT_TRUE(file.ok()) << file.status();
    return Tokenizer::FromGguf(**file);
  };
  // tokenizer.ggml.pre of the wrong type.
  auto wrong = load(testing::GgufBuilder()
                        .String("tokenizer.ggml.model", "gpt2")
                        .Strings("tokenizer.ggml.tokens", {"a", "b"})
                        .Strings("tokenizer.ggml.merges", {"a b"})
                        .U32("tokenizer.ggml.pre", 3));
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kInvalidArgument);
  // A tiny byte-level vocabulary without bos / eos keys: the built-in default (11) is dropped.
  auto tiny = load(testing::GgufBuilder()
                       .String("tokenizer.ggml.model", "gpt2")
                       .Strings("tokenizer.ggml.tokens", {"a", "b", "ab"})
                       .Strings("tokenizer.ggml.merges", {"a b"}));
  ASSERT_TRUE(tiny.ok()) << tiny.status();
  EXPECT_EQ((*tiny)->vocab().bos, -1);
  EXPECT_THAT((*tiny)->Encode("abba", true, false), ElementsAre(2, 1, 0));
  // A "byte" token that is not <0xXX>, no byte tokens and no <unk>: decoding does not throw and
  // unknown bytes are dropped, never given id -1.
  auto spm = load(testing::GgufBuilder()
                      .String("tokenizer.ggml.model", "llama")
                      .Strings("tokenizer.ggml.tokens", {"<0xZZ>", "x", "\xE2\x96\x81x"})
                      .Array<int32_t>("tokenizer.ggml.token_type", 5, {6, 1, 1})
                      .I32("tokenizer.ggml.unknown_token_id", -1));
  ASSERT_TRUE(spm.ok()) << spm.status();
  EXPECT_EQ((*spm)->Decode({0}), "<0xZZ>");
  for (int32_t id : (*spm)->Encode("x\xFFq x", false, false)) EXPECT_GE(id, 0);
}

}  // namespace
}  // namespace recsys::llm
