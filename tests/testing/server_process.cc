#include "tests/testing/server_process.h"

#include <cstdio>
#include <regex>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace recsys::testing {
namespace {

// Pulls "key":123 out of the ports file.
std::optional<int> JsonInt(const std::string& json, const std::string& key) {
  std::smatch m;
  if (!std::regex_search(json, m, std::regex("\"" + key + "\":([0-9]+)"))) return std::nullopt;
  int value = 0;
  if (!absl::SimpleAtoi(m[1].str(), &value)) return std::nullopt;
  return value;
}

}  // namespace

absl::StatusOr<ServerPorts> StartServerProcess(const std::vector<std::string>& argv,
                                               const std::string& output_dir,
                                               const std::string& ports_file,
                                               std::optional<Subprocess>* process,
                                               absl::Duration timeout) {
  std::remove(ports_file.c_str());  // a file from an earlier run must not count
  absl::StatusOr<Subprocess> started = Subprocess::Start(argv, output_dir);
  if (!started.ok()) return started.status();
  process->emplace(*std::move(started));
  const absl::Time give_up = absl::Now() + timeout;
  while (absl::Now() < give_up) {
    const std::string ports = ReadFileOrEmpty(ports_file);
    if (!ports.empty() && ports.back() == '\n') {  // written whole
      ServerPorts out;
      out.grpc_port = JsonInt(ports, "grpc_port").value_or(0);
      out.metrics_port = JsonInt(ports, "metrics_port").value_or(0);
      if (out.grpc_port <= 0 || out.metrics_port <= 0) {
        return absl::InternalError(absl::StrCat("bad ports file: ", ports));
      }
      return out;
    }
    if ((*process)->Wait(absl::Milliseconds(20)).has_value()) {
      return absl::InternalError(
          absl::StrCat(argv[0], " exited during start-up:\n", (*process)->Stderr()));
    }
  }
  return absl::DeadlineExceededError(absl::StrCat(argv[0], " wrote no ports file within ",
                                                  absl::FormatDuration(timeout), ":\n",
                                                  (*process)->Stderr()));
}

}  // namespace recsys::testing
