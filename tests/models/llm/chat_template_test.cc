#include "models/llm/tokenizer/chat_template.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "tests/models/llm/gguf_builder.h"

namespace recsys::llm {
namespace {

// llama.cpp's conversation in tests/test-chat-template.cpp, and its expected text for each
// format (with an empty BOS, which our formats write as the model's BOS text).
const std::vector<ChatMessage> kConversation = {{"system", "You are a helpful assistant"},
                                                {"user", "Hello"},
                                                {"assistant", "Hi there"},
                                                {"user", "Who are you"},
                                                {"assistant", "   I am an assistant   "},
                                                {"user", "Another question"}};

TEST(ChatTemplateTest, WritesWhatLlamaCppWritesForEachFormat) {
  EXPECT_EQ(*FormatChat(ChatFormat::kChatMl, kConversation, true),
            "<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nHello"
            "<|im_end|>\n<|im_start|>assistant\nHi there<|im_end|>\n<|im_start|>user\nWho are "
            "you<|im_end|>\n<|im_start|>assistant\n   I am an assistant   <|im_end|>\n"
            "<|im_start|>user\nAnother question<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_EQ(*FormatChat(ChatFormat::kLlama3, kConversation, true),
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are a helpful "
            "assistant<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\nHi there<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nWho are you<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\nI am an assistant<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nAnother question<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n");
  EXPECT_EQ(*FormatChat(ChatFormat::kMistral, kConversation, true),
            "<s>[INST] You are a helpful assistant\nHello [/INST]Hi there</s>[INST] Who are you "
            "[/INST]   I am an assistant   </s>[INST] Another question [/INST]");
  EXPECT_EQ(FormatChat(ChatFormat::kMistral, {{"tool", "x"}}, true).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ChatTemplateTest, DetectsTheFormatFromTheFile) {
  auto detect = [](testing::GgufBuilder b) {
    const std::string bytes = b.Build();
    auto file = GgufFile::FromBytes(bytes, "m.gguf");
    EXPECT_TRUE(file.ok());
    return DetectChatFormat(**file);
  };
  EXPECT_EQ(*detect(testing::GgufBuilder().String("tokenizer.chat_template",
                                                  "{{'<|start_header_id|>' + role}}")),
            ChatFormat::kLlama3);
  EXPECT_EQ(*detect(testing::GgufBuilder().String("tokenizer.chat_template", "[INST] x")),
            ChatFormat::kMistral);
  EXPECT_EQ(*detect(testing::GgufBuilder().String("general.architecture", "qwen2")),
            ChatFormat::kChatMl);
  EXPECT_FALSE(detect(testing::GgufBuilder().String("general.architecture", "llama")).ok());
}

}  // namespace
}  // namespace recsys::llm
