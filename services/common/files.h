// Small file helpers whose errors name the flag that gave the path.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace recsys {

// The whole file, or INVALID_ARGUMENT "<flag>: cannot read '<path>'".
absl::StatusOr<std::string> ReadFileForFlag(absl::string_view flag, const std::string& path);

// A secret kept in a file (a token): its content without surrounding white space, or
// INVALID_ARGUMENT "<flag>: ..." when it cannot be read or holds nothing.
absl::StatusOr<std::string> ReadSecretForFlag(absl::string_view flag, const std::string& path);

}  // namespace recsys
