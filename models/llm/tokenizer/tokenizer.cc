#include "models/llm/tokenizer/tokenizer.h"

#include <queue>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "models/llm/tokenizer/pretokenize.h"
#include "models/llm/tokenizer/unicode.h"

namespace recsys::llm {
namespace {

constexpr absl::string_view kSpmSpace = "\xE2\x96\x81";  // U+2581, SentencePiece's space

// A run of text, or a special token found in it.
struct Fragment {
  absl::string_view text;
  int32_t token = -1;
};

// Splits `text` at each occurrence of the special tokens, longest first.
std::vector<Fragment> Partition(const Vocab& v, absl::string_view text, bool parse_special) {
  std::vector<Fragment> parts = {{text, -1}};
  for (int32_t id : v.specials) {
    if (!parse_special && v.types[id] != TokenType::kUserDefined) continue;
    const std::string& special = v.tokens[id];
    std::vector<Fragment> next;
    for (const Fragment& f : parts) {
      if (f.token >= 0) {
        next.push_back(f);
        continue;
      }
      absl::string_view rest = f.text;
      for (size_t at; (at = rest.find(special)) != absl::string_view::npos;) {
        if (at > 0) next.push_back({rest.substr(0, at), -1});
        next.push_back({absl::string_view(), id});
        rest.remove_prefix(at + special.size());
      }
      if (!rest.empty()) next.push_back({rest, -1});
    }
    parts = std::move(next);
  }
  return parts;
}

struct Symbol {
  size_t begin = 0, size = 0;  // bytes of the word
  int prev = -1, next = -1;
};

// The characters of `text` as a linked list of symbols to merge. A byte that does not begin a
// complete UTF-8 sequence stands alone (llama.cpp's SentencePiece takes the bytes after it
// too, garbling the next character).
std::vector<Symbol> Characters(absl::string_view text) {
  std::vector<Symbol> symbols;
  for (size_t at = 0; at < text.size();) {
    size_t n = std::min<size_t>(Utf8Length(static_cast<uint8_t>(text[at])), text.size() - at);
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<uint8_t>(text[at + k]) & 0xC0) != 0x80) n = 1;
    }
    const int index = static_cast<int>(symbols.size());
    symbols.push_back({at, n, index - 1, at + n == text.size() ? -1 : index + 1});
    at += n;
  }
  return symbols;
}

// Symbol `left` absorbs the symbol after it, which leaves the list.
void MergeRightNeighbour(std::vector<Symbol>* symbols, int left) {
  Symbol& l = (*symbols)[left];
  Symbol& r = (*symbols)[l.next];
  l.size += r.size;
  r.size = 0;
  l.next = r.next;
  if (r.next >= 0) (*symbols)[r.next].prev = left;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::FromGguf(const GgufFile& file) {
  RECSYS_ASSIGN_OR_RETURN(Vocab vocab, Vocab::FromGguf(file));
  return std::make_unique<Tokenizer>(std::move(vocab));
}

std::vector<int32_t> Tokenizer::Encode(absl::string_view text, bool add_special, bool parse_special,
                                       bool continues) const {
  std::vector<int32_t> out;
  if (add_special && vocab_.add_bos && vocab_.bos >= 0) out.push_back(vocab_.bos);
  // SentencePiece prefixes a space to text at the start or after a special token.
  bool after_special = !continues;
  if (!text.empty()) {
    for (const Fragment& f : Partition(vocab_, text, parse_special)) {
      if (f.token >= 0) {
        out.push_back(f.token);
        after_special = true;
        continue;
      }
      EncodeText(f.text, after_special, &out);
      after_special = false;
    }
  }
  if (add_special && vocab_.add_eos && vocab_.eos >= 0) out.push_back(vocab_.eos);
  return out;
}

void Tokenizer::EncodeText(absl::string_view text, bool space_prefix,
                           std::vector<int32_t>* out) const {
  if (vocab_.kind == VocabKind::kBytePairs) {
    EncodeBytePairs(text, out);
    return;
  }
  std::string escaped;
  if (vocab_.add_space_prefix && space_prefix) escaped.append(kSpmSpace.data(), kSpmSpace.size());
  for (char c : text) {
    if (c == ' ') {
      escaped.append(kSpmSpace.data(), kSpmSpace.size());
    } else {
      escaped.push_back(c);
    }
  }
  EncodeSentencePiece(escaped, out);
}

// SentencePiece (BPE by score): start from characters, repeatedly merge the adjacent pair
// whose concatenation is the best-scoring token (leftmost on ties); what is left that is not
// a token becomes byte tokens.
void Tokenizer::EncodeSentencePiece(absl::string_view text, std::vector<int32_t>* out) const {
  std::vector<Symbol> symbols = Characters(text);
  struct Bigram {
    float score;
    int left, right;
    size_t size;
  };
  auto worse = [](const Bigram& a, const Bigram& b) {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  };
  std::priority_queue<Bigram, std::vector<Bigram>, decltype(worse)> queue(worse);
  auto consider = [&](int left, int right) {
    if (left < 0 || right < 0) return;
    const size_t size = symbols[left].size + symbols[right].size;
    const int32_t id = vocab_.Find(text.substr(symbols[left].begin, size));
    if (id >= 0) queue.push({vocab_.scores[id], left, right, size});
  };
  for (size_t i = 1; i < symbols.size(); ++i)
    consider(static_cast<int>(i) - 1, static_cast<int>(i));
  while (!queue.empty()) {
    const Bigram b = queue.top();
    queue.pop();
    Symbol& left = symbols[b.left];
    Symbol& right = symbols[b.right];
    if (left.size == 0 || right.size == 0 || left.size + right.size != b.size) continue;  // stale
    MergeRightNeighbour(&symbols, b.left);
    consider(left.prev, b.left);
    consider(b.left, left.next);
  }
  for (int i = symbols.empty() ? -1 : 0; i != -1; i = symbols[i].next) {
    const absl::string_view piece = text.substr(symbols[i].begin, symbols[i].size);
    const int32_t id = vocab_.Find(piece);
    if (id >= 0) {
      out->push_back(id);
      continue;
    }
    for (char c : piece) {  // byte fall-back; a byte with neither a token nor <unk> is dropped
      const int32_t byte = vocab_.byte_tokens[static_cast<uint8_t>(c)];
      if (byte >= 0 || vocab_.unk >= 0) out->push_back(byte >= 0 ? byte : vocab_.unk);
    }
  }
}

// Byte-level BPE: the pre-tokenizer's words, each written with GPT-2's byte stand-ins, then
// merged by rank (lowest first, leftmost on ties).
void Tokenizer::EncodeBytePairs(absl::string_view text, std::vector<int32_t>* out) const {
  const std::vector<uint32_t> cps = DecodeUtf8(text);
  for (const auto& [begin, end] : PreTokenize(vocab_.pre, cps)) {
    std::string utf8;
    for (size_t i = begin; i < end; ++i) AppendUtf8(cps[i], &utf8);
    std::string word;
    for (char c : utf8) word += ByteToBpeChar(static_cast<uint8_t>(c));
    BytePairWord(word, out);
  }
}

void Tokenizer::BytePairWord(const std::string& word, std::vector<int32_t>* out) const {
  if (vocab_.ignore_merges) {
    const int32_t id = vocab_.Find(word);
    if (id >= 0) {
      out->push_back(id);
      return;
    }
  }
  std::vector<Symbol> symbols = Characters(word);
  struct Bigram {
    int32_t rank;
    int left, right;
    size_t left_size, right_size;
  };
  auto worse = [](const Bigram& a, const Bigram& b) {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  };
  std::priority_queue<Bigram, std::vector<Bigram>, decltype(worse)> queue(worse);
  std::string key;
  auto consider = [&](int left, int right) {
    if (left < 0 || right < 0) return;
    const Symbol& l = symbols[left];
    const Symbol& r = symbols[right];
    key.assign(word, l.begin, l.size);
    key.push_back(' ');
    key.append(word, r.begin, r.size);
    const auto it = vocab_.merge_ranks.find(key);
    if (it != vocab_.merge_ranks.end()) queue.push({it->second, left, right, l.size, r.size});
  };
  for (size_t i = 1; i < symbols.size(); ++i)
    consider(static_cast<int>(i) - 1, static_cast<int>(i));
  while (!queue.empty()) {
    const Bigram b = queue.top();
    queue.pop();
    Symbol& left = symbols[b.left];
    Symbol& right = symbols[b.right];
    // Stale when either side changed since it was queued (symbols only grow to the right).
    if (left.size != b.left_size || right.size != b.right_size || left.next != b.right) continue;
    MergeRightNeighbour(&symbols, b.left);
    consider(left.prev, b.left);
    consider(b.left, left.next);
  }
  for (int i = symbols.empty() ? -1 : 0; i != -1; i = symbols[i].next) {
    const absl::string_view piece =
        absl::string_view(word).substr(symbols[i].begin, symbols[i].size);
    const int32_t id = vocab_.Find(piece);
    if (id >= 0) {
      out->push_back(id);
      continue;
    }
    for (size_t at = 0; at < piece.size();) {  // each byte stand-in as its own token
      const size_t n =
          std::min<size_t>(Utf8Length(static_cast<uint8_t>(piece[at])), piece.size() - at);
      const int32_t single = vocab_.Find(piece.substr(at, n));
      if (single >= 0) out->push_back(single);
      at += n;
    }
  }
}

std::string Tokenizer::Piece(int32_t id, bool render_special) const {
  if (id < 0 || id >= vocab_.size()) return "";
  const std::string& text = vocab_.tokens[id];
  switch (vocab_.types[id]) {
    case TokenType::kControl:
      return render_special ? text : "";
    case TokenType::kUnknown:
      return render_special ? text : "\xE2\x96\x85";  // U+2585, as llama.cpp shows it
    case TokenType::kUserDefined:
      return text;
    case TokenType::kByte: {
      // "<0xAB>": the byte itself; a byte token of another spelling is read as text below.
      auto hex = [](char c) {
        return c >= '0' && c <= '9'   ? c - '0'
               : c >= 'A' && c <= 'F' ? c - 'A' + 10
               : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                      : -1;
      };
      if (vocab_.kind == VocabKind::kSentencePiece && text.size() == 6 &&
          text.compare(0, 3, "<0x") == 0 && text[5] == '>' && hex(text[3]) >= 0 &&
          hex(text[4]) >= 0) {
        return std::string(1, static_cast<char>(hex(text[3]) * 16 + hex(text[4])));
      }
      break;
    }
    default:
      break;
  }
  std::string out;
  if (vocab_.kind == VocabKind::kSentencePiece) {
    for (size_t at = 0; at < text.size();) {
      if (absl::string_view(text).substr(at, 3) == kSpmSpace) {
        out.push_back(' ');
        at += 3;
      } else {
        out.push_back(text[at++]);
      }
    }
    return out;
  }
  for (uint32_t cp : DecodeUtf8(text)) {
    const int byte = BpeCharToByte(cp);
    if (byte >= 0) {
      out.push_back(static_cast<char>(byte));
    } else {
      AppendUtf8(cp, &out);
    }
  }
  return out;
}

std::string Tokenizer::Decode(absl::Span<const int32_t> ids, bool render_special) const {
  std::string out;
  bool first_text = true;
  for (int32_t id : ids) {
    std::string piece = Piece(id, render_special);
    // SentencePiece's prefixed space goes away again at the start of the text.
    if (first_text && !piece.empty() && vocab_.add_space_prefix &&
        vocab_.kind == VocabKind::kSentencePiece && piece[0] == ' ') {
      piece.erase(0, 1);
    }
    if (!piece.empty()) first_text = false;
    out += piece;
  }
  return out;
}

}  // namespace recsys::llm
