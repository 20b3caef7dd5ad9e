// rerank-eval: nDCG@10 of re-rankings of a first stage, through the C++ ICR path.
//   rerank-eval --dataset=dl19 [--data=DIR] [--model=VERSION_DIR] [--top=20] [--queries=N]
//   rerank-eval --dataset=cranfield ...   (BM25 first stage computed here)
// Prints, for the first stage's top --top: the first stage's own order, a random order (mean
// over --random_orders shuffles), and with --model ICR calibrated and query-only.
#include <algorithm>
#include <iostream>
#include <map>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "models/icr/eval/ir_eval.h"
#include "models/icr/icr_model.h"

ABSL_FLAG(std::string, dataset, "dl19", "dl19 or cranfield");
ABSL_FLAG(std::string, data, "",
          "the dataset's directory (default ../shared/data/ir-trec-dl-bm25-top100 or "
          "../shared/data/ir-cranfield)");
ABSL_FLAG(std::string, model, "", "an ICR model version directory (config.json + GGUF)");
ABSL_FLAG(int32_t, top, 20, "first-stage documents re-ranked per query");
ABSL_FLAG(int32_t, queries, 0, "queries evaluated (0 = all)");
ABSL_FLAG(int32_t, random_orders, 20, "shuffles averaged for the random order");
ABSL_FLAG(int64_t, max_prompt_tokens, 0, "prompt budget (0 = the model's context)");

namespace {

using recsys::icr::eval::Query;
using Ranked = std::map<std::string, std::vector<std::string>>;

int Fail(const absl::Status& s) {
  std::cerr << "rerank-eval: " << s << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("rerank-eval --dataset=dl19|cranfield [--model=DIR] [--top=20]");
  absl::ParseCommandLine(argc, argv);
  namespace ev = recsys::icr::eval;
  const std::string dataset = absl::GetFlag(FLAGS_dataset);
  const int top = absl::GetFlag(FLAGS_top);
  std::vector<Query> queries;
  ev::Qrels qrels;
  std::string data = absl::GetFlag(FLAGS_data);
  absl::Status read;
  if (dataset == "dl19") {
    if (data.empty()) data = "../shared/data/ir-trec-dl-bm25-top100";
    read = ev::ReadTrecDl(data + "/retrieve_results_dl19.json", data + "/qrels_dl19.json", &queries,
                          &qrels);
  } else if (dataset == "cranfield") {
    if (data.empty()) data = "../shared/data/ir-cranfield";
    read = ev::ReadCranfield(data, std::max(top, 100), &queries, &qrels);
  } else {
    std::cerr << "rerank-eval: --dataset must be dl19 or cranfield\n";
    return 2;
  }
  if (!read.ok()) return Fail(read);
  if (absl::GetFlag(FLAGS_queries) > 0 &&
      static_cast<size_t>(absl::GetFlag(FLAGS_queries)) < queries.size()) {
    queries.resize(absl::GetFlag(FLAGS_queries));
  }
  auto ids = [&](const Query& q, const std::vector<int>& order) {
    std::vector<std::string> out;
    for (int i : order) out.push_back(q.candidates[i].id);
    return out;
  };
  auto head = [&](const Query& q) {
    std::vector<int> order(std::min<size_t>(q.candidates.size(), static_cast<size_t>(top)));
    std::iota(order.begin(), order.end(), 0);
    return order;
  };
  Ranked first_stage_all, first_stage;
  for (const Query& q : queries) {
    std::vector<int> all(q.candidates.size());
    std::iota(all.begin(), all.end(), 0);
    first_stage_all[q.id] = ids(q, all);
    first_stage[q.id] = ids(q, head(q));
  }
  int counted = 0;
  const double full = ev::MeanNdcgAt(first_stage_all, qrels, 10, &counted);
  std::cout << absl::StrFormat(
      "%s: %d queries with a relevant document; first stage (BM25) "
      "order of all candidates: nDCG@10 %.4f\n",
      dataset, counted, full);
  std::cout << absl::StrFormat("re-ranking the first stage's top %d:\n", top);
  std::cout << absl::StrFormat("  %-22s nDCG@10 %.4f\n", "first stage order",
                               ev::MeanNdcgAt(first_stage, qrels, 10));
  std::mt19937 rng(7);
  double random_sum = 0;
  for (int r = 0; r < absl::GetFlag(FLAGS_random_orders); ++r) {
    Ranked shuffled;
    for (const Query& q : queries) {
      std::vector<int> order = head(q);
      std::shuffle(order.begin(), order.end(), rng);
      shuffled[q.id] = ids(q, order);
    }
    random_sum += ev::MeanNdcgAt(shuffled, qrels, 10);
  }
  std::cout << absl::StrFormat("  %-22s nDCG@10 %.4f (mean of %d)\n", "random order",
                               random_sum / absl::GetFlag(FLAGS_random_orders),
                               absl::GetFlag(FLAGS_random_orders));
  if (absl::GetFlag(FLAGS_model).empty()) return 0;
  auto model = recsys::icr::IcrModel::Load(absl::GetFlag(FLAGS_model), {});
  if (!model.ok()) return Fail(model.status());
  for (auto strategy : {recsys::icr::Strategy::kCalibrated, recsys::icr::Strategy::kQueryOnly}) {
    Ranked ranked;
    double seconds = 0;
    int64_t tokens = 0;
    for (const Query& q : queries) {
      std::vector<recsys::icr::IcrDocument> docs;
      for (int i : head(q)) docs.push_back({q.candidates[i].title, q.candidates[i].text});
      auto prompt =
          (*model)->BuildPrompt(q.text, docs, 300, absl::GetFlag(FLAGS_max_prompt_tokens));
      if (!prompt.ok()) return Fail(prompt.status());
      const absl::Time start = absl::Now();
      auto s = (*model)->Score(*prompt, strategy);
      if (!s.ok()) return Fail(s.status());
      seconds += absl::ToDoubleSeconds(absl::Now() - start);
      tokens += prompt->prompt_tokens();
      std::vector<int> order = head(q);
      std::stable_sort(order.begin(), order.end(),
                       [&](int a, int b) { return s->scores[a] > s->scores[b]; });
      ranked[q.id] = ids(q, order);
    }
    const bool calibrated = strategy == recsys::icr::Strategy::kCalibrated;
    std::cout << absl::StrFormat("  %-22s nDCG@10 %.4f (%.2f s and %d prompt tokens a query)\n",
                                 calibrated ? "ICR calibrated" : "ICR query-only",
                                 ev::MeanNdcgAt(ranked, qrels, 10), seconds / queries.size(),
                                 tokens / static_cast<int64_t>(queries.size()));
  }
  return 0;
}
