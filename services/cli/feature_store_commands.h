// recsys-cli commands for recsys.feature_store.v1.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "services/cli/commands.h"

namespace recsys::cli {

// Ingests events from a file of JSON lines, one recsys.common.v1.Event per line in proto JSON
// ({"event_id":"e1","user_id":"u1","item_id":42,"type":"EVENT_TYPE_CLICK",
// "timestamp_ms":1700000000000}); blank lines and lines starting with '#' are skipped. An
// event without event_id gets one derived from its content (FNV-1a of the line), so
// re-ingesting the same file stores nothing twice. Sends `batch` events per call. A line
// that does not parse is a usage error (exit 2) naming file:line, before anything is sent.
int RunIngest(const CommandContext& ctx, const std::string& path, int64_t batch);

// The most recent max_events events of each user, oldest first.
int RunHistory(const CommandContext& ctx, const std::vector<std::string>& user_ids,
               int64_t max_events);

struct SearchArgs {
  std::string table;
  std::optional<int64_t> version;
  // Exactly one of: the query vector, or an item whose stored row is the query.
  std::vector<float> vector;
  int64_t item_id = 0;
  int32_t k = 10;
  std::vector<int64_t> exclude_item_ids;
  std::vector<int64_t> include_category_ids;
};

// Nearest items of one query.
int RunSearch(const CommandContext& ctx, const SearchArgs& args);

// Server-side checkpoint into <its --feature_store_checkpoint_root>/<directory>.
int RunCheckpoint(const CommandContext& ctx, const std::string& directory);

}  // namespace recsys::cli
