#include "models/icr/prefix_cache.h"

#include <cstring>
#include <utility>

namespace recsys::icr {

std::string PrefixCache::Key(const std::vector<int32_t>& prefix,
                             const std::vector<int64_t>& layers) {
  std::string key(sizeof(int64_t) * (layers.size() + 1) + sizeof(int32_t) * prefix.size(), '\0');
  char* at = key.data();
  const int64_t count = static_cast<int64_t>(layers.size());
  std::memcpy(at, &count, sizeof(count));
  at += sizeof(count);
  if (!layers.empty()) std::memcpy(at, layers.data(), layers.size() * sizeof(int64_t));
  at += layers.size() * sizeof(int64_t);
  if (!prefix.empty()) std::memcpy(at, prefix.data(), prefix.size() * sizeof(int32_t));
  return key;
}

std::shared_ptr<const PrefixEntry> PrefixCache::Find(const std::string& key) {
  absl::MutexLock lock(&mu_);
  auto it = index_.find(key);
  if (it == index_.end()) {
    ++stats_.misses;
    return nullptr;
  }
  ++stats_.hits;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->second;
}

void PrefixCache::Insert(const std::string& key, std::shared_ptr<const PrefixEntry> entry) {
  const int64_t bytes = entry->bytes();
  if (bytes > max_bytes_) return;
  absl::MutexLock lock(&mu_);
  if (auto it = index_.find(key); it != index_.end()) {  // a concurrent miss got there first
    lru_.splice(lru_.begin(), lru_, it->second);
    return;
  }
  while (!lru_.empty() && stats_.bytes + bytes > max_bytes_) {
    stats_.bytes -= lru_.back().second->bytes();
    index_.erase(lru_.back().first);
    lru_.pop_back();
    ++stats_.evictions;
    --stats_.entries;
  }
  lru_.emplace_front(key, std::move(entry));
  index_[key] = lru_.begin();
  stats_.bytes += bytes;
  ++stats_.entries;
}

PrefixCacheStats PrefixCache::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

}  // namespace recsys::icr
