// ICR's prefix cache across calls: the same documents re-ranked for another query (paging,
// query rewrites, several queries over one candidate set) share the prompt prefix, so the KV
// cache of that prefix and the content-free pass's attention mass over it (pass 1) can be
// kept, and such a call runs only its query tail. Entries are keyed by the prefix's tokens
// and the layers scored; least recently used entries go first when the bytes held pass the
// bound. Thread-safe; entries are shared read-only (a call clones the KV cache it extends).
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "models/llm/model/kv_cache.h"

namespace recsys::icr {

struct PrefixEntry {
  llm::KvCache cache;          // the prefix's positions (capacity may be larger)
  std::vector<float> na_mass;  // pass 1's attention mass over the prefix's positions
  int64_t bytes() const { return cache.bytes() + static_cast<int64_t>(na_mass.size()) * 4; }
};

struct PrefixCacheStats {
  int64_t hits = 0, misses = 0, evictions = 0, entries = 0, bytes = 0;
};

class PrefixCache {
 public:
  explicit PrefixCache(int64_t max_bytes) : max_bytes_(max_bytes) {}

  // The key of a prefix scored over `layers`.
  static std::string Key(const std::vector<int32_t>& prefix, const std::vector<int64_t>& layers);

  // The entry for key, or null (counted as a hit or a miss).
  std::shared_ptr<const PrefixEntry> Find(const std::string& key);
  // Keeps entry under key unless it alone is larger than the bound; evicts the least recently
  // used entries to make room.
  void Insert(const std::string& key, std::shared_ptr<const PrefixEntry> entry);

  PrefixCacheStats stats() const;
  int64_t max_bytes() const { return max_bytes_; }

 private:
  using Lru = std::list<std::pair<std::string, std::shared_ptr<const PrefixEntry>>>;
  const int64_t max_bytes_;
  mutable absl::Mutex mu_;
  Lru lru_ ABSL_GUARDED_BY(mu_);  // most recent first
  absl::flat_hash_map<std::string, Lru::iterator> index_ ABSL_GUARDED_BY(mu_);
  PrefixCacheStats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace recsys::icr
