// llama.cpp's vocabulary test files ggml-vocab-NAME.gguf (with .inp / .out): from the shared
// data, else from the llama.cpp source that scripts/install-llama-cpp.sh unpacks
// ($RECSYS_LLAMA_CPP_DIR, default build/llama-cpp/llama.cpp of this checkout).
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

#include "tests/testing/shared_data.h"

namespace recsys::llm::testing {

// The path of ggml-vocab-NAME.gguf whose .out is beside it, or "" when neither place has it.
inline std::string VocabFile(const std::string& name) {
  const std::string file = "ggml-vocab-" + name + ".gguf";
  const std::string shared = recsys::testing::SharedDataPath("tokenizers-llamacpp-vocab/" + file);
  if (!shared.empty() && std::filesystem::exists(shared + ".out")) return shared;
  const char* env = std::getenv("RECSYS_LLAMA_CPP_DIR");
  const std::string root = env != nullptr && *env != '\0' ? env : RECSYS_LLAMA_CPP_DIR;
  const std::string path = root + "/models/" + file;
  return std::filesystem::exists(path) && std::filesystem::exists(path + ".out") ? path : "";
}

}  // namespace recsys::llm::testing
