#include "models/llm/tokenizer/vocab.h"

#include <algorithm>
#include <array>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "models/llm/tokenizer/unicode.h"

namespace recsys::llm {
namespace {

struct ByteMap {
  std::array<std::string, 256> to_char;
  std::array<int, 512> from_cp;  // stand-ins are below U+0200
  ByteMap() {
    from_cp.fill(-1);
    int next = 0;
    for (int b = 0; b < 256; ++b) {
      // Printable Latin-1 bytes stand for themselves; the rest map to U+0100 onwards in order.
      const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
      const uint32_t cp = printable ? b : 256 + next++;
      AppendUtf8(cp, &to_char[b]);
      from_cp[cp] = b;
    }
  }
};

const ByteMap& Bytes() {
  static const ByteMap* map = new ByteMap();
  return *map;
}

absl::Status Invalid(const GgufFile& f, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(f.name(), ": ", what));
}

absl::StatusOr<bool> BoolOr(const GgufFile& f, absl::string_view key, bool fallback) {
  if (f.Find(key) == nullptr) return fallback;
  return f.GetBool(key);
}

}  // namespace

const std::string& ByteToBpeChar(uint8_t byte) { return Bytes().to_char[byte]; }

int BpeCharToByte(uint32_t cp) { return cp < 512 ? Bytes().from_cp[cp] : -1; }

int32_t Vocab::Find(absl::string_view text) const {
  const auto it = ids.find(text);
  return it == ids.end() ? -1 : it->second;
}

absl::StatusOr<Vocab> Vocab::FromGguf(const GgufFile& f) {
  Vocab v;
  RECSYS_ASSIGN_OR_RETURN(const absl::string_view model, f.GetString("tokenizer.ggml.model"));
  if (model == "llama") {
    v.kind = VocabKind::kSentencePiece;
  } else if (model == "gpt2") {
    v.kind = VocabKind::kBytePairs;
  } else {
    return Invalid(f, absl::StrCat("tokenizer.ggml.model '", model,
                                   "' is not read (llama: SentencePiece, gpt2: byte-level BPE)"));
  }
  RECSYS_ASSIGN_OR_RETURN(const std::vector<absl::string_view> tokens,
                          f.GetStrings("tokenizer.ggml.tokens"));
  if (tokens.empty() || tokens.size() > (1u << 30)) {
    return Invalid(f, absl::StrCat("tokenizer.ggml.tokens has ", tokens.size(), " entries"));
  }
  const size_t n = tokens.size();
  v.tokens.reserve(n);
  for (absl::string_view t : tokens) v.tokens.emplace_back(t);
  v.scores.assign(n, 0.f);
  v.types.assign(n, TokenType::kNormal);
  if (f.Find("tokenizer.ggml.scores") != nullptr) {
    RECSYS_ASSIGN_OR_RETURN(v.scores, f.GetFloats("tokenizer.ggml.scores"));
    if (v.scores.size() != n) {
      return Invalid(f, absl::StrCat("tokenizer.ggml.scores has ", v.scores.size(), " entries for ",
                                     n, " tokens"));
    }
  }
  if (f.Find("tokenizer.ggml.token_type") != nullptr) {
    RECSYS_ASSIGN_OR_RETURN(const std::vector<int64_t> types,
                            f.GetInts("tokenizer.ggml.token_type"));
    if (types.size() != n) {
      return Invalid(f, absl::StrCat("tokenizer.ggml.token_type has ", types.size(),
                                     " entries for ", n, " tokens"));
    }
    for (size_t i = 0; i < n; ++i) {
      v.types[i] =
          types[i] >= 0 && types[i] <= 6 ? static_cast<TokenType>(types[i]) : TokenType::kUndefined;
    }
  }
  v.ids.reserve(n);
  for (size_t i = 0; i < n; ++i) v.ids.emplace(v.tokens[i], static_cast<int32_t>(i));

  if (v.kind == VocabKind::kBytePairs) {
    RECSYS_ASSIGN_OR_RETURN(const std::vector<absl::string_view> merges,
                            f.GetStrings("tokenizer.ggml.merges"));
    v.merge_ranks.reserve(merges.size());
    for (size_t i = 0; i < merges.size(); ++i) {
      // "left right", split at the first space after the first byte (a merge never has a
      // space inside its halves: byte-level BPE writes a space as U+0120)
      const size_t space = merges[i].find(' ', 1);
      if (space == absl::string_view::npos) {
        return Invalid(f, absl::StrCat("tokenizer.ggml.merges[", i, "] has no space"));
      }
      v.merge_ranks.emplace(std::string(merges[i]), static_cast<int32_t>(i));
    }
    v.pre_name = "default";
    if (f.Find("tokenizer.ggml.pre") != nullptr) {
      RECSYS_ASSIGN_OR_RETURN(const absl::string_view pre, f.GetString("tokenizer.ggml.pre"));
      v.pre_name = std::string(pre);
    }
    if (v.pre_name == "gpt-2" || v.pre_name == "default") {
      v.pre = PreTokenizer::kGpt2;
    } else if (v.pre_name == "llama-bpe" || v.pre_name == "llama3" || v.pre_name == "llama-v3") {
      v.pre = PreTokenizer::kLlama3;
      v.ignore_merges = true;
      v.add_bos = true;
    } else if (v.pre_name == "qwen2" || v.pre_name == "deepseek-r1-qwen") {
      v.pre = PreTokenizer::kQwen2;
    } else {
      return Invalid(f, absl::StrCat("tokenizer.ggml.pre '", v.pre_name,
                                     "' is not read (gpt-2, llama-bpe, qwen2 are)"));
    }
    v.bos = v.eos = 11;  // llama.cpp's defaults for gpt2 vocabularies, before the file's own
  } else {
    v.add_space_prefix = true;
    v.add_bos = true;
    v.bos = 1;
    v.eos = 2;
    v.unk = 0;
  }
  RECSYS_ASSIGN_OR_RETURN(v.add_space_prefix,
                          BoolOr(f, "tokenizer.ggml.add_space_prefix", v.add_space_prefix));
  RECSYS_ASSIGN_OR_RETURN(v.add_bos, BoolOr(f, "tokenizer.ggml.add_bos_token", v.add_bos));
  RECSYS_ASSIGN_OR_RETURN(v.add_eos, BoolOr(f, "tokenizer.ggml.add_eos_token", v.add_eos));
  struct Id {
    const char* key;
    int32_t* id;
  };
  for (const Id& id :
       {Id{"tokenizer.ggml.bos_token_id", &v.bos}, Id{"tokenizer.ggml.eos_token_id", &v.eos},
        Id{"tokenizer.ggml.unknown_token_id", &v.unk}, Id{"tokenizer.ggml.eot_token_id", &v.eot},
        Id{"tokenizer.ggml.padding_token_id", &v.pad}}) {
    if (f.Find(id.key) == nullptr) {  // a built-in default the vocabulary may be too small for
      if (*id.id >= static_cast<int64_t>(n)) *id.id = -1;
      continue;
    }
    RECSYS_ASSIGN_OR_RETURN(const int64_t value, f.GetInt(id.key));
    if (value < -1 || value >= static_cast<int64_t>(n)) {
      return Invalid(f, absl::StrCat(id.key, " is ", value, "; the vocabulary has ", n, " tokens"));
    }
    *id.id = static_cast<int32_t>(value);
  }

  v.byte_tokens.assign(256, -1);
  for (int b = 0; b < 256; ++b) {
    if (v.kind == VocabKind::kSentencePiece) {
      v.byte_tokens[b] = v.Find(absl::StrFormat("<0x%02X>", b));
      if (v.byte_tokens[b] < 0) v.byte_tokens[b] = v.Find(std::string(1, static_cast<char>(b)));
    } else {
      v.byte_tokens[b] = v.Find(ByteToBpeChar(static_cast<uint8_t>(b)));
    }
  }
  for (size_t i = 0; i < n; ++i) {
    const TokenType t = v.types[i];
    if ((t == TokenType::kControl || t == TokenType::kUserDefined || t == TokenType::kUnknown) &&
        !v.tokens[i].empty()) {
      v.specials.push_back(static_cast<int32_t>(i));
    }
  }
  std::stable_sort(v.specials.begin(), v.specials.end(),
                   [&](int32_t a, int32_t b) { return v.tokens[a].size() > v.tokens[b].size(); });
  return v;
}

}  // namespace recsys::llm
