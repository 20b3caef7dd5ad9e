#include "services/seqrec/eval/seqrec_eval.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "recsys/kernels/context.h"
#include "recsys/kernels/gemm.h"

namespace recsys::seqrec {

absl::StatusOr<InteractionLog> ReadInteractions(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  InteractionLog log;
  absl::flat_hash_map<std::string, size_t> user_index;
  std::string line;
  for (int64_t number = 1; std::getline(in, line); ++number) {
    std::istringstream fields(line);
    std::string user;
    if (!(fields >> user)) continue;  // blank line
    int64_t item = 0;
    if (!(fields >> item)) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", number, ": expected 'user item', got '", line, "'"));
    }
    auto [it, added] = user_index.emplace(user, log.sequences.size());
    if (added) log.sequences.emplace_back();
    log.sequences[it->second].push_back(item);
  }
  return log;
}

absl::StatusOr<Protocol> ParseProtocol(const std::string& name) {
  if (name == "uniform") return Protocol::kUniform;
  if (name == "popularity") return Protocol::kPopularity;
  if (name == "full") return Protocol::kFull;
  return absl::InvalidArgumentError(
      absl::StrCat("protocol '", name, "' is not uniform, popularity or full"));
}

const char* ProtocolName(Protocol protocol) {
  switch (protocol) {
    case Protocol::kUniform: return "uniform";
    case Protocol::kPopularity: return "popularity";
    case Protocol::kFull: return "full";
  }
  return "?";
}

EvalMetrics MetricsFromRanks(const std::vector<int64_t>& ranks) {
  EvalMetrics m;
  m.users = static_cast<int64_t>(ranks.size());
  if (ranks.empty()) return m;
  for (int64_t r : ranks) {
    const double gain = 1.0 / std::log2(static_cast<double>(r) + 2.0);
    m.hr1 += r < 1;
    m.hr5 += r < 5;
    m.hr10 += r < 10;
    m.ndcg5 += r < 5 ? gain : 0.0;
    m.ndcg10 += r < 10 ? gain : 0.0;
    m.mrr += 1.0 / (static_cast<double>(r) + 1.0);
  }
  const double n = static_cast<double>(ranks.size());
  for (double* v : {&m.hr1, &m.hr5, &m.hr10, &m.ndcg5, &m.ndcg10, &m.mrr}) *v /= n;
  return m;
}

namespace {

struct EvalUser {
  std::vector<int64_t> history;  // internal rows, oldest first
  int64_t positive = 0;
  std::vector<int64_t> rated;    // every row of the user, sorted
};

// The users with a held-out item (>= 3 interactions), mapped to the model's rows.
absl::StatusOr<std::vector<EvalUser>> HeldOutUsers(const SeqRecModel& model,
                                                   const InteractionLog& log, bool test,
                                                   std::vector<double>* counts) {
  std::vector<EvalUser> users;
  for (size_t u = 0; u < log.sequences.size(); ++u) {
    const std::vector<int64_t>& seq = log.sequences[u];
    std::vector<int64_t> rows;
    rows.reserve(seq.size());
    for (size_t j = 0; j < seq.size(); ++j) {
      const std::optional<int64_t> row = model.Row(seq[j]);
      if (!row) {
        return absl::InvalidArgumentError(absl::StrCat("user ", u, ", interaction ", j,
                                                       ": item ", seq[j],
                                                       " is not in the model's catalogue"));
      }
      rows.push_back(*row);
      (*counts)[*row] += 1;
    }
    if (rows.size() < 3) continue;
    EvalUser user;
    const size_t cut = rows.size() - (test ? 1 : 2);  // history = rows[0, cut)
    user.history.assign(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(cut));
    user.positive = rows[cut];
    user.rated = rows;
    std::sort(user.rated.begin(), user.rated.end());
    user.rated.erase(std::unique(user.rated.begin(), user.rated.end()), user.rated.end());
    users.push_back(std::move(user));
  }
  return users;
}

// Ranks over the whole catalogue: one [batch, table_rows] score matrix per chunk.
absl::Status RankFull(const SeqRecModel& model, const std::vector<float>& user_vectors,
                      const std::vector<const EvalUser*>& chunk, std::vector<int64_t>* ranks) {
  const int64_t d = model.hidden(), rows = model.table_rows();
  const int64_t batch = static_cast<int64_t>(chunk.size());
  std::vector<float> scores(static_cast<size_t>(batch * rows));
  kernels::GemmParams g;
  g.transpose_b = true;
  g.m = batch;
  g.n = rows;
  g.k = d;
  g.a = user_vectors.data();
  g.b = model.table().data();
  g.c = scores.data();
  RECSYS_RETURN_IF_ERROR(kernels::Gemm(kernels::Device::Cpu(), g));
  const float* bias = model.bias();
  for (int64_t b = 0; b < batch; ++b) {
    const EvalUser& user = *chunk[b];
    float* s = scores.data() + b * rows;
    if (bias != nullptr) {
      for (int64_t r = 0; r < rows; ++r) s[r] += bias[r];
    }
    const float target = s[user.positive];
    for (int64_t r : user.rated) s[r] = -std::numeric_limits<float>::infinity();
    int64_t higher = 0;
    for (int64_t r = 1; r <= model.num_items(); ++r) higher += s[r] > target;
    ranks->push_back(higher);
  }
  return absl::OkStatus();
}

float Dot(const float* a, const float* b, int64_t d) {
  float s = 0;
  for (int64_t i = 0; i < d; ++i) s += a[i] * b[i];
  return s;
}

}  // namespace

absl::StatusOr<std::vector<int64_t>> RankHeldOut(const SeqRecModel& model,
                                                 const InteractionLog& log,
                                                 const EvalOptions& options) {
  if (options.batch_size < 1 || options.num_negatives < 1 || options.max_users < 0) {
    return absl::InvalidArgumentError("batch_size and num_negatives must be >= 1, max_users >= 0");
  }
  std::vector<double> counts(static_cast<size_t>(model.num_items() + 1), 0.0);
  RECSYS_ASSIGN_OR_RETURN(std::vector<EvalUser> users,
                          HeldOutUsers(model, log, options.test, &counts));
  std::mt19937_64 rng(options.seed);
  std::vector<const EvalUser*> selected;
  for (const EvalUser& u : users) selected.push_back(&u);
  if (options.max_users > 0 && static_cast<int64_t>(selected.size()) > options.max_users) {
    std::shuffle(selected.begin(), selected.end(), rng);
    selected.resize(static_cast<size_t>(options.max_users));
    std::sort(selected.begin(), selected.end());  // back to file order
  }
  std::vector<double> cumulative;
  if (options.protocol == Protocol::kPopularity) {
    counts[0] = 0;
    cumulative.resize(counts.size());
    double total = 0;
    for (size_t r = 0; r < counts.size(); ++r) cumulative[r] = total += counts[r];
  }
  const int64_t d = model.hidden();
  const float* bias = model.bias();
  std::vector<int64_t> ranks;
  ranks.reserve(selected.size());
  for (size_t first = 0; first < selected.size(); first += static_cast<size_t>(options.batch_size)) {
    const size_t last = std::min(selected.size(), first + static_cast<size_t>(options.batch_size));
    std::vector<const EvalUser*> chunk(selected.begin() + static_cast<std::ptrdiff_t>(first),
                                       selected.begin() + static_cast<std::ptrdiff_t>(last));
    std::vector<std::vector<int64_t>> histories;
    for (const EvalUser* u : chunk) {
      // The most recent items the model reads, as the service truncates them.
      const int64_t keep = std::min<int64_t>(model.max_history(),
                                             static_cast<int64_t>(u->history.size()));
      histories.emplace_back(u->history.end() - keep, u->history.end());
    }
    RECSYS_ASSIGN_OR_RETURN(std::vector<float> vectors, model.UserVectors(histories));
    if (options.protocol == Protocol::kFull) {
      RECSYS_RETURN_IF_ERROR(RankFull(model, vectors, chunk, &ranks));
      continue;
    }
    for (size_t b = 0; b < chunk.size(); ++b) {
      const float* user = vectors.data() + static_cast<int64_t>(b) * d;
      auto score = [&](int64_t row) {
        return Dot(user, model.table().data() + row * d, d) + (bias ? bias[row] : 0.0f);
      };
      const float target = score(chunk[b]->positive);
      int64_t higher = 0;
      for (int64_t row : SampleNegatives(rng, chunk[b]->rated, model.num_items(),
                                         options.num_negatives, cumulative)) {
        higher += score(row) > target;
      }
      ranks.push_back(higher);
    }
  }
  return ranks;
}

}  // namespace recsys::seqrec
