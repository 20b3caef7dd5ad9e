#include "services/cli/behavior_search_commands.h"

#include "absl/strings/str_format.h"
#include "recsys/behavior_search/v1/behavior_search.grpc.pb.h"

namespace recsys::cli {

namespace bs = ::recsys::behavior_search::v1;

int RunCtr(const CommandContext& ctx, const CtrArgs& args) {
  bs::ScoreRequest request;
  request.mutable_model()->set_name(args.model);
  if (args.version.has_value()) request.mutable_model()->set_version(*args.version);
  bs::ScoreQuery* q = request.add_queries();
  if (!args.user_id.empty()) {
    q->mutable_user()->set_user_id(args.user_id);
  } else {
    for (size_t i = 0; i < args.history.size(); ++i) {
      common::v1::Behavior* b = q->mutable_user()->mutable_history()->add_behaviors();
      b->set_item_id(args.history[i]);
      if (i < args.history_categories.size()) b->set_category_id(args.history_categories[i]);
    }
  }
  for (size_t i = 0; i < args.candidates.size(); ++i) {
    bs::Candidate* c = q->add_candidates();
    c->set_item_id(args.candidates[i]);
    if (i < args.candidate_categories.size()) c->set_category_id(args.candidate_categories[i]);
  }
  q->set_top_k(args.top_k);
  q->set_return_behaviors(args.explain);
  bs::ScoreResponse response;
  if (std::optional<int> done =
          CallUnary(ctx, "Score", *bs::BehaviorSearchService::NewStub(ctx.channel),
                    &bs::BehaviorSearchService::Stub::Score, request, &response)) {
    return *done;
  }
  const bs::QueryResult& r = response.results(0);
  *ctx.out << response.model().name() << " version " << response.model().version() << ", "
           << r.history_length() << " behaviours" << (r.history_truncated() ? " (truncated)" : "")
           << "\n";
  for (const bs::CandidateScore& s : r.scores()) {
    *ctx.out << absl::StrFormat("  item %-10d ctr %.6f\n", s.item_id(), s.ctr());
    for (const bs::RetrievedBehavior& b : s.behaviors()) {
      *ctx.out << absl::StrFormat("      behaviour %-6d item %-10d category %-6d weight %.4f\n",
                                  b.position(), b.behavior().item_id(),
                                  b.behavior().category_id(), b.weight());
    }
  }
  return kExitOk;
}

}  // namespace recsys::cli
