#include "store/validate.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace recsys::store {
namespace {

absl::Status Invalid(const std::string& field, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(field, " ", what));
}

absl::Status CheckId(const std::string& field, const std::string& id) {
  if (id.empty() || id.size() > kMaxIdBytes) {
    return Invalid(field, absl::StrCat("must be 1..", kMaxIdBytes, " bytes (got ", id.size(), ")"));
  }
  return absl::OkStatus();
}

absl::Status CheckEvent(const Event& e, size_t index) {
  const std::string at = absl::StrCat("events[", index, "].");
  if (absl::Status s = CheckId(at + "event_id", e.event_id); !s.ok()) return s;
  if (absl::Status s = CheckId(at + "user_id", e.user_id); !s.ok()) return s;
  if (e.item_id < 1) return Invalid(at + "item_id", absl::StrCat("(", e.item_id, ") must be >= 1"));
  if (e.category_id < 0) {
    return Invalid(at + "category_id", absl::StrCat("(", e.category_id, ") must be >= 0"));
  }
  if (e.type < 0) return Invalid(at + "type", absl::StrCat("(", e.type, ") must be >= 0"));
  if (e.timestamp_ms < 0) {
    return Invalid(at + "timestamp_ms", absl::StrCat("(", e.timestamp_ms, ") must be >= 0"));
  }
  if (e.values.size() > kMaxValuesPerEvent) {
    return Invalid(at + "values",
                   absl::StrCat("has ", e.values.size(), " entries; at most ", kMaxValuesPerEvent));
  }
  for (const auto& [name, value] : e.values) {
    const std::string field = absl::StrCat(at, "values[\"", name, "\"]");
    if (name.empty() || name.size() > kMaxValueNameBytes) {
      return Invalid(field, absl::StrCat("name must be 1..", kMaxValueNameBytes, " bytes"));
    }
    if (!std::isfinite(value)) return Invalid(field, absl::StrCat("(", value, ") must be finite"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateEvents(absl::Span<const Event> events, int64_t max_batch) {
  if (events.empty() || static_cast<int64_t>(events.size()) > max_batch) {
    return Invalid("events", absl::StrCat("must hold 1..", max_batch,
                                          " events (--max_ingest_batch); got ", events.size()));
  }
  for (size_t i = 0; i < events.size(); ++i) {
    if (absl::Status s = CheckEvent(events[i], i); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status ValidateHistoryRequest(absl::Span<const std::string> user_ids,
                                    const HistoryQuery& query, int64_t max_users,
                                    int64_t max_history_length) {
  if (user_ids.empty() || static_cast<int64_t>(user_ids.size()) > max_users) {
    return Invalid("user_ids", absl::StrCat("must hold 1..", max_users,
                                            " ids (--max_batch_users); got ", user_ids.size()));
  }
  for (size_t i = 0; i < user_ids.size(); ++i) {
    if (absl::Status s = CheckId(absl::StrCat("user_ids[", i, "]"), user_ids[i]); !s.ok()) {
      return s;
    }
  }
  if (query.max_events < 1 || query.max_events > max_history_length) {
    return Invalid("max_events", absl::StrCat("(", query.max_events, ") must be 1..",
                                              max_history_length, " (--max_history_length)"));
  }
  return absl::OkStatus();
}

}  // namespace recsys::store
