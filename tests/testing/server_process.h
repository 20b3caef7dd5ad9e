// Starts a server binary that announces its ports in a ports file ({"grpc_port":N,
// "metrics_port":M}, as recsys-server --ports_file writes it once ready) and waits for it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/testing/subprocess.h"

namespace recsys::testing {

struct ServerPorts {
  int grpc_port = 0;
  int metrics_port = 0;
};

// Starts argv (outputs in output_dir) and waits until ports_file appears. On success the
// process is in *process; an early exit or a timeout is an error carrying its stderr.
absl::StatusOr<ServerPorts> StartServerProcess(const std::vector<std::string>& argv,
                                               const std::string& output_dir,
                                               const std::string& ports_file,
                                               std::optional<Subprocess>* process,
                                               absl::Duration timeout = absl::Seconds(60));

}  // namespace recsys::testing
