// recsys-cli ctr: recsys.behavior_search.v1 Score for one user.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "services/cli/command_util.h"

namespace recsys::cli {

struct CtrArgs {
  std::string model;
  std::optional<int64_t> version;
  std::string user_id;                 // or a history:
  std::vector<int64_t> history, history_categories;  // categories: empty = all 0
  std::vector<int64_t> candidates, candidate_categories;
  int32_t top_k = 0;                   // 0 = the model's
  bool explain = false;                // print the retrieved behaviours
};

int RunCtr(const CommandContext& ctx, const CtrArgs& args);

}  // namespace recsys::cli
