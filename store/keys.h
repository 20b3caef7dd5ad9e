// Key and value encodings of the local store (layout in include/recsys/store/local_store.h).
// Integers are big-endian so byte order is numeric order; complemented fields sort newest
// first.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "recsys/store/feature_store.h"

namespace recsys::store::keys {

// 1-byte length + user id (user ids are 1..128 bytes).
std::string UserPrefix(absl::string_view user_id);

// The first key after every key that starts with prefix (for iterate_upper_bound).
std::string PrefixEnd(absl::string_view prefix);

// Suffix of an event key: ~timestamp_ms, ~sequence, 16 bytes.
std::string EventSuffix(int64_t timestamp_ms, uint64_t sequence);
// timestamp_ms of an event key of a user whose prefix is prefix_size bytes long.
int64_t EventTimestamp(absl::string_view key, size_t prefix_size);

void PutBigEndian64(std::string* out, uint64_t v);
uint64_t GetBigEndian64(const char* p);

// Event value: item_id, category_id, type, event_id, values.
std::string EncodeEventValue(const Event& event);
// Decodes the behaviour part of an event value (fast path: fixed offsets).
bool DecodeBehavior(absl::string_view value, Behavior* behavior);
// The event id stored in an event value (used when the per-user cap deletes events).
bool DecodeEventId(absl::string_view value, std::string* event_id);

// items key and value.
std::string ItemKey(int64_t item_id);
std::string EncodeItemValue(const Item& item);
bool DecodeItemValue(absl::string_view value, Item* item);

// user_meta value.
struct UserMeta {
  int64_t event_count = 0;
  uint64_t next_sequence = 0;
};
std::string EncodeUserMeta(const UserMeta& meta);
bool DecodeUserMeta(absl::string_view value, UserMeta* meta);

}  // namespace recsys::store::keys
