#include "models/llm/tokenizer/pretokenize.h"

#include "models/llm/tokenizer/unicode.h"

namespace recsys::llm {
namespace {

// Classification of one position; past the end of the text everything is false.
class Text {
 public:
  explicit Text(const std::vector<uint32_t>& cps) : cps_(cps) {}
  size_t size() const { return cps_.size(); }
  bool In(size_t i) const { return i < cps_.size(); }
  uint32_t At(size_t i) const { return In(i) ? cps_[i] : 0xFFFFFFFF; }
  bool Letter(size_t i) const { return In(i) && IsLetter(cps_[i]); }
  bool Number(size_t i) const { return In(i) && IsNumber(cps_[i]); }
  bool Space(size_t i) const { return In(i) && IsWhitespace(cps_[i]); }
  // [^\s\p{L}\p{N}]
  bool Other(size_t i) const { return In(i) && !Space(i) && !Letter(i) && !Number(i); }
  bool Newline(size_t i) const { return At(i) == '\r' || At(i) == '\n'; }

 private:
  const std::vector<uint32_t>& cps_;
};

uint32_t AsciiLower(uint32_t c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

// 's 't 're 've 'm 'll 'd at i (ASCII case folded when `fold`): its length, else 0.
size_t Contraction(const Text& t, size_t i, bool fold) {
  if (t.At(i) != '\'' || !t.In(i + 1)) return 0;
  auto at = [&](size_t k) { return fold ? AsciiLower(t.At(k)) : t.At(k); };
  const uint32_t a = at(i + 1);
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
  if (!t.In(i + 2)) return 0;
  const uint32_t b = at(i + 2);
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
  return 0;
}

// \s+(?!\S) then \s+ at i (a whitespace run): a run followed by more text leaves its last
// space to the next word.
size_t Spaces(const Text& t, size_t i) {
  size_t n = 0;
  while (t.Space(i + n)) ++n;
  if (n > 1 && t.In(i + n)) return n - 1;
  return n;
}

size_t Gpt2Word(const Text& t, size_t i) {
  if (const size_t n = Contraction(t, i, /*fold=*/false)) return n;
  const size_t s = t.At(i) == ' ' ? i + 1 : i;  // the optional leading space
  size_t e = s;
  if (t.Letter(s)) {
    while (t.Letter(e)) ++e;
    return e - i;
  }
  if (t.Number(s)) {
    while (t.Number(e)) ++e;
    return e - i;
  }
  if (t.Other(s)) {
    while (t.Other(e)) ++e;
    return e - i;
  }
  if (const size_t n = Spaces(t, i)) return n;
  return 1;
}

size_t Llama3Word(const Text& t, size_t i, size_t max_digits) {
  if (const size_t n = Contraction(t, i, /*fold=*/true)) return n;
  // [^\r\n\p{L}\p{N}]?\p{L}+
  if (!t.Newline(i) && !t.Number(i) && (t.Letter(i) || t.Letter(i + 1))) {
    size_t e = i + 1;
    while (t.Letter(e)) ++e;
    return e - i;
  }
  // \p{N}{1,max_digits}
  if (t.Number(i)) {
    size_t e = i;
    while (t.Number(e) && e - i < max_digits) ++e;
    return e - i;
  }
  //  ?[^\s\p{L}\p{N}]+[\r\n]*
  const size_t s = t.At(i) == ' ' ? i + 1 : i;
  if (t.Other(s)) {
    size_t e = s;
    while (t.Other(e)) ++e;
    while (t.Newline(e)) ++e;
    return e - i;
  }
  // \s*[\r\n]+: up to the last newline of the whitespace run
  size_t run = 0, last_newline = 0;
  while (t.Space(i + run)) {
    if (t.Newline(i + run)) last_newline = run + 1;
    ++run;
  }
  if (last_newline > 0) return last_newline;
  if (const size_t n = Spaces(t, i)) return n;
  return 1;
}

}  // namespace

std::vector<std::pair<size_t, size_t>> PreTokenize(PreTokenizer kind,
                                                   const std::vector<uint32_t>& cps) {
  const Text t(cps);
  std::vector<std::pair<size_t, size_t>> words;
  for (size_t i = 0; i < t.size();) {
    size_t n = 0;
    switch (kind) {
      case PreTokenizer::kGpt2:
        n = Gpt2Word(t, i);
        break;
      case PreTokenizer::kLlama3:
        n = Llama3Word(t, i, 3);
        break;
      case PreTokenizer::kQwen2:
        n = Llama3Word(t, i, 1);
        break;
    }
    words.emplace_back(i, i + n);
    i += n;
  }
  return words;
}

}  // namespace recsys::llm
