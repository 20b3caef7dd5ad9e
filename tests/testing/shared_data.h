// The project's shared datasets (../shared/data next to the checkout, or $RECSYS_SHARED_DATA):
// licensed data that is never committed, so tests that read it skip when it is absent.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

namespace recsys::testing {

// The path of `relative` under the shared data folder, or "" when it does not exist.
inline std::string SharedDataPath(const std::string& relative) {
  const char* env = std::getenv("RECSYS_SHARED_DATA");
  const std::filesystem::path root = env != nullptr && *env != '\0'
                                         ? std::filesystem::path(env)
                                         : std::filesystem::path(RECSYS_SHARED_DATA_DIR);
  const std::filesystem::path path = root / relative;
  std::error_code ec;
  return std::filesystem::exists(path, ec) ? path.string() : std::string();
}

}  // namespace recsys::testing
