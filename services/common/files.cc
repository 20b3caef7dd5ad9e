#include "services/common/files.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace recsys {

absl::StatusOr<std::string> ReadFileForFlag(absl::string_view flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat(flag, ": cannot read '", path, "'"));
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

absl::StatusOr<std::string> ReadSecretForFlag(absl::string_view flag, const std::string& path) {
  absl::StatusOr<std::string> content = ReadFileForFlag(flag, path);
  if (!content.ok()) return content.status();
  std::string secret(absl::StripAsciiWhitespace(*content));
  if (secret.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(flag, ": the file holds no token"));
  }
  return secret;
}

}  // namespace recsys
