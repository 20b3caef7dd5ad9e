// Times the C++ DARE / TWIN on fixed inputs: loads a model version, reads
// {"history_items": [...], "history_categories": [...], "candidate_items": [...],
// "candidate_categories": [...]} from --inputs, runs Score --iterations times after a warm-up,
// and prints {"median_us": .., "p90_us": .., "search_median_us": .. (Search alone, after the
// Score runs), "checksum": .., "max_rss_kb": ..,
// "loaded_rss_kb": ..}: the RSS before the first Score (model and inputs loaded) and the peak
// RSS while scoring (the peak is reset first); their difference is what scoring needed. Driven by
// models/bench/dare_bench.py, which times the PyTorch module on the same inputs.
#include <google/protobuf/struct.pb.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "models/bench/bench_util.h"
#include "models/dare/dare.h"

ABSL_FLAG(std::string, model, "", "model version directory (config.json + model.safetensors)");
ABSL_FLAG(std::string, inputs, "", "JSON file with the history and the candidates");
ABSL_FLAG(int, iterations, 20, "timed runs");

namespace {

using recsys::models::bench::ReadJsonInputs;
using recsys::models::bench::TimeRuns;

std::vector<int64_t> Ints(const google::protobuf::Struct& root, const std::string& key) {
  std::vector<int64_t> out;
  for (const auto& x : root.fields().at(key).list_value().values()) {
    out.push_back(static_cast<int64_t>(x.number_value()));
  }
  return out;
}

// A "Vm...:" line of /proc/self/status, in kB (0 when absent).
long StatusKb(const std::string& key) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(key, 0) == 0) return std::stol(line.substr(key.size()));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  absl::StatusOr<google::protobuf::Struct> inputs = ReadJsonInputs(absl::GetFlag(FLAGS_inputs));
  if (!inputs.ok()) {
    std::cerr << "dare_infer: " << inputs.status() << "\n";
    return 2;
  }
  google::protobuf::Struct& root = *inputs;
  auto model = recsys::models::Dare::Load(absl::GetFlag(FLAGS_model));
  if (!model.ok()) {
    std::cerr << "dare_infer: " << model.status() << "\n";
    return 1;
  }
  const auto hist = Ints(root, "history_items"), hist_cats = Ints(root, "history_categories");
  const auto cands = Ints(root, "candidate_items"), cand_cats = Ints(root, "candidate_categories");
  root.Clear();  // only the inputs stay resident
  // Reset the peak RSS (VmHWM) to the current RSS, so the peak read after scoring is what
  // scoring needed on top of the loaded model and inputs.
  std::ofstream("/proc/self/clear_refs") << "5";
  const long loaded_kb = StatusKb("VmRSS:");
  const int iterations = std::max(1, absl::GetFlag(FLAGS_iterations));
  double checksum = 0;
  const auto score = [&]() -> absl::Status {
    auto scores = (*model)->Score(hist, hist_cats, cands, cand_cats);
    if (!scores.ok()) return scores.status();
    checksum = 0;
    for (float p : scores->probabilities) checksum += p;
    return absl::OkStatus();
  };
  const auto search = [&]() { return (*model)->Search(hist, hist_cats, cands, cand_cats).status(); };
  absl::StatusOr<std::vector<double>> us = TimeRuns(score, iterations, /*warm_ups=*/1);
  const long peak_kb = StatusKb("VmHWM:");
  // The first stage alone (attention tokens, scores, top-K), for DARE's search-time claim.
  absl::StatusOr<std::vector<double>> search_us =
      us.ok() ? TimeRuns(search, iterations, /*warm_ups=*/1) : us.status();
  if (!search_us.ok()) {
    std::cerr << search_us.status() << "\n";
    return 1;
  }
  std::cout << "{\"median_us\": " << (*us)[us->size() / 2]
            << ", \"p90_us\": " << (*us)[us->size() * 9 / 10]
            << ", \"search_median_us\": " << (*search_us)[search_us->size() / 2]
            << ", \"checksum\": " << checksum
            << ", \"max_rss_kb\": " << peak_kb << ", \"loaded_rss_kb\": " << loaded_kb
            << "}\n";
  return 0;
}
