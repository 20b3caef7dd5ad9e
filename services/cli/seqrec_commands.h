// recsys-cli commands for recsys.seqrec.v1.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "services/cli/commands.h"

namespace recsys::cli {

struct SeqRecArgs {
  std::string model;
  std::optional<int64_t> version;
  // One query per user id, or one query with this history (catalogue item ids, oldest first).
  std::vector<std::string> user_ids;
  std::vector<int64_t> history;
  int32_t k = 10;                       // recommend
  bool index = false;                   // recommend: RETRIEVAL_INDEX (the store's FAISS index)
  std::vector<int64_t> exclude_item_ids;
  std::vector<int64_t> include_category_ids;
  std::vector<int64_t> candidates;      // score
};

int RunRecommend(const CommandContext& ctx, const SeqRecArgs& args);
int RunScore(const CommandContext& ctx, const SeqRecArgs& args);

}  // namespace recsys::cli
