#include "models/llm/tokenizer/chat_template.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace recsys::llm {
namespace {

absl::Status BadRole(const ChatMessage& m, const char* format) {
  return absl::InvalidArgumentError(
      absl::StrCat("messages: role '", m.role, "' has no place in the ", format, " format"));
}

}  // namespace

absl::StatusOr<ChatFormat> DetectChatFormat(const GgufFile& file) {
  if (file.Find("tokenizer.chat_template") != nullptr) {
    auto t = file.GetString("tokenizer.chat_template");
    if (t.ok()) {
      if (absl::StrContains(*t, "<|start_header_id|>")) return ChatFormat::kLlama3;
      if (absl::StrContains(*t, "<|im_start|>")) return ChatFormat::kChatMl;
      if (absl::StrContains(*t, "[INST]")) return ChatFormat::kMistral;
    }
  }
  auto arch = file.GetString("general.architecture");
  if (arch.ok() && *arch == "qwen2") return ChatFormat::kChatMl;
  return absl::InvalidArgumentError(absl::StrCat(
      file.name(), ": no chat format known from tokenizer.chat_template or the architecture"));
}

absl::StatusOr<std::string> FormatChat(ChatFormat format, const std::vector<ChatMessage>& messages,
                                       bool add_generation_prompt) {
  std::string out;
  switch (format) {
    case ChatFormat::kChatMl:
      for (const ChatMessage& m : messages) {
        absl::StrAppend(&out, "<|im_start|>", m.role, "\n", m.content, "<|im_end|>\n");
      }
      if (add_generation_prompt) out += "<|im_start|>assistant\n";
      return out;
    case ChatFormat::kLlama3:
      out = "<|begin_of_text|>";
      for (const ChatMessage& m : messages) {
        absl::StrAppend(&out, "<|start_header_id|>", m.role, "<|end_header_id|>\n\n",
                        absl::StripAsciiWhitespace(m.content), "<|eot_id|>");
      }
      if (add_generation_prompt) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
      return out;
    case ChatFormat::kMistral: {
      // No system role: a system message goes before the first user message's text.
      out = "<s>";
      std::string system;
      for (const ChatMessage& m : messages) {
        if (m.role == "system") {
          system = m.content;
        } else if (m.role == "user") {
          const std::string text = system.empty() ? m.content : system + "\n" + m.content;
          system.clear();
          absl::StrAppend(&out, "[INST] ", text, " [/INST]");
        } else if (m.role == "assistant") {
          absl::StrAppend(&out, m.content, "</s>");
        } else {
          return BadRole(m, "Mistral");
        }
      }
      return out;  // the reply follows [/INST] directly: nothing to open
    }
  }
  return absl::InvalidArgumentError("unknown chat format");
}

}  // namespace recsys::llm
