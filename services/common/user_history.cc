#include "services/common/user_history.h"

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
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
  std::vector<std::string> user_ids;
  std::vector<size_t> by_id;
  for (size_t q = 0; q < users.size(); ++q) {
    const common::v1::UserRef& user = *users[q];
    const std::string at = absl::StrCat(source.field, "[", q, "]");
    if (user.has_history()) {
      RECSYS_RETURN_IF_ERROR(ResolveGiven(user.history(), at, source, out[q]));
    } else if (!user.user_id().empty()) {
      user_ids.push_back(user.user_id());
      by_id.push_back(q);
    } else {
      return absl::InvalidArgumentError(absl::StrCat(at, ".user: set user_id or history"));
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
  for (size_t i = 0; i < by_id.size(); ++i) {
    ResolvedHistory& h = out[by_id[i]];
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
