// Times the C++ SASRec / BERT4Rec on fixed inputs: loads a model version, reads
// {"histories": [[...]], "candidates": [[...]]} from --inputs, runs UserVectors + Score
// --iterations times after a warm-up, and prints {"median_us": .., "p90_us": .., "checksum": ..}.
// Driven by models/bench/seqrec_bench.py, which times the PyTorch module on the same inputs.
#include <google/protobuf/struct.pb.h>

#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "models/bench/bench_util.h"
#include "models/bert4rec/bert4rec.h"
#include "models/sasrec/sasrec.h"
#include "recsys/kernels/device.h"

ABSL_FLAG(std::string, model, "", "model version directory (config.json + model.safetensors)");
ABSL_FLAG(std::string, inputs, "", "JSON file with histories and candidates");
ABSL_FLAG(int, iterations, 20, "timed runs");
ABSL_FLAG(std::string, device, "cpu", "where the forward pass runs: cpu, cuda:<ordinal> or auto");

namespace {

std::vector<std::vector<int64_t>> IntMatrix(const google::protobuf::Value& v) {
  std::vector<std::vector<int64_t>> out;
  for (const auto& row : v.list_value().values()) {
    out.emplace_back();
    for (const auto& x : row.list_value().values()) {
      out.back().push_back(static_cast<int64_t>(x.number_value()));
    }
  }
  return out;
}

template <typename Model>
int Run(const Model& model, const std::vector<std::vector<int64_t>>& histories,
        const std::vector<std::vector<int64_t>>& candidates, int iterations) {
  double checksum = 0;
  const auto score = [&]() -> absl::Status {
    auto scores = model.Score(histories, candidates);
    if (!scores.ok()) return scores.status();
    checksum = 0;
    for (float s : *scores) checksum += s;
    return absl::OkStatus();
  };
  absl::StatusOr<std::vector<double>> us =
      recsys::models::bench::TimeRuns(score, iterations, /*warm_ups=*/2);
  if (!us.ok()) {
    std::cerr << us.status() << "\n";
    return 1;
  }
  std::cout << "{\"median_us\": " << (*us)[us->size() / 2]
            << ", \"p90_us\": " << (*us)[us->size() * 9 / 10] << ", \"checksum\": " << checksum
            << "}\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  absl::StatusOr<google::protobuf::Struct> root =
      recsys::models::bench::ReadJsonInputs(absl::GetFlag(FLAGS_inputs));
  if (!root.ok()) {
    std::cerr << "seqrec_infer: " << root.status() << "\n";
    return 2;
  }
  const auto histories = IntMatrix(root->fields().at("histories"));
  const auto candidates = IntMatrix(root->fields().at("candidates"));
  const std::string dir = absl::GetFlag(FLAGS_model);
  const int iterations = std::max(1, absl::GetFlag(FLAGS_iterations));
  const absl::StatusOr<recsys::kernels::Device> device =
      recsys::kernels::ParseDevice(absl::GetFlag(FLAGS_device));
  if (!device.ok()) {
    std::cerr << "seqrec_infer: --device: " << device.status() << "\n";
    return 2;
  }
  if (auto sasrec = recsys::models::SasRec::Load(dir, *device); sasrec.ok()) {
    return Run(**sasrec, histories, candidates, iterations);
  }
  auto bert = recsys::models::Bert4Rec::Load(dir, *device);
  if (!bert.ok()) {
    std::cerr << "seqrec_infer: " << bert.status() << "\n";
    return 1;
  }
  return Run(**bert, histories, candidates, iterations);
}
