// Command-line flags of recsys-server (Abseil flags), turned into ServerOptions.
// `recsys-server --help` lists them with their defaults.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/common/server_options.h"

namespace recsys {

// Reads every server flag into validated options. available: service names of this build.
absl::StatusOr<ServerOptions> ServerOptionsFromFlags(const std::vector<std::string>& available);

// Sets up logging from --log_format and --log_level.
absl::Status InitLoggingFromFlags();

}  // namespace recsys
