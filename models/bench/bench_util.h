// What the model inference drivers (seqrec_infer, dare_infer) share: reading the JSON inputs
// their Python harness writes, and timing repeated runs.
#pragma once

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace recsys::models::bench {

// The JSON object in the file at path; INVALID_ARGUMENT when it does not parse.
inline absl::StatusOr<google::protobuf::Struct> ReadJsonInputs(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  google::protobuf::Struct root;
  if (!google::protobuf::util::JsonStringToMessage(text.str(), &root).ok()) {
    return absl::InvalidArgumentError("cannot parse --inputs " + path);
  }
  return root;
}

// Microseconds of `iterations` runs of f after `warm_ups` untimed ones, sorted; f's first
// error instead.
template <typename F>
absl::StatusOr<std::vector<double>> TimeRuns(const F& f, int iterations, int warm_ups) {
  std::vector<double> us;
  for (int i = 0; i < iterations + warm_ups; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    const absl::Status status = f();
    const auto t1 = std::chrono::steady_clock::now();
    if (!status.ok()) return status;
    if (i >= warm_ups) us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  std::sort(us.begin(), us.end());
  return us;
}

}  // namespace recsys::models::bench
