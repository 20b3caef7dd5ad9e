// Text to token ids and back, for the vocabularies of Llama-2 / Mistral / TinyLlama
// (SentencePiece-style, merges by score with byte fall-back) and of GPT-2, Llama-3 and Qwen2
// (byte-level BPE after each family's pre-tokenizer), with the results llama.cpp gives
// (checked against its test vectors, tests/models/llm/tokenizer_test.cc).
//
// Text that is not valid UTF-8 is not refused: byte-level BPE reads each byte that does not
// begin a well-formed sequence as U+FFFD (as llama.cpp does), SentencePiece encodes such bytes
// as byte tokens. Callers that must refuse it check IsValidUtf8 (unicode.h) first.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "models/llm/gguf/gguf_file.h"
#include "models/llm/tokenizer/vocab.h"

namespace recsys::llm {

class Tokenizer {
 public:
  static absl::StatusOr<std::unique_ptr<Tokenizer>> FromGguf(const GgufFile& file);
  explicit Tokenizer(Vocab vocab) : vocab_(std::move(vocab)) {}

  // add_special: the vocabulary's BOS (and EOS) around the text, when it asks for them.
  // parse_special: control tokens written in the text ("<|im_start|>") become those tokens;
  // otherwise only user-defined tokens are matched and control-token text is plain text.
  // continues: the text follows earlier text of the same prompt (tokenized piece by piece), so
  // SentencePiece adds no space prefix at its start.
  std::vector<int32_t> Encode(absl::string_view text, bool add_special, bool parse_special,
                              bool continues = false) const;

  // The text of `ids`; control tokens are rendered only when `render_special`. Ids outside the
  // vocabulary are skipped. Pieces may end inside a UTF-8 sequence that later ids complete.
  std::string Decode(absl::Span<const int32_t> ids, bool render_special = false) const;
  std::string Piece(int32_t id, bool render_special = false) const;

  const Vocab& vocab() const { return vocab_; }

 private:
  void EncodeText(absl::string_view text, bool space_prefix, std::vector<int32_t>* out) const;
  void EncodeSentencePiece(absl::string_view text, std::vector<int32_t>* out) const;
  void EncodeBytePairs(absl::string_view text, std::vector<int32_t>* out) const;
  void BytePairWord(const std::string& word, std::vector<int32_t>* out) const;

  Vocab vocab_;
};

}  // namespace recsys::llm
