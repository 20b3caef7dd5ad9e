#include "services/cli/rerank_commands.h"

#include "absl/strings/str_format.h"
#include "recsys/rerank/v1/rerank.grpc.pb.h"
#include "services/cli/command_util.h"

namespace recsys::cli {

namespace rr = ::recsys::rerank::v1;

int RunRerank(const CommandContext& ctx, const RerankArgs& args) {
  rr::RerankRequest request;
  request.mutable_model()->set_name(args.model);
  if (args.version.has_value()) request.mutable_model()->set_version(*args.version);
  rr::RerankQuery* q = request.add_queries();
  q->set_query(args.query);
  q->set_top_n(args.top_n);
  q->set_strategy(args.query_only ? rr::SCORING_STRATEGY_QUERY_ONLY
                                  : rr::SCORING_STRATEGY_CALIBRATED);
  q->set_return_masses(args.masses);
  rr::Document prototype;
  if (!ReadJsonLines(ctx, "rerank", args.documents_file, &prototype,
                     [q](const google::protobuf::Message& m, const std::string&) {
                       *q->add_documents() = static_cast<const rr::Document&>(m);
                     })) {
    return kExitUsage;
  }
  rr::RerankResponse response;
  if (std::optional<int> done = CallUnary(ctx, "Rerank", *rr::RerankService::NewStub(ctx.channel),
                                          &rr::RerankService::Stub::Rerank, request, &response)) {
    return *done;
  }
  const rr::QueryResult& r = response.results(0);
  *ctx.out << absl::StrFormat(
      "%s version %d, %d prompt tokens, %d documents cut%s; tokenize %.1f ms, queue %.1f ms, "
      "pass 1 %.1f ms, pass 2 %.1f ms\n",
      response.model().name(), response.model().version(), r.prompt_tokens(),
      r.truncated_documents(), r.prefix_cache_hit() ? ", prefix cached" : "",
      r.timings().tokenize_ms(), r.timings().queue_ms(), r.timings().pass1_ms(),
      r.timings().pass2_ms());
  for (int i = 0; i < r.documents_size(); ++i) {
    const rr::RankedDocument& d = r.documents(i);
    *ctx.out << absl::StrFormat("  %3d. [%d] %-20s score %+.6f  %d tokens%s", i + 1, d.index(),
                                d.id(), d.score(), d.tokens(), d.truncated() ? " (cut)" : "");
    if (d.has_query_mass()) *ctx.out << absl::StrFormat("  query mass %.6f", d.query_mass());
    if (d.has_content_free_mass()) {
      *ctx.out << absl::StrFormat("  N/A mass %.6f", d.content_free_mass());
    }
    *ctx.out << "\n";
  }
  return kExitOk;
}

}  // namespace recsys::cli
