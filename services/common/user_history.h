// The one way a model service turns a request's users (common.v1.UserRef) into model input:
// a history given in the request, or the user id's most recent events read from the feature
// store, mapped to the model's rows through its item catalogue.
//
// - Only the most recent max_history behaviours are used; `truncated` says older ones exist.
// - In a given history an item the catalogue lacks is INVALID_ARGUMENT naming its path
//   ("queries[2].user.history.behaviors[7].item_id: item 9 is not in the catalogue of m
//   version 3"); in a stored history it is skipped (the store may know newer items). Every
//   given behaviour is checked (HistorySource::check_given too) before the store is read.
// - A given history must not be empty; a user id without events is an empty history (the
//   model's cold start). A user with neither is INVALID_ARGUMENT.
// - User ids without a feature store are FAILED_PRECONDITION naming the service's flag.
// - All user ids of a call are read in one GetHistories, each once (queries may repeat one).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "models/common/item_catalog.h"
#include "recsys/common/v1/common.pb.h"
#include "recsys/store/feature_store.h"

namespace recsys {

struct HistorySource {
  // The request field holding the queries; errors name "<field>[q].user...".
  std::string field = "queries";
  // The served version, for errors: "<model> version <v>".
  std::string served;
  const models::ItemCatalog* catalog = nullptr;
  // Most recent behaviours read per user (>= 0).
  int64_t max_history = 0;
  // The feature store (may be null) and the flag that sets it, for the error without one.
  store::FeatureStore* store = nullptr;
  std::string store_flag;
  // Optional: what else a given behaviour must satisfy (behavior_search: its category is in
  // the model's range), checked with its item, before any store read. An error's message
  // names the field ("category_id: 77 is outside 0..6"); the resolver prefixes the path.
  std::function<absl::Status(const common::v1::Behavior& behavior)> check_given;
};

struct ResolvedHistory {
  std::vector<int64_t> rows;               // model rows, oldest first
  std::vector<store::Behavior> behaviors;  // the behaviour behind each row
  bool stored = false;     // read from the feature store
  bool truncated = false;  // older behaviours exist and were left out
};

// One ResolvedHistory per user, in order.
absl::StatusOr<std::vector<ResolvedHistory>> ResolveHistories(
    absl::Span<const common::v1::UserRef* const> users, const HistorySource& source);

}  // namespace recsys
