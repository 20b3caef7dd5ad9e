#include "store/validate.h"

#include <cmath>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "base/quote.h"

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
    return Invalid("events",
                   absl::StrCat("must hold 1..", max_batch,
                                " events (--feature_store_max_ingest_batch); got ", events.size()));
  }
  for (size_t i = 0; i < events.size(); ++i) {
    if (absl::Status s = CheckEvent(events[i], i); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status ValidateItems(absl::Span<const Item> items, int64_t max_batch,
                           int64_t max_text_bytes) {
  if (items.empty() || static_cast<int64_t>(items.size()) > max_batch) {
    return Invalid("items",
                   absl::StrCat("must hold 1..", max_batch,
                                " items (--feature_store_max_ingest_batch); got ", items.size()));
  }
  for (size_t i = 0; i < items.size(); ++i) {
    const Item& item = items[i];
    const std::string at = absl::StrCat("items[", i, "].");
    if (item.item_id < 1) {
      return Invalid(at + "item_id", absl::StrCat("(", item.item_id, ") must be >= 1"));
    }
    if (item.category_id < 0) {
      return Invalid(at + "category_id", absl::StrCat("(", item.category_id, ") must be >= 0"));
    }
    if (static_cast<int64_t>(item.text.size()) > max_text_bytes) {
      return Invalid(at + "text",
                     absl::StrCat("has ", item.text.size(), " bytes; at most ", max_text_bytes,
                                  " (--feature_store_max_item_text_bytes)"));
    }
    if (item.attributes.size() > kMaxAttributesPerItem) {
      return Invalid(at + "attributes", absl::StrCat("has ", item.attributes.size(),
                                                     " entries; at most ", kMaxAttributesPerItem));
    }
    for (const auto& [key, value] : item.attributes) {
      const std::string field = absl::StrCat(at, "attributes[\"", key, "\"]");
      if (key.empty() || key.size() > kMaxAttributeKeyBytes) {
        return Invalid(field, absl::StrCat("key must be 1..", kMaxAttributeKeyBytes, " bytes"));
      }
      if (value.size() > kMaxAttributeValueBytes) {
        return Invalid(field, absl::StrCat("value has ", value.size(), " bytes; at most ",
                                           kMaxAttributeValueBytes));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateItemIds(absl::Span<const int64_t> item_ids, int64_t max_batch) {
  if (item_ids.empty() || static_cast<int64_t>(item_ids.size()) > max_batch) {
    return Invalid("item_ids",
                   absl::StrCat("must hold 1..", max_batch,
                                " ids (--feature_store_max_batch_items); got ", item_ids.size()));
  }
  for (size_t i = 0; i < item_ids.size(); ++i) {
    if (item_ids[i] < 1) {
      return Invalid(absl::StrCat("item_ids[", i, "]"),
                     absl::StrCat("(", item_ids[i], ") must be >= 1"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateHistoryRequest(absl::Span<const std::string> user_ids,
                                    const HistoryQuery& query, int64_t max_users,
                                    int64_t max_history_length) {
  if (user_ids.empty() || static_cast<int64_t>(user_ids.size()) > max_users) {
    return Invalid("user_ids",
                   absl::StrCat("must hold 1..", max_users,
                                " ids (--feature_store_max_batch_users); got ", user_ids.size()));
  }
  // A repeated id would be read, and answered, once per repetition: one small request could
  // make the server build a reply of many copies of one long history.
  absl::flat_hash_map<absl::string_view, size_t> first;
  first.reserve(user_ids.size());
  for (size_t i = 0; i < user_ids.size(); ++i) {
    if (absl::Status s = CheckId(absl::StrCat("user_ids[", i, "]"), user_ids[i]); !s.ok()) {
      return s;
    }
    const auto [at, inserted] = first.emplace(user_ids[i], i);
    if (!inserted) {
      return Invalid(absl::StrCat("user_ids[", i, "]"),
                     absl::StrCat("repeats user_ids[", at->second, "]; ask for each user once"));
    }
  }
  if (query.max_events < 1 || query.max_events > max_history_length) {
    return Invalid("max_events",
                   absl::StrCat("(", query.max_events, ") must be 1..", max_history_length,
                                " (--feature_store_max_history_length)"));
  }
  return absl::OkStatus();
}

absl::Status ValidateLimits(const StoreLimits& l, const char* who) {
  const std::pair<const char*, int64_t> limits[] = {
      {"max_ingest_batch", l.max_ingest_batch},       {"max_batch_users", l.max_batch_users},
      {"max_history_length", l.max_history_length},   {"max_batch_items", l.max_batch_items},
      {"max_item_text_bytes", l.max_item_text_bytes}, {"max_embedding_dim", l.max_embedding_dim},
      {"max_batch_queries", l.max_batch_queries},     {"max_k", l.max_k},
      {"max_reply_events", l.max_reply_events}};
  for (const auto& [name, value] : limits) {
    if (value < 1) {
      return absl::InvalidArgumentError(absl::StrCat(who, ": ", name, " (", value, ") must be >= 1"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckReplyEvents(int64_t events, int64_t max_reply_events) {
  if (events <= max_reply_events) return absl::OkStatus();
  return absl::ResourceExhaustedError(absl::StrCat(
      "GetHistories: the reply would hold more than ", max_reply_events,
      " events (--feature_store_max_reply_events); ask for fewer users or a smaller max_events"));
}

absl::Status ValidateTableSpec(const TableSpec& spec, int64_t max_dim) {
  if (spec.name.empty() || spec.name.size() > 64) {
    return Invalid("table.name", "must be 1..64 characters of [a-z0-9_-]");
  }
  for (char c : spec.name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) {
      return Invalid("table.name", absl::StrCat(Quote(spec.name), " must match [a-z0-9_-]{1,64}"));
    }
  }
  if (spec.version < 1)
    return Invalid("table.version", absl::StrCat("(", spec.version, ") must be >= 1"));
  if (spec.dim < 1 || spec.dim > max_dim) {
    return Invalid("table.dim", absl::StrCat("(", spec.dim, ") must be 1..", max_dim,
                                             " (--feature_store_max_embedding_dim)"));
  }
  const std::pair<const char*, int32_t> knobs[] = {{"table.index.nlist", spec.index.nlist},
                                                   {"table.index.nprobe", spec.index.nprobe},
                                                   {"table.index.hnsw_m", spec.index.hnsw_m},
                                                   {"table.index.ef_search", spec.index.ef_search}};
  for (const auto& [field, value] : knobs) {
    if (value < 0) return Invalid(field, absl::StrCat("(", value, ") must be >= 0"));
  }
  return absl::OkStatus();
}

absl::Status ValidateEmbeddingChunk(int32_t dim, absl::Span<const int64_t> item_ids,
                                    absl::Span<const float> values, int64_t max_batch) {
  if (item_ids.empty() || static_cast<int64_t>(item_ids.size()) > max_batch) {
    return Invalid(
        "item_ids",
        absl::StrCat("must hold 1..", max_batch,
                     " ids per chunk (--feature_store_max_batch_items); got ", item_ids.size()));
  }
  if (values.size() != item_ids.size() * static_cast<size_t>(dim)) {
    return Invalid("values", absl::StrCat("has ", values.size(), " floats; expected ",
                                          item_ids.size(), " ids * dim ", dim));
  }
  for (size_t i = 0; i < item_ids.size(); ++i) {
    if (item_ids[i] < 1) {
      return Invalid(absl::StrCat("item_ids[", i, "]"),
                     absl::StrCat("(", item_ids[i], ") must be >= 1"));
    }
  }
  for (size_t j = 0; j < values.size(); ++j) {
    if (!std::isfinite(values[j])) return Invalid(absl::StrCat("values[", j, "]"), "must be finite");
  }
  return absl::OkStatus();
}

}  // namespace recsys::store
