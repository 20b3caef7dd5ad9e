#include "services/common/files.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace recsys {

absl::StatusOr<std::string> ReadFileForFlag(absl::string_view flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat(flag, ": cannot read '", path, "'"));
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

}  // namespace recsys
