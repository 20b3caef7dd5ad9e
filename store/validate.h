// Request checks of the store library: INVALID_ARGUMENT naming the field and the limit.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "recsys/store/feature_store.h"

namespace recsys::store {

constexpr size_t kMaxIdBytes = 128;        // user ids and event ids
constexpr size_t kMaxValueNameBytes = 64;  // Event::values names
constexpr size_t kMaxValuesPerEvent = 64;
constexpr size_t kMaxAttributeKeyBytes = 64;
constexpr size_t kMaxAttributeValueBytes = 4096;
constexpr size_t kMaxAttributesPerItem = 256;

// Every limit >= 1; errors name `who` and the limit.
absl::Status ValidateLimits(const StoreLimits& limits, const char* who);

absl::Status ValidateEvents(absl::Span<const Event> events, int64_t max_batch);
absl::Status ValidateItems(absl::Span<const Item> items, int64_t max_batch, int64_t max_text_bytes);
absl::Status ValidateItemIds(absl::Span<const int64_t> item_ids, int64_t max_batch);
// RESOURCE_EXHAUSTED once a GetHistories reply has gathered more than max_reply_events.
absl::Status CheckReplyEvents(int64_t events, int64_t max_reply_events);

absl::Status ValidateHistoryRequest(absl::Span<const std::string> user_ids,
                                    const HistoryQuery& query, int64_t max_users,
                                    int64_t max_history_length);

// A table version's spec: name [a-z0-9_-]{1,64}, version >= 1, dim 1..max_dim, index knobs
// >= 0. Fields are named "table.<field>".
absl::Status ValidateTableSpec(const TableSpec& spec, int64_t max_dim);
// One upload chunk: 1..max_batch ids >= 1, ids * dim finite values.
absl::Status ValidateEmbeddingChunk(int32_t dim, absl::Span<const int64_t> item_ids,
                                    absl::Span<const float> values, int64_t max_batch);

}  // namespace recsys::store
