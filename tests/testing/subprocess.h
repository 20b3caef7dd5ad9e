// Runs a real binary for integration tests: stdout and stderr go to files so they can be
// read back (and printed on failure), the process can be signalled and waited for with a
// time limit. The destructor kills a process that is still running.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace recsys::testing {

class Subprocess {
 public:
  // Starts argv[0] with argv; output files are created in output_dir.
  static absl::StatusOr<Subprocess> Start(const std::vector<std::string>& argv,
                                          const std::string& output_dir);

  Subprocess(Subprocess&& other) noexcept;
  Subprocess& operator=(Subprocess&&) = delete;
  ~Subprocess();

  pid_t pid() const { return pid_; }
  bool Signal(int signal_number) const;

  // The exit status if the process ended within timeout: the exit code, or 128 + signal
  // number when a signal killed it. nullopt when it is still running.
  std::optional<int> Wait(absl::Duration timeout);

  std::string Stdout() const;
  std::string Stderr() const;

 private:
  Subprocess(pid_t pid, std::string stdout_path, std::string stderr_path)
      : pid_(pid), stdout_path_(std::move(stdout_path)), stderr_path_(std::move(stderr_path)) {}

  pid_t pid_ = -1;
  std::optional<int> exit_status_;
  std::string stdout_path_;
  std::string stderr_path_;
};

// Runs argv to completion (at most timeout) and returns {exit status, stdout, stderr}.
struct RunResult {
  int exit_status = -1;
  std::string out;
  std::string err;
};
absl::StatusOr<RunResult> RunToCompletion(const std::vector<std::string>& argv,
                                          const std::string& output_dir,
                                          absl::Duration timeout = absl::Seconds(30));

// Reads a whole file; empty if missing.
std::string ReadFileOrEmpty(const std::string& path);

}  // namespace recsys::testing
