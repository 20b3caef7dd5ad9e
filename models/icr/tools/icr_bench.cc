// icr-bench: ICR's cost on a GGUF (the project's random-weight files at real model shapes,
// recsys_train.llm.bench_models): a prompt of --documents documents of --document_words
// words, scored with calibrated ICR (pass 1: prefix and content-free tail; pass 2: the query's
// tail), then again with the prefix cached, and query-only; best of --repeat. Prints the
// times, pass 2 / pass 1, the prefix-hit speed-up, and with --dump the prompt's tokens and
// spans as JSON for the PyTorch side (recsys_train.llm.icr_bench, scripts/bench-icr.sh).
#include <algorithm>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "models/icr/icr_model.h"

ABSL_FLAG(int64_t, documents, 20, "documents in the prompt");
ABSL_FLAG(int64_t, document_words, 100, "words per document");
ABSL_FLAG(int32_t, repeat, 2, "runs of each measurement (the best is reported)");
ABSL_FLAG(std::string, dump, "", "write the prompt's token ids and spans here (JSON)");

namespace {

using recsys::icr::IcrDocument;
using recsys::icr::IcrModel;
using recsys::icr::IcrPrompt;
using recsys::icr::Strategy;

// Deterministic English-like text.
std::string Words(int64_t n, uint64_t seed) {
  static const char* kWords[] = {"the",     "river",   "capital",  "city",   "north",
                                 "ancient", "market",  "bridge",   "museum", "winter",
                                 "trade",   "harbour", "railway",  "school", "garden",
                                 "tower",   "field",   "mountain", "people", "history"};
  std::string out;
  for (int64_t i = 0; i < n; ++i) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    absl::StrAppend(&out, i ? " " : "", kWords[(seed >> 33) % 20]);
  }
  return out + ".";
}

int Fail(const absl::Status& s) {
  std::cerr << "icr-bench: " << s << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("icr-bench MODEL.gguf [--documents=20] [--document_words=100]");
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() != 2) {
    std::cerr << "usage: icr-bench MODEL.gguf [flags]\n";
    return 2;
  }
  auto llm = recsys::llm::LlmModel::Load(args[1], recsys::kernels::Device::Cpu());
  if (!llm.ok()) return Fail(llm.status());
  recsys::icr::IcrSettings settings;
  settings.last_layer = (*llm)->config().layers - 1;
  recsys::icr::IcrModelOptions options;
  options.prefix_cache_bytes = int64_t{16} << 30;
  auto model = IcrModel::FromLlm(*std::move(llm), settings, options);
  if (!model.ok()) return Fail(model.status());
  const IcrModel& m = **model;
  recsys::icr::PromptOptions po = m.MakePromptOptions(1 << 30, 0);
  po.max_prompt_tokens = int64_t{1} << 30;  // the bench sizes the prompt itself
  // Run r's documents differ by their titles, so each run's first call misses the cache.
  auto make = [&](int run, const std::string& query) {
    std::vector<IcrDocument> docs;
    for (int64_t d = 0; d < absl::GetFlag(FLAGS_documents); ++d) {
      docs.push_back({absl::StrCat("Document ", d, " of run ", run),
                      Words(absl::GetFlag(FLAGS_document_words), d)});
    }
    return recsys::icr::BuildPrompt(m.llm().tokenizer(), po, query, docs);
  };
  double pass1 = 1e30, pass2 = 1e30, miss = 1e30, hit = 1e30, query_only = 1e30;
  IcrPrompt shown;
  std::vector<double> shown_scores;
  for (int r = 0; r < absl::GetFlag(FLAGS_repeat); ++r) {
    auto prompt = make(r, "which city has the ancient harbour");
    auto again = make(r, "the railway bridge in winter");
    auto single = make(1000 + r, "which city has the ancient harbour");
    if (!prompt.ok() || !again.ok() || !single.ok()) return Fail(prompt.status());
    shown = *prompt;
    absl::Time t = absl::Now();
    auto s = m.Score(*prompt, Strategy::kCalibrated);
    if (!s.ok()) return Fail(s.status());
    miss = std::min(miss, absl::ToDoubleSeconds(absl::Now() - t));
    shown_scores = s->scores;
    pass1 = std::min(pass1, absl::ToDoubleSeconds(s->pass1));
    pass2 = std::min(pass2, absl::ToDoubleSeconds(s->pass2));
    t = absl::Now();
    auto h = m.Score(*again, Strategy::kCalibrated);
    if (!h.ok()) return Fail(h.status());
    if (!h->prefix_hit) return Fail(absl::InternalError("the second query missed the cache"));
    hit = std::min(hit, absl::ToDoubleSeconds(absl::Now() - t));
    t = absl::Now();
    auto q = m.Score(*single, Strategy::kQueryOnly);
    if (!q.ok()) return Fail(q.status());
    query_only = std::min(query_only, absl::ToDoubleSeconds(absl::Now() - t));
  }
  std::cout << absl::StrFormat(
      "%d documents x %d words: prompt %d tokens (prefix %d, query tail %d, N/A tail %d)\n"
      "calibrated, prefix not cached: %.3f s (pass 1 %.3f s, pass 2 %.3f s: pass 2 / pass 1 "
      "= %.3f)\n"
      "calibrated, prefix cached (another query, same documents): %.3f s, %.2fx faster\n"
      "query-only (one pass over the whole prompt): %.3f s\n",
      absl::GetFlag(FLAGS_documents), absl::GetFlag(FLAGS_document_words), shown.prompt_tokens(),
      shown.prefix.size(), shown.query_tail.size(), shown.na_tail.size(), miss, pass1, pass2,
      pass2 / pass1, hit, miss / hit, query_only);
  if (const std::string dump = absl::GetFlag(FLAGS_dump); !dump.empty()) {
    std::ofstream out(dump);
    out << "{\"prefix\": [" << absl::StrJoin(shown.prefix, ",") << "], \"query_tail\": ["
        << absl::StrJoin(shown.query_tail, ",") << "], \"na_tail\": ["
        << absl::StrJoin(shown.na_tail, ",") << "], \"spans\": [";
    for (size_t i = 0; i < shown.spans.size(); ++i) {
      out << (i ? "," : "") << "[" << shown.spans[i].begin << "," << shown.spans[i].end << "]";
    }
    out << "], \"scores\": [" << absl::StrJoin(shown_scores, ",")
        << "], \"seconds\": {\"calibrated\": " << miss << ", \"pass1\": " << pass1
        << ", \"pass2\": " << pass2 << ", \"cached\": " << hit << "}}\n";
  }
  return 0;
}
