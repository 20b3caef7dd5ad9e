// recsys-cli commands for recsys.rerank.v1.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "services/cli/commands.h"

namespace recsys::cli {

struct RerankArgs {
  std::string model;
  std::optional<int64_t> version;
  std::string query;
  // JSON lines, one recsys.rerank.v1.Document each: {"id": ..., "title": ..., "text": ...}.
  std::string documents_file;
  int32_t top_n = 0;
  bool query_only = false;  // SCORING_STRATEGY_QUERY_ONLY
  bool masses = false;      // return_masses
};

int RunRerank(const CommandContext& ctx, const RerankArgs& args);

}  // namespace recsys::cli
