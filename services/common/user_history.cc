#include "services/common/user_history.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "services/common/validation.h"
#include "services/feature_store/convert.h"

namespace recsys {
namespace {

absl::Status ResolveGiven(const common::v1::History& history, const std::string& at,
                          const HistorySource& source, ResolvedHistory& out) {
  const auto& behaviors = history.behaviors();
  if (behaviors.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(at, ".user.history: empty (send user_id for a user without events)"));
  }
  const int64_t size = behaviors.size();
  const int64_t first = std::max<int64_t>(0, size - source.max_history);
  out.truncated = first > 0;
  out.rows.reserve(size - first);
  out.behaviors.reserve(size - first);
  for (int64_t j = first; j < size; ++j) {
    const common::v1::Behavior& b = behaviors[j];
    const std::optional<int64_t> row = source.catalog->Row(b.item_id());
    if (!row.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat(at, ".user.history.behaviors[", j, "].item_id: item ", b.item_id(),
                       " is not in the catalogue of ", source.served));
    }
    if (!common::v1::EventType_IsValid(b.type())) {  // the path is built only on error
      return CheckEnum<common::v1::EventType>(
          absl::StrCat(at, ".user.history.behaviors[", j, "].type"), b.type());
    }
    if (source.check_given) {
      if (absl::Status s = source.check_given(b); !s.ok()) {
        return absl::Status(s.code(),
                            absl::StrCat(at, ".user.history.behaviors[", j, "].", s.message()));
      }
    }
    out.rows.push_back(*row);
    out.behaviors.push_back(feature_store::FromProto(b));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<ResolvedHistory>> ResolveHistories(
    absl::Span<const common::v1::UserRef* const> users, const HistorySource& source) {
  std::vector<ResolvedHistory> out(users.size());
  std::vector<std::string> user_ids;  // each once: the store refuses repeats
  absl::flat_hash_map<std::string, size_t> index_of;
  std::vector<std::pair<size_t, size_t>> stored;  // (query, its user's index in user_ids)
  for (size_t q = 0; q < users.size(); ++q) {
    const common::v1::UserRef& user = *users[q];
    if (user.has_history()) {
      RECSYS_RETURN_IF_ERROR(
          ResolveGiven(user.history(), absl::StrCat(source.field, "[", q, "]"), source, out[q]));
    } else if (!user.user_id().empty()) {
      const auto [it, inserted] = index_of.emplace(user.user_id(), user_ids.size());
      if (inserted) user_ids.push_back(user.user_id());
      stored.emplace_back(q, it->second);
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat(source.field, "[", q, "].user: set user_id or history"));
    }
  }
  if (user_ids.empty()) return out;
  if (source.store == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("user_id queries need a feature store; start the server with ",
                     source.store_flag, " or host feature_store in it"));
  }
  RECSYS_ASSIGN_OR_RETURN(
      std::vector<store::UserHistory> histories,
      source.store->GetHistories(user_ids, store::HistoryQuery{source.max_history, std::nullopt}));
  for (const auto& [q, i] : stored) {
    ResolvedHistory& h = out[q];
    h.stored = true;
    h.truncated = histories[i].total_events > source.max_history;
    for (const store::Behavior& b : histories[i].behaviors) {
      const std::optional<int64_t> row = source.catalog->Row(b.item_id);
      if (!row.has_value()) continue;  // an item newer than the model
      h.rows.push_back(*row);
      h.behaviors.push_back(b);
    }
  }
  return out;
}

}  // namespace recsys
