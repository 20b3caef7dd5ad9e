// The pre-tokenizers of byte-level BPE vocabularies: the split of text into words that BPE
// then merges within, as the Hugging Face regexes of each family define it (implemented as
// hand-written matchers, as llama.cpp does, because the regexes need \p{L} / \p{N} classes
// and look-ahead):
//   kGpt2:   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//   kLlama3: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
//            ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//   kQwen2:  as kLlama3 with \p{N} (one digit per word) for \p{N}{1,3}
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace recsys::llm {

enum class PreTokenizer { kGpt2, kLlama3, kQwen2 };

// The words of `cps` as [begin, end) code point ranges, in order, covering all of it.
std::vector<std::pair<size_t, size_t>> PreTokenize(PreTokenizer kind,
                                                   const std::vector<uint32_t>& cps);

}  // namespace recsys::llm
