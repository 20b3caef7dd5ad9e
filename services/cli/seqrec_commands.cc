#include "services/cli/seqrec_commands.h"

#include "absl/strings/str_format.h"
#include "recsys/seqrec/v1/seqrec.grpc.pb.h"
#include "services/cli/command_util.h"

namespace recsys::cli {
namespace {

namespace sr = ::recsys::seqrec::v1;

void SetModel(const SeqRecArgs& args, common::v1::ModelSpec* spec) {
  spec->set_name(args.model);
  if (args.version.has_value()) spec->set_version(*args.version);
}

// The queries' users: each user id, or the one history.
std::vector<common::v1::UserRef> Users(const SeqRecArgs& args) {
  std::vector<common::v1::UserRef> users;
  for (const std::string& id : args.user_ids) users.emplace_back().set_user_id(id);
  if (!args.history.empty()) {
    common::v1::UserRef& user = users.emplace_back();
    for (int64_t item : args.history) user.mutable_history()->add_behaviors()->set_item_id(item);
  }
  return users;
}

std::string Who(const SeqRecArgs& args, size_t i) {
  return i < args.user_ids.size() ? "user " + args.user_ids[i] : "history";
}

}  // namespace

int RunRecommend(const CommandContext& ctx, const SeqRecArgs& args) {
  sr::RecommendRequest request;
  SetModel(args, request.mutable_model());
  request.set_retrieval(args.index ? sr::RETRIEVAL_INDEX : sr::RETRIEVAL_EXACT);
  for (const common::v1::UserRef& user : Users(args)) {
    sr::RecommendQuery* q = request.add_queries();
    *q->mutable_user() = user;
    q->set_k(args.k);
    q->mutable_filter()->mutable_exclude_item_ids()->Add(args.exclude_item_ids.begin(),
                                                         args.exclude_item_ids.end());
    q->mutable_filter()->mutable_include_category_ids()->Add(args.include_category_ids.begin(),
                                                             args.include_category_ids.end());
  }
  sr::RecommendResponse response;
  if (std::optional<int> done =
          CallUnary(ctx, "Recommend", *sr::SeqRecService::NewStub(ctx.channel),
                    &sr::SeqRecService::Stub::Recommend, request, &response)) {
    return *done;
  }
  *ctx.out << response.model().name() << " version " << response.model().version() << "\n";
  for (int i = 0; i < response.results_size(); ++i) {
    const sr::UserResult& r = response.results(i);
    *ctx.out << Who(args, i) << " (" << r.history_length() << " history items"
             << (r.history_truncated() ? ", truncated" : "") << "):\n";
    for (int j = 0; j < r.items_size(); ++j) {
      *ctx.out << absl::StrFormat("  %3d  item %-10d score %.6g\n", j + 1, r.items(j).item_id(),
                                  r.items(j).score());
    }
  }
  return kExitOk;
}

int RunScore(const CommandContext& ctx, const SeqRecArgs& args) {
  sr::ScoreRequest request;
  SetModel(args, request.mutable_model());
  for (const common::v1::UserRef& user : Users(args)) {
    sr::ScoreQuery* q = request.add_queries();
    *q->mutable_user() = user;
    q->mutable_candidate_item_ids()->Add(args.candidates.begin(), args.candidates.end());
  }
  sr::ScoreResponse response;
  if (std::optional<int> done = CallUnary(ctx, "Score", *sr::SeqRecService::NewStub(ctx.channel),
                                          &sr::SeqRecService::Stub::Score, request, &response)) {
    return *done;
  }
  *ctx.out << response.model().name() << " version " << response.model().version() << "\n";
  for (int i = 0; i < response.results_size(); ++i) {
    *ctx.out << Who(args, i) << ":";
    for (int c = 0; c < response.results(i).scores_size(); ++c) {
      *ctx.out << absl::StrFormat(" %d=%.6g", args.candidates[c], response.results(i).scores(c));
    }
    *ctx.out << "\n";
  }
  return kExitOk;
}

}  // namespace recsys::cli
