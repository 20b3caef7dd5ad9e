#include "store/keys.h"

#include <cstring>

namespace recsys::store::keys {
namespace {

// item_id, category_id (8 bytes each), type (4), event id length (1).
constexpr size_t kFixedEventBytes = 8 + 8 + 4 + 1;

void PutBigEndian32(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

uint32_t GetBigEndian32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

}  // namespace

void PutBigEndian64(std::string* out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

uint64_t GetBigEndian64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

std::string UserPrefix(absl::string_view user_id) {
  std::string prefix;
  prefix.reserve(1 + user_id.size());
  prefix.push_back(static_cast<char>(user_id.size()));
  prefix.append(user_id.data(), user_id.size());
  return prefix;
}

std::string PrefixEnd(absl::string_view prefix) {
  std::string end(prefix);
  // Drop trailing 0xff bytes, then increment the last one. A user prefix starts with its
  // length byte (<= 128), so it never consists of 0xff only.
  while (!end.empty() && static_cast<uint8_t>(end.back()) == 0xff) end.pop_back();
  if (!end.empty()) end.back() = static_cast<char>(static_cast<uint8_t>(end.back()) + 1);
  return end;
}

std::string EventSuffix(int64_t timestamp_ms, uint64_t sequence) {
  std::string suffix;
  suffix.reserve(16);
  PutBigEndian64(&suffix, ~static_cast<uint64_t>(timestamp_ms));
  PutBigEndian64(&suffix, ~sequence);
  return suffix;
}

int64_t EventTimestamp(absl::string_view key, size_t prefix_size) {
  return static_cast<int64_t>(~GetBigEndian64(key.data() + prefix_size));
}

std::string EncodeEventValue(const Event& event) {
  std::string value;
  value.reserve(kFixedEventBytes + event.event_id.size());
  PutBigEndian64(&value, static_cast<uint64_t>(event.item_id));
  PutBigEndian64(&value, static_cast<uint64_t>(event.category_id));
  PutBigEndian32(&value, static_cast<uint32_t>(event.type));
  value.push_back(static_cast<char>(event.event_id.size()));
  value.append(event.event_id);
  value.push_back(static_cast<char>(event.values.size() > 255 ? 255 : event.values.size()));
  size_t written = 0;
  for (const auto& [name, number] : event.values) {
    if (written++ == 255) break;
    value.push_back(static_cast<char>(name.size()));
    value.append(name);
    uint64_t bits;
    std::memcpy(&bits, &number, sizeof(bits));
    PutBigEndian64(&value, bits);
  }
  return value;
}

bool DecodeBehavior(absl::string_view value, Behavior* behavior) {
  if (value.size() < kFixedEventBytes) return false;
  behavior->item_id = static_cast<int64_t>(GetBigEndian64(value.data()));
  behavior->category_id = static_cast<int64_t>(GetBigEndian64(value.data() + 8));
  behavior->type = static_cast<int32_t>(GetBigEndian32(value.data() + 16));
  return true;
}

bool DecodeEventId(absl::string_view value, std::string* event_id) {
  if (value.size() < kFixedEventBytes) return false;
  const size_t length = static_cast<uint8_t>(value[kFixedEventBytes - 1]);
  if (value.size() < kFixedEventBytes + length) return false;
  event_id->assign(value.data() + kFixedEventBytes, length);
  return true;
}

std::string ItemKey(int64_t item_id) {
  std::string key;
  PutBigEndian64(&key, static_cast<uint64_t>(item_id));
  return key;
}

namespace {

void PutBytes(std::string* out, absl::string_view bytes) {
  PutBigEndian32(out, static_cast<uint32_t>(bytes.size()));
  out->append(bytes.data(), bytes.size());
}

// Reads a length-prefixed byte string at *offset, advancing it.
bool GetBytes(absl::string_view in, size_t* offset, std::string* bytes) {
  if (in.size() < *offset + 4) return false;
  const uint32_t size = GetBigEndian32(in.data() + *offset);
  *offset += 4;
  if (in.size() < *offset + size) return false;
  bytes->assign(in.data() + *offset, size);
  *offset += size;
  return true;
}

}  // namespace

std::string EncodeItemValue(const Item& item) {
  std::string value;
  PutBigEndian64(&value, static_cast<uint64_t>(item.category_id));
  PutBigEndian32(&value, static_cast<uint32_t>(item.attributes.size()));
  for (const auto& [key, attribute] : item.attributes) {
    PutBytes(&value, key);
    PutBytes(&value, attribute);
  }
  PutBytes(&value, item.text);
  return value;
}

bool DecodeItemValue(absl::string_view value, Item* item) {
  if (value.size() < 12) return false;
  item->category_id = static_cast<int64_t>(GetBigEndian64(value.data()));
  const uint32_t count = GetBigEndian32(value.data() + 8);
  size_t offset = 12;
  item->attributes.clear();
  for (uint32_t i = 0; i < count; ++i) {
    std::string key, attribute;
    if (!GetBytes(value, &offset, &key) || !GetBytes(value, &offset, &attribute)) return false;
    item->attributes.emplace_back(std::move(key), std::move(attribute));
  }
  return GetBytes(value, &offset, &item->text) && offset == value.size();
}

std::string EncodeUserMeta(const UserMeta& meta) {
  std::string value;
  PutBigEndian64(&value, static_cast<uint64_t>(meta.event_count));
  PutBigEndian64(&value, meta.next_sequence);
  return value;
}

bool DecodeUserMeta(absl::string_view value, UserMeta* meta) {
  if (value.size() != 16) return false;
  meta->event_count = static_cast<int64_t>(GetBigEndian64(value.data()));
  meta->next_sequence = GetBigEndian64(value.data() + 8);
  return true;
}

}  // namespace recsys::store::keys
