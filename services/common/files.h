// Small file helpers whose errors name the flag that gave the path.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace recsys {

// The whole file, or INVALID_ARGUMENT "<flag>: cannot read '<path>'".
absl::StatusOr<std::string> ReadFileForFlag(absl::string_view flag, const std::string& path);

}  // namespace recsys
