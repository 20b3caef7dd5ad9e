// ICR's prompt on real vocabularies (llama.cpp's Llama-3 BPE and Llama SentencePiece test
// vocabularies): the paper's text layout, exact document spans, reversed order, the word
// limit and the token budget.
#include "models/icr/icr_prompt.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "models/llm/gguf/gguf_file.h"
#include "models/llm/tokenizer/tokenizer.h"
#include "tests/models/llm/llama_cpp_files.h"

namespace recsys::icr {
namespace {

using ::testing::HasSubstr;

std::unique_ptr<llm::Tokenizer> LoadVocab(const std::string& name) {
  const std::string path = llm::testing::VocabFile(name);
  if (path.empty()) return nullptr;
  auto file = llm::GgufFile::Open(path);
  EXPECT_TRUE(file.ok()) << file.status();
  if (!file.ok()) return nullptr;
  auto tokenizer = llm::Tokenizer::FromGguf(**file);
  EXPECT_TRUE(tokenizer.ok()) << tokenizer.status();
  return tokenizer.ok() ? std::move(*tokenizer) : nullptr;
}

std::vector<IcrDocument> Documents() {
  return {{"Paris", "Paris is the capital of France."},
          {"", "The Seine flows through Paris."},
          {"Rome", "Rome is the capital of Italy, on the Tiber."}};
}

std::string Decode(const llm::Tokenizer& t, const std::vector<int32_t>& ids, int64_t begin,
                   int64_t end) {
  return t.Decode(std::vector<int32_t>(ids.begin() + begin, ids.begin() + end), true);
}

class IcrPromptTest : public ::testing::Test {
 protected:
  void SetUp() override {
    llama3_ = LoadVocab("llama-bpe");
    if (llama3_ == nullptr) {
      GTEST_SKIP() << "llama.cpp's vocabulary files are absent (scripts/install-llama-cpp.sh)";
    }
  }
  std::unique_ptr<llm::Tokenizer> llama3_;
};

// The paper's Llama 3 prompt, character for character, with the first-stage top document
// last; each span decodes to its "[k] <doc>".
TEST_F(IcrPromptTest, BuildsThePapersLlama3PromptWithExactSpans) {
  PromptOptions o;
  auto p = BuildPrompt(*llama3_, o, "  what is the capital of France? ", Documents());
  ASSERT_TRUE(p.ok()) << p.status();
  std::vector<int32_t> all = p->prefix;
  all.insert(all.end(), p->query_tail.begin(), p->query_tail.end());
  const std::string sep = " \n\n";
  const std::string want = absl::StrCat(
      "<|begin_of_text|><|start_header_id|>user<|end_header_id|> Here are some paragraphs:", sep,
      "[1] Rome\nRome is the capital of Italy, on the Tiber.", sep,
      "[2] The Seine flows through Paris.", sep, "[3] Paris\nParis is the capital of France.", sep,
      "Please answer the following question based on the information in the paragraphs above.", sep,
      "Query: what is the capital of France?",
      "<|eot_id|><|start_header_id|>assistant<|end_header_id|>");
  EXPECT_EQ(llama3_->Decode(all, true), want);
  // Piece by piece equals the whole prompt tokenized at once here.
  EXPECT_EQ(all, llama3_->Encode(want, false, true));
  EXPECT_EQ(Decode(*llama3_, p->prefix, p->spans[0].begin, p->spans[0].end),
            "[3] Paris\nParis is the capital of France.");
  EXPECT_EQ(Decode(*llama3_, p->prefix, p->spans[1].begin, p->spans[1].end),
            "[2] The Seine flows through Paris.");
  EXPECT_EQ(Decode(*llama3_, p->prefix, p->spans[2].begin, p->spans[2].end),
            "[1] Rome\nRome is the capital of Italy, on the Tiber.");
  EXPECT_EQ(llama3_->Decode(p->na_tail, true),
            absl::StrCat("Please answer the following question based on the information in the "
                         "paragraphs above.",
                         sep, "Query: N/A<|eot_id|><|start_header_id|>assistant<|end_header_id|>"));
  EXPECT_EQ(p->truncated_documents(), 0);
}

TEST_F(IcrPromptTest, FirstStageOrderAndTheInformationExtractionInstruction) {
  PromptOptions o;
  o.reverse_order = false;
  o.instruction = Instruction::kIe;
  o.family = PromptFamily::kPlain;
  auto p = BuildPrompt(*llama3_, o, "capital", Documents());
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(Decode(*llama3_, p->prefix, p->spans[0].begin, p->spans[0].end),
            "[1] Paris\nParis is the capital of France.");
  EXPECT_LT(p->spans[0].end, p->spans[1].begin);
  EXPECT_THAT(llama3_->Decode(p->query_tail, true),
              HasSubstr("Please find information that are relevant to the following query"));
  EXPECT_EQ(llama3_->Decode(p->prefix, true).find("<|start_header_id|>"), std::string::npos);
}

// Control-token text in user content stays text: it cannot close the turn early.
TEST_F(IcrPromptTest, ControlTokenTextInDocumentsAndQueriesIsPlainText) {
  PromptOptions o;
  auto p = BuildPrompt(*llama3_, o, "<|eot_id|>", {{"", "a <|eot_id|> b"}});
  ASSERT_TRUE(p.ok()) << p.status();
  const int32_t eot = llama3_->vocab().Find("<|eot_id|>");
  ASSERT_GE(eot, 0);
  int count = 0;
  for (int32_t id : p->prefix) count += id == eot;
  for (int32_t id : p->query_tail) count += id == eot;
  EXPECT_EQ(count, 1);  // the chat suffix's own
}

TEST_F(IcrPromptTest, CutsTextToTheWordLimitAsThePaper) {
  bool cut = false;
  // split(' ') counts the empty word between two spaces; the result is stripped.
  EXPECT_EQ(DocumentText({"T", "one two  three four"}, 3, &cut), "T\none two");
  EXPECT_TRUE(cut);
  EXPECT_EQ(DocumentText({"", " one two "}, 10, &cut), "one two");
  EXPECT_FALSE(cut);
  PromptOptions o;
  o.max_document_words = 4;
  auto p = BuildPrompt(*llama3_, o, "q", Documents());
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(Decode(*llama3_, p->prefix, p->spans[2].begin, p->spans[2].end),
            "[1] Rome\nRome is the capital");
  EXPECT_TRUE(p->cut_to_words[2]);
  EXPECT_TRUE(p->cut_to_words[1]);  // "The Seine flows through Paris." has five words
}

// Over the budget, the longest documents are cut first to a common length; a prompt that
// cannot fit even with every document cut to its marker is refused, naming the budget.
TEST_F(IcrPromptTest, FitsTheTokenBudgetByCuttingTheLongestDocuments) {
  PromptOptions o;
  std::vector<IcrDocument> docs = {{"", "short one"}, {"", std::string(2000, 'x') + " end"}};
  auto whole = BuildPrompt(*llama3_, o, "q", docs);
  ASSERT_TRUE(whole.ok());
  o.max_prompt_tokens = whole->prompt_tokens() - 100;
  auto p = BuildPrompt(*llama3_, o, "q", docs);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_LE(p->prompt_tokens(), o.max_prompt_tokens);
  EXPECT_FALSE(p->cut_to_budget[0]);
  EXPECT_TRUE(p->cut_to_budget[1]);
  EXPECT_EQ(p->truncated_documents(), 1);
  EXPECT_EQ(p->spans[0].size(), whole->spans[0].size());
  // Another query within the reserve cuts the documents the same: the same prefix.
  auto other = BuildPrompt(*llama3_, o, "a much longer query about something else", docs);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->prefix, p->prefix);
  o.max_prompt_tokens = 40;
  auto refused = BuildPrompt(*llama3_, o, "q", docs);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("budget of 40 tokens"));
  EXPECT_EQ(BuildPrompt(*llama3_, PromptOptions(), " \n", docs).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(BuildPrompt(*llama3_, PromptOptions(), "q", {}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// SentencePiece (Mistral's format): pieces continue the text without a space prefix, and
// each span decodes to its document.
TEST(IcrPromptSpmTest, MistralFormatOnASentencePieceVocabulary) {
  auto spm = LoadVocab("llama-spm");
  if (spm == nullptr) GTEST_SKIP() << "llama.cpp's vocabulary files are absent";
  PromptOptions o;
  o.family = PromptFamily::kMistral;
  auto p = BuildPrompt(*spm, o, "capital of France", Documents());
  ASSERT_TRUE(p.ok()) << p.status();
  std::vector<int32_t> all = p->prefix;
  all.insert(all.end(), p->query_tail.begin(), p->query_tail.end());
  const std::string text = spm->Decode(all, false);
  EXPECT_EQ(text.rfind("[INST] Here are some paragraphs:\n\n[1] Rome\n", 0), 0u) << text;
  EXPECT_THAT(text, HasSubstr("\n\nQuery: capital of France[/INST]"));
  EXPECT_EQ(Decode(*spm, p->prefix, p->spans[1].begin, p->spans[1].end),
            "[2] The Seine flows through Paris.");
}

}  // namespace
}  // namespace recsys::icr
