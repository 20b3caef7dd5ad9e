// Recommend's RETRIEVAL_INDEX path: a model version's item table published to the feature
// store as an embedding table ("seqrec-<model>", version = the model's version) and searched
// there by FAISS with the user vectors. A model with an output bias (BERT4Rec) is published
// as rows [e, bias] and queried with [u, 1], so the inner product is the model's score.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "recsys/store/feature_store.h"
#include "services/seqrec/seqrec_model.h"

namespace recsys::seqrec {

struct IndexQuery {
  int32_t k = 0;
  std::vector<int64_t> exclude_item_ids;      // catalogue ids
  std::vector<int64_t> include_category_ids;  // empty = any
};

class ItemIndex {
 public:
  explicit ItemIndex(store::IndexSpec spec) : spec_(spec) {}

  // The table name of a model: "seqrec-" + the name lowercased, characters outside
  // [a-z0-9_-] replaced by '-', cut to the store's 64 characters.
  static std::string TableName(const std::string& model);

  // Per query, the best (catalogue id, score) pairs, best first, from `store` (always the
  // same store for one index). user_vectors holds one model.hidden()-wide row per query.
  // Publishes the version's table on first use (one upload even under concurrent calls; a
  // failed upload is retried by the next call).
  absl::StatusOr<std::vector<std::vector<std::pair<int64_t, float>>>> Search(
      store::FeatureStore& store, const std::string& model_name, int64_t version,
      const SeqRecModel& model, const std::vector<float>& user_vectors,
      const std::vector<IndexQuery>& queries);

 private:
  struct Publication {
    std::mutex mu;
    bool done = false;
  };
  absl::Status Publish(store::FeatureStore& store, const std::string& table, int64_t version,
                       const SeqRecModel& model);
  // For a version the store already has: FAILED_PRECONDITION unless it holds this model's rows.
  absl::Status CheckPublished(store::FeatureStore& store, const std::string& table, int64_t version,
                              const SeqRecModel& model);

  const store::IndexSpec spec_;
  std::mutex mu_;
  std::map<std::pair<std::string, int64_t>, std::shared_ptr<Publication>> published_;
};

}  // namespace recsys::seqrec
