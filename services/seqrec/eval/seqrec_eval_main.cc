// seqrec-eval: scores an exported SASRec / BERT4Rec version on a `user item` file through the
// C++ inference the service runs, with the training code's protocols. Prints one line per
// protocol in the training code's format, then {"test"|"valid": {protocol: metrics}} as JSON.
//
//   seqrec-eval --model=<repo>/<name>/<version> --data=beauty.txt --protocols=popularity,full
#include <iomanip>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_split.h"
#include "services/seqrec/eval/seqrec_eval.h"

ABSL_FLAG(std::string, model, "", "model version directory (config.json + model.safetensors)");
ABSL_FLAG(std::string, data, "", "`user item` interaction file, grouped by user in time order");
ABSL_FLAG(std::string, protocols, "popularity,uniform,full",
          "comma-separated: popularity (BERT4Rec's), uniform (SASRec's), full");
ABSL_FLAG(std::string, target, "test", "test (last item) or valid (second last)");
ABSL_FLAG(int, negatives, 100, "sampled negatives per user");
ABSL_FLAG(int64_t, max_users, 0, "evaluate a seeded sample of this many users (0 = all)");
ABSL_FLAG(uint64_t, seed, 12345, "seed of the user sample and the negatives");
ABSL_FLAG(int64_t, batch_size, 256, "users per forward pass");

namespace {

std::string Json(const recsys::seqrec::EvalMetrics& m) {
  std::ostringstream out;
  out << std::setprecision(6) << "{\"HR@1\": " << m.hr1 << ", \"HR@5\": " << m.hr5
      << ", \"HR@10\": " << m.hr10 << ", \"NDCG@5\": " << m.ndcg5 << ", \"NDCG@10\": "
      << m.ndcg10 << ", \"MRR\": " << m.mrr << ", \"users\": " << m.users << "}";
  return out.str();
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("seqrec-eval --model=DIR --data=FILE [--protocols=...]");
  absl::ParseCommandLine(argc, argv);
  using namespace recsys::seqrec;
  const std::string target = absl::GetFlag(FLAGS_target);
  if (absl::GetFlag(FLAGS_model).empty() || absl::GetFlag(FLAGS_data).empty() ||
      (target != "test" && target != "valid")) {
    std::cerr << "seqrec-eval: --model and --data are required; --target is test or valid\n";
    return 2;
  }
  auto model = SeqRecModel::Load(absl::GetFlag(FLAGS_model));
  if (!model.ok()) {
    std::cerr << "seqrec-eval: " << model.status() << "\n";
    return 1;
  }
  auto log = ReadInteractions(absl::GetFlag(FLAGS_data));
  if (!log.ok()) {
    std::cerr << "seqrec-eval: " << log.status() << "\n";
    return 1;
  }
  std::string json = "{\"" + target + "\": {";
  bool first = true;
  const std::vector<std::string> names = absl::StrSplit(absl::GetFlag(FLAGS_protocols), ',');
  for (const std::string& name : names) {
    auto protocol = ParseProtocol(name);
    if (!protocol.ok()) {
      std::cerr << "seqrec-eval: --protocols: " << protocol.status().message() << "\n";
      return 2;
    }
    EvalOptions options;
    options.protocol = *protocol;
    options.test = target == "test";
    options.num_negatives = absl::GetFlag(FLAGS_negatives);
    options.max_users = absl::GetFlag(FLAGS_max_users);
    options.seed = absl::GetFlag(FLAGS_seed);
    options.batch_size = absl::GetFlag(FLAGS_batch_size);
    auto ranks = RankHeldOut(**model, *log, options);
    if (!ranks.ok()) {
      std::cerr << "seqrec-eval: " << ranks.status() << "\n";
      return 1;
    }
    const EvalMetrics m = MetricsFromRanks(*ranks);
    std::cout << std::fixed << std::setprecision(4) << target << "[" << name << "] HR@1="
              << m.hr1 << " HR@5=" << m.hr5 << " HR@10=" << m.hr10 << " NDCG@5=" << m.ndcg5
              << " NDCG@10=" << m.ndcg10 << " MRR=" << m.mrr << " users=" << m.users << "\n";
    json += (first ? "\"" : ", \"") + name + "\": " + Json(m);
    first = false;
  }
  std::cout << json << "}}\n";
  return 0;
}
