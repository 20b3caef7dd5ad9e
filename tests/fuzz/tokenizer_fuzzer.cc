// Fuzz target of the tokenizers (models/llm/tokenizer): any bytes, valid UTF-8 or not, encode
// without a crash under every vocabulary kind and pre-tokenizer, give ids inside the
// vocabulary, and decode. The first byte picks the vocabulary and whether special tokens are
// parsed; the rest is the text. Vocabularies are built here (the shapes of llama.cpp's: byte
// tokens, merges, control and user-defined tokens), so the target needs no files.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "models/llm/tokenizer/tokenizer.h"

namespace {

using recsys::llm::ByteToBpeChar;
using recsys::llm::PreTokenizer;
using recsys::llm::TokenType;
using recsys::llm::Vocab;
using recsys::llm::VocabKind;

void Add(Vocab* v, const std::string& text, TokenType type, float score = 0) {
  v->ids.emplace(text, v->size());
  v->tokens.push_back(text);
  v->types.push_back(type);
  v->scores.push_back(score);
}

void Finish(Vocab* v) {
  v->byte_tokens.assign(256, -1);
  for (int b = 0; b < 256; ++b) {
    v->byte_tokens[b] = v->kind == VocabKind::kSentencePiece
                            ? v->Find(absl::StrFormat("<0x%02X>", b))
                            : v->Find(ByteToBpeChar(static_cast<uint8_t>(b)));
  }
  for (int32_t i = 0; i < v->size(); ++i) {
    const TokenType t = v->types[i];
    if (t == TokenType::kControl || t == TokenType::kUserDefined || t == TokenType::kUnknown) {
      v->specials.push_back(i);
    }
  }
}

std::unique_ptr<recsys::llm::Tokenizer> SentencePiece() {
  Vocab v;
  v.kind = VocabKind::kSentencePiece;
  v.add_space_prefix = v.add_bos = true;
  v.bos = 1;
  v.eos = 2;
  v.unk = 0;
  Add(&v, "<unk>", TokenType::kUnknown);
  Add(&v, "<s>", TokenType::kControl);
  Add(&v, "</s>", TokenType::kControl);
  for (int b = 0; b < 256; ++b) Add(&v, absl::StrFormat("<0x%02X>", b), TokenType::kByte);
  float score = 0;
  for (const char* piece : {"\xE2\x96\x81", "\xE2\x96\x81t", "he", "\xE2\x96\x81the", "a", "b",
                            "ab", "abab", "\xC3\xA9", "<tool>"}) {
    Add(&v, piece, std::string(piece) == "<tool>" ? TokenType::kUserDefined : TokenType::kNormal,
        score -= 1);
  }
  Finish(&v);
  return std::make_unique<recsys::llm::Tokenizer>(std::move(v));
}

std::unique_ptr<recsys::llm::Tokenizer> BytePairs(PreTokenizer pre) {
  Vocab v;
  v.kind = VocabKind::kBytePairs;
  v.pre = pre;
  v.ignore_merges = pre == PreTokenizer::kLlama3;
  v.bos = v.eos = 0;
  Add(&v, "<|endoftext|>", TokenType::kControl);
  for (int b = 0; b < 256; ++b) Add(&v, ByteToBpeChar(static_cast<uint8_t>(b)), TokenType::kNormal);
  const std::string sp = ByteToBpeChar(' ');
  const std::vector<std::pair<std::string, std::string>> merges = {
      {sp, "t"}, {"h", "e"}, {sp + "t", "he"}, {"1", "2"}, {"12", "3"}, {"\xC3", "\xA9"}};
  for (size_t i = 0; i < merges.size(); ++i) {
    Add(&v, merges[i].first + merges[i].second, TokenType::kNormal);
    v.merge_ranks.emplace(merges[i].first + " " + merges[i].second, static_cast<int32_t>(i));
  }
  Add(&v, "<|im_start|>", TokenType::kControl);
  Finish(&v);
  return std::make_unique<recsys::llm::Tokenizer>(std::move(v));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto* tokenizers = new std::vector<std::unique_ptr<recsys::llm::Tokenizer>>([] {
    std::vector<std::unique_ptr<recsys::llm::Tokenizer>> t;
    t.push_back(SentencePiece());
    t.push_back(BytePairs(PreTokenizer::kGpt2));
    t.push_back(BytePairs(PreTokenizer::kLlama3));
    t.push_back(BytePairs(PreTokenizer::kQwen2));
    return t;
  }());
  if (size == 0) return 0;
  const auto& tokenizer = *(*tokenizers)[data[0] % tokenizers->size()];
  const bool parse_special = (data[0] & 0x80) != 0;
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::vector<int32_t> ids = tokenizer.Encode(text, true, parse_special);
  for (int32_t id : ids) {
    if (id < 0 || id >= tokenizer.vocab().size()) __builtin_trap();
  }
  const std::string back = tokenizer.Decode(ids, true);
  volatile size_t keep = back.size();
  (void)keep;
  return 0;
}
