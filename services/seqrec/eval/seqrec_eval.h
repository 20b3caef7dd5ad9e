// Offline next-item evaluation of an exported SASRec / BERT4Rec version through the C++
// inference the service runs (SeqRecModel), with the protocols of the training code
// (models/training/recsys_train/seqeval.py): leave-one-out, the held-out item ranked against
// 100 negatives sampled uniformly (SASRec's protocol) or by popularity (BERT4Rec's), or
// against the whole catalogue minus the user's other items. The rank is the number of
// candidates scored strictly higher; metrics HR@{1,5,10}, NDCG@{5,10}, MRR.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/seqrec/seqrec_model.h"

namespace recsys::seqrec {

// Per-user sequences of catalogue item ids, oldest first, users in file order.
struct InteractionLog {
  std::vector<std::vector<int64_t>> sequences;
};

// Reads a `user item` file (one interaction per line, grouped by user in time order).
// INVALID_ARGUMENT names the line at fault; NOT_FOUND when the file cannot be opened.
absl::StatusOr<InteractionLog> ReadInteractions(const std::string& path);

enum class Protocol { kUniform, kPopularity, kFull };
absl::StatusOr<Protocol> ParseProtocol(const std::string& name);
const char* ProtocolName(Protocol protocol);

struct EvalOptions {
  Protocol protocol = Protocol::kPopularity;
  bool test = true;            // false: the validation item, with the test item withheld
  int num_negatives = 100;
  int64_t max_users = 0;       // 0 = every user with at least 3 interactions
  uint64_t seed = 12345;
  int64_t batch_size = 256;
};

struct EvalMetrics {
  double hr1 = 0, hr5 = 0, hr10 = 0, ndcg5 = 0, ndcg10 = 0, mrr = 0;
  int64_t users = 0;
};

// Metrics of 0-based ranks.
EvalMetrics MetricsFromRanks(const std::vector<int64_t>& ranks);

// The rank of every evaluated user's held-out item, in user order. Items the model does
// not know give INVALID_ARGUMENT naming the user and the item.
absl::StatusOr<std::vector<int64_t>> RankHeldOut(const SeqRecModel& model,
                                                 const InteractionLog& log,
                                                 const EvalOptions& options);

// `count` negatives outside `rated` (internal rows, sorted), drawn uniformly from
// 1..num_items or from `cumulative` (per-row cumulative interaction counts, size
// num_items + 1) when it is non-empty; like the official samplers, a negative may repeat.
template <typename Rng>
std::vector<int64_t> SampleNegatives(Rng& rng, const std::vector<int64_t>& rated,
                                     int64_t num_items, int count,
                                     const std::vector<double>& cumulative);

}  // namespace recsys::seqrec

#include "services/seqrec/eval/seqrec_eval_sampling.inc"
