// A tokenizer vocabulary as a GGUF file holds it (tokenizer.ggml.*): token texts, scores and
// types, BPE merges, special token ids and flags. The model kind ("llama": SentencePiece-style;
// "gpt2": byte-level BPE) and the BPE pre-tokenizer ("gpt-2", "llama-bpe", "qwen2", ...) come
// from tokenizer.ggml.model and tokenizer.ggml.pre, as llama.cpp reads them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "models/llm/gguf/gguf_file.h"
#include "models/llm/tokenizer/pretokenize.h"

namespace recsys::llm {

// tokenizer.ggml.token_type values (llama.cpp's llama_token_type).
enum class TokenType : int32_t {
  kUndefined = 0,
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

enum class VocabKind { kSentencePiece, kBytePairs };

struct Vocab {
  static absl::StatusOr<Vocab> FromGguf(const GgufFile& file);

  VocabKind kind = VocabKind::kSentencePiece;
  std::string pre_name;  // tokenizer.ggml.pre ("" for SentencePiece)
  PreTokenizer pre = PreTokenizer::kGpt2;
  bool ignore_merges = false;     // a whole word that is a token is taken as is (Llama-3)
  bool add_space_prefix = false;  // SentencePiece: " " before the text
  bool add_bos = false;
  bool add_eos = false;
  int32_t bos = -1, eos = -1, unk = -1, eot = -1, pad = -1;

  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<TokenType> types;
  absl::flat_hash_map<std::string, int32_t> ids;          // text -> id
  absl::flat_hash_map<std::string, int32_t> merge_ranks;  // "left right" -> rank
  std::vector<int32_t> byte_tokens;  // byte -> its token (<0xXX>, or the byte-level char); -1
  std::vector<int32_t> specials;     // control / user-defined / unknown tokens, longest first

  int32_t size() const { return static_cast<int32_t>(tokens.size()); }
  int32_t Find(absl::string_view text) const;  // -1 when absent
};

// GPT-2's printable stand-in of each byte (byte-level BPE), and back.
const std::string& ByteToBpeChar(uint8_t byte);
// The byte a stand-in code point stands for, or -1.
int BpeCharToByte(uint32_t cp);

}  // namespace recsys::llm
