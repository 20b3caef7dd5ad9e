#include "models/icr/icr_prompt.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace recsys::icr {
namespace {

struct Format {
  const char* prefix;
  const char* suffix;
  const char* separator;
};

// in_context_reranker.py: _setup_llm_prompts and the prompt separators; ChatML and plain
// follow the same pattern for Qwen2 and base models.
Format FormatOf(PromptFamily family) {
  switch (family) {
    case PromptFamily::kLlama3:
      return {"<|start_header_id|>user<|end_header_id|>",
              "<|eot_id|><|start_header_id|>assistant<|end_header_id|>", " \n\n"};
    case PromptFamily::kMistral:
      return {"[INST]", "[/INST]", "\n\n"};
    case PromptFamily::kChatMl:
      return {"<|im_start|>user\n", "<|im_end|>\n<|im_start|>assistant\n", "\n\n"};
    case PromptFamily::kPlain:
      break;
  }
  return {"", "", "\n\n"};
}

constexpr char kInstruction[] = " Here are some paragraphs:";
const char* LateInstruction(Instruction type) {
  return type == Instruction::kQa
             ? "Please answer the following question based on the information in the paragraphs "
               "above."
             : "Please find information that are relevant to the following query in the "
               "paragraphs above.";
}

void Append(std::vector<int32_t>* out, const std::vector<int32_t>& more) {
  out->insert(out->end(), more.begin(), more.end());
}

}  // namespace

absl::StatusOr<PromptFamily> ParsePromptFamily(const std::string& name) {
  for (PromptFamily f : {PromptFamily::kLlama3, PromptFamily::kMistral, PromptFamily::kChatMl,
                         PromptFamily::kPlain}) {
    if (name == PromptFamilyName(f)) return f;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("prompt family '", name, "' is not one of llama3, mistral, chatml, plain"));
}

absl::StatusOr<Instruction> ParseInstruction(const std::string& name) {
  if (name == "qa") return Instruction::kQa;
  if (name == "ie") return Instruction::kIe;
  return absl::InvalidArgumentError(absl::StrCat("instruction '", name, "' is not qa or ie"));
}

const char* PromptFamilyName(PromptFamily family) {
  switch (family) {
    case PromptFamily::kLlama3:
      return "llama3";
    case PromptFamily::kMistral:
      return "mistral";
    case PromptFamily::kChatMl:
      return "chatml";
    case PromptFamily::kPlain:
      break;
  }
  return "plain";
}

int64_t IcrPrompt::truncated_documents() const {
  int64_t n = 0;
  for (size_t i = 0; i < spans.size(); ++i) n += cut_to_words[i] || cut_to_budget[i];
  return n;
}

std::string DocumentText(const IcrDocument& document, int64_t max_words, bool* cut) {
  // The paper: ' '.join(text.split(' ')[:max_words]), then (title + '\n' + text).strip().
  std::vector<absl::string_view> words = absl::StrSplit(document.text, ' ');
  *cut = static_cast<int64_t>(words.size()) > max_words;
  if (*cut) words.resize(static_cast<size_t>(max_words));
  const std::string text = absl::StrJoin(words, " ");
  return std::string(absl::StripAsciiWhitespace(absl::StrCat(document.title, "\n", text)));
}

absl::StatusOr<IcrPrompt> BuildPrompt(const llm::Tokenizer& tokenizer, const PromptOptions& options,
                                      const std::string& query,
                                      const std::vector<IcrDocument>& documents) {
  const std::string stripped(absl::StripAsciiWhitespace(query));
  if (stripped.empty()) return absl::InvalidArgumentError("query: empty");
  if (documents.empty()) return absl::InvalidArgumentError("documents: none to re-rank");
  const Format format = FormatOf(options.family);
  const int64_t n = static_cast<int64_t>(documents.size());
  auto piece = [&](const std::string& text, bool special) {
    return tokenizer.Encode(text, /*add_special=*/false, special, /*continues=*/true);
  };
  IcrPrompt p;
  // The tails: the late instruction and "Query:" (shared), the query, the chat suffix.
  const std::vector<int32_t> late =
      piece(absl::StrCat(LateInstruction(options.instruction), format.separator, "Query:"), true);
  const std::vector<int32_t> suffix = piece(format.suffix, true);
  for (auto [tail, text] : {std::pair<std::vector<int32_t>*, std::string>{&p.query_tail, stripped},
                            {&p.na_tail, kContentFreeQuery}}) {
    *tail = late;
    Append(tail, piece(" " + text, false));
    Append(tail, suffix);
  }
  const std::vector<int32_t> head = tokenizer.Encode(absl::StrCat(format.prefix, kInstruction),
                                                     /*add_special=*/true, /*parse_special=*/true);
  const std::vector<int32_t> separator = piece(format.separator, true);

  // Each document's "[k] <doc>" tokens, k its place in the prompt.
  std::vector<std::vector<int32_t>> tokens(n);
  std::vector<int64_t> floor(n);  // its marker and one token: what it keeps at least
  p.spans.resize(n);
  p.cut_to_words.assign(n, false);
  p.cut_to_budget.assign(n, false);
  for (int64_t k = 0; k < n; ++k) {
    const int64_t doc = options.reverse_order ? n - 1 - k : k;
    bool cut = false;
    const std::string text = DocumentText(documents[doc], options.max_document_words, &cut);
    p.cut_to_words[doc] = cut;
    const std::string marker = absl::StrCat("[", k + 1, "]");
    tokens[k] = piece(absl::StrCat(marker, " ", text), false);
    floor[k] = std::min<int64_t>(static_cast<int64_t>(tokens[k].size()),
                                 static_cast<int64_t>(piece(marker, false).size()) + 1);
  }

  // Fit the budget: cut the longest documents to a common length c (each keeping its floor).
  // The tail's room: its query-independent part plus the longer of the query and the reserve.
  const int64_t query_tokens =
      static_cast<int64_t>(p.query_tail.size() - late.size() - suffix.size());
  const int64_t na_tokens = static_cast<int64_t>(p.na_tail.size() - late.size() - suffix.size());
  const int64_t tail = static_cast<int64_t>(late.size() + suffix.size()) +
                       std::max({query_tokens, na_tokens, options.query_reserve_tokens});
  const int64_t fixed = static_cast<int64_t>(head.size() + (n + 1) * separator.size()) + tail;
  const int64_t available = options.max_prompt_tokens - fixed;
  auto kept = [&](int64_t c) {
    int64_t total = 0;
    for (int64_t k = 0; k < n; ++k) {
      total += std::min<int64_t>(static_cast<int64_t>(tokens[k].size()), std::max(c, floor[k]));
    }
    return total;
  };
  if (kept(0) > available) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the prompt budget of ", options.max_prompt_tokens, " tokens cannot hold ", n,
        " documents with this query even when each is cut to its marker: that needs ",
        fixed + kept(0), " tokens (fewer documents, a shorter query, or a larger budget)"));
  }
  int64_t longest = 0;
  for (const auto& t : tokens) longest = std::max<int64_t>(longest, t.size());
  if (kept(longest) > available) {
    int64_t lo = 0, hi = longest;  // kept(lo) fits, kept(hi) does not
    while (hi - lo > 1) {
      const int64_t mid = lo + (hi - lo) / 2;
      (kept(mid) <= available ? lo : hi) = mid;
    }
    for (int64_t k = 0; k < n; ++k) {
      const int64_t keep = std::max(lo, floor[k]);
      if (static_cast<int64_t>(tokens[k].size()) > keep) {
        tokens[k].resize(static_cast<size_t>(keep));
        p.cut_to_budget[options.reverse_order ? n - 1 - k : k] = true;
      }
    }
  }

  p.prefix = head;
  for (int64_t k = 0; k < n; ++k) {
    Append(&p.prefix, separator);
    TokenSpan& span = p.spans[options.reverse_order ? n - 1 - k : k];
    span.begin = static_cast<int64_t>(p.prefix.size());
    Append(&p.prefix, tokens[k]);
    span.end = static_cast<int64_t>(p.prefix.size());
  }
  Append(&p.prefix, separator);
  return p;
}

}  // namespace recsys::icr
