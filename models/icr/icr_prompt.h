// The prompt ICR (in-context re-ranking, Chen et al., ICLR 2025) reads attention from, built
// as the paper's code builds it (OSU-NLP-Group/In-Context-Reranking, in_context_reranker.py,
// prompt_template 'instruct', query last):
//
//   <chat prefix> Here are some paragraphs:<sep>[1] <doc><sep>[2] <doc>...<sep>[N] <doc>
//   <sep><late instruction><sep>Query: <query><chat suffix>
//
// with <doc> = (title + "\n" + text).strip(), the text cut to the first max_document_words
// space-separated words (the paper's text.split(' ')[:300]), and the documents in reverse
// first-stage order by default (the first-stage top document sits last, next to the query).
// <sep> is " \n\n" for Llama 3 and "\n\n" otherwise.
//
// The prompt is tokenized piece by piece (each piece continuing the text before it), so a
// document's tokens are the same whatever surrounds it: its span is exact by construction
// (the paper checks its arithmetic against a whole-prompt tokenization instead), and a prefix
// of documents is reusable across calls. It splits into the prefix (everything up to the
// separator before the late instruction: shared by the content-free and the real query) and
// a tail per query (the query span: late instruction to the end of the chat suffix).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "models/llm/tokenizer/tokenizer.h"

namespace recsys::icr {

// The chat format around the prompt. The paper's Llama 3.1 and Mistral formats, ChatML for
// Qwen2, and plain text (no chat markers: base models).
enum class PromptFamily { kLlama3, kMistral, kChatMl, kPlain };
// The paper's two late instructions: question answering, and information extraction.
enum class Instruction { kQa, kIe };

absl::StatusOr<PromptFamily> ParsePromptFamily(
    const std::string& name);  // llama3, mistral, chatml, plain
absl::StatusOr<Instruction> ParseInstruction(const std::string& name);  // qa, ie
const char* PromptFamilyName(PromptFamily family);

struct PromptOptions {
  PromptFamily family = PromptFamily::kLlama3;
  Instruction instruction = Instruction::kQa;
  bool reverse_order = true;
  int64_t max_document_words = 300;
  // Prompt tokens in all (prefix + the longer of the two tails). Documents are cut, longest
  // first, until the prompt fits; only a prompt that cannot fit at all is refused.
  int64_t max_prompt_tokens = 4096;
  // Tokens kept for the query when documents are cut to the budget: a query up to this long
  // does not change the cuts, so the same documents make the same prefix whatever the query
  // (the prefix cache's key). A longer query takes its extra tokens from the documents.
  int64_t query_reserve_tokens = 64;
};

struct IcrDocument {
  std::string title, text;
};

struct TokenSpan {
  int64_t begin = 0, end = 0;  // [begin, end) in the prefix
  int64_t size() const { return end - begin; }
};

struct IcrPrompt {
  std::vector<int32_t> prefix;      // BOS, chat prefix, instruction, documents, the separator
  std::vector<int32_t> query_tail;  // late instruction, "Query:", the query, chat suffix
  std::vector<int32_t> na_tail;     // the same with the content-free query "N/A"
  // Per document, in request order: the tokens of "[i] <doc>" in the prefix, and whether
  // the document was cut (to the word limit or to fit the prompt budget).
  std::vector<TokenSpan> spans;
  std::vector<bool> cut_to_words, cut_to_budget;

  int64_t prompt_tokens() const { return static_cast<int64_t>(prefix.size() + query_tail.size()); }
  int64_t truncated_documents() const;
};

// The content-free query the calibration pass runs.
inline constexpr char kContentFreeQuery[] = "N/A";

// INVALID_ARGUMENT for an empty (all-space) query, no documents, or documents that cannot fit
// max_prompt_tokens even when cut to their "[i]" marker and one token (naming the budget).
// Control-token text inside the query or a document is read as plain text.
absl::StatusOr<IcrPrompt> BuildPrompt(const llm::Tokenizer& tokenizer, const PromptOptions& options,
                                      const std::string& query,
                                      const std::vector<IcrDocument>& documents);

// The paper's document text: (title + "\n" + first words of text).strip(); *cut says whether
// words were dropped.
std::string DocumentText(const IcrDocument& document, int64_t max_words, bool* cut);

}  // namespace recsys::icr
