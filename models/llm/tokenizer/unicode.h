// What the tokenizers need of Unicode: UTF-8 decoding that never fails (a byte that does not
// start a well-formed sequence becomes U+FFFD, as llama.cpp does), encoding, the general
// category of a code point (unicode_categories.inc, Unicode 14) and the White_Space property.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace recsys::llm {

enum class CodepointClass : uint8_t {
  kUndefined,  // Cn: unassigned, or past U+10FFFF
  kLetter,     // \p{L}
  kNumber,     // \p{N}
  kMark,       // \p{M}
  kPunctuation,
  kSymbol,
  kSeparator,  // \p{Z}
  kControl,    // Cc, Cf, Co, Cs
};

constexpr uint32_t kReplacementCharacter = 0xFFFD;

CodepointClass ClassOf(uint32_t cp);
bool IsWhitespace(uint32_t cp);  // Unicode White_Space (regex \s)
inline bool IsLetter(uint32_t cp) { return ClassOf(cp) == CodepointClass::kLetter; }
inline bool IsNumber(uint32_t cp) { return ClassOf(cp) == CodepointClass::kNumber; }

// The code points of `text`; each byte that does not begin a complete sequence of the length
// its lead byte announces becomes U+FFFD and decoding resumes at the next byte.
std::vector<uint32_t> DecodeUtf8(absl::string_view text);
void AppendUtf8(uint32_t cp, std::string* out);
// Bytes of the UTF-8 sequence `lead` begins (1 for a stray continuation byte).
int Utf8Length(uint8_t lead);
// True when `text` is well-formed UTF-8 (no overlongs, surrogates or values past U+10FFFF).
bool IsValidUtf8(absl::string_view text);

}  // namespace recsys::llm
