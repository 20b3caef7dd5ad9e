// The chat formats the LLM services write prompts in: Llama 3 instruct, Mistral's [INST]
// (Mistral-7B-Instruct v0.1 / v0.2) and ChatML (Qwen2). Written in code, not by running the
// file's Jinja template; the text each produces is llama.cpp's for the same conversation
// (tests/models/llm/chat_template_test.cc). Encode the result with parse_special = true.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "models/llm/gguf/gguf_file.h"

namespace recsys::llm {

enum class ChatFormat { kLlama3, kMistral, kChatMl };

struct ChatMessage {
  std::string role;  // system, user or assistant
  std::string content;
};

// The format of a model file: from tokenizer.chat_template when it names one of the formats'
// markers, else by architecture (qwen2: ChatML). INVALID_ARGUMENT when neither tells.
absl::StatusOr<ChatFormat> DetectChatFormat(const GgufFile& file);

// The conversation as prompt text, opened for the assistant's reply when add_generation_prompt.
// INVALID_ARGUMENT for a role the format has no place for.
absl::StatusOr<std::string> FormatChat(ChatFormat format, const std::vector<ChatMessage>& messages,
                                       bool add_generation_prompt);

}  // namespace recsys::llm
