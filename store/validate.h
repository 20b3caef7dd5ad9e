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

absl::Status ValidateEvents(absl::Span<const Event> events, int64_t max_batch);
absl::Status ValidateItems(absl::Span<const Item> items, int64_t max_batch, int64_t max_text_bytes);
absl::Status ValidateItemIds(absl::Span<const int64_t> item_ids, int64_t max_batch);
absl::Status ValidateHistoryRequest(absl::Span<const std::string> user_ids,
                                    const HistoryQuery& query, int64_t max_users,
                                    int64_t max_history_length);

}  // namespace recsys::store
