// recsys-cli: command-line client of recsys-server.
//   recsys-cli health [--service=NAME]   readiness of the server and each hosted service
//   recsys-cli info                      version, devices, hosted services
//   recsys-cli list                      gRPC services, from server reflection
//   recsys-cli reload [--model=NAME]     load new model versions now
//   recsys-cli ingest --file=events.jsonl  feature store: ingest JSON-lines events
//   recsys-cli history --user=u1,u2      feature store: recent events of users
//   recsys-cli search --table=T (--item=ID | --vector=x,y,..) [--k=10]
//   recsys-cli checkpoint --directory=NAME
//   recsys-cli recommend --model=NAME (--user=u1,u2 | --history=3,5,8) [--k=10]
//                        [--retrieval=exact|index]
//   recsys-cli score --model=NAME (--user=u1 | --history=3,5,8) --candidates=1,2,3
//   recsys-cli ctr --model=NAME (--user=u1 | --history=3,5,8 [--history_categories=1,1,2])
//                  --candidates=1,2 [--candidate_categories=1,2] [--top_k=K] [--explain]
//   recsys-cli rerank --model=NAME --query=TEXT --documents=FILE.jsonl [--top_n=N]
//                     [--query_only] [--masses]
// Common flags: --target=host:port --timeout=5s --json, TLS: --tls --tls_ca_file
// --tls_cert_file --tls_key_file --tls_server_name.
// Exit codes: 0 ok, 1 RPC failure or not SERVING, 2 bad command line.
#include <iostream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "services/cli/behavior_search_commands.h"
#include "services/cli/bench_command.h"
#include "services/cli/channel.h"
#include "services/cli/commands.h"
#include "services/cli/feature_store_commands.h"
#include "services/cli/rerank_commands.h"
#include "services/cli/seqrec_commands.h"
#include "services/common/files.h"

ABSL_FLAG(std::string, target, "localhost:50051", "recsys-server address, host:port.");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(5), "Deadline of each RPC.");
ABSL_FLAG(bool, json, false, "Print one JSON document instead of text.");
ABSL_FLAG(std::string, admin_token_file, "",
          "File holding the server's admin token (its --admin_token_file), for admin calls "
          "(reload, checkpoint) from another host.");
ABSL_FLAG(std::string, service, "", "health: check only this gRPC service name.");
ABSL_FLAG(std::string, file, "", "ingest: JSON-lines file of recsys.common.v1.Event.");
ABSL_FLAG(int64_t, batch, 1000, "ingest: events per IngestEvents call.");
ABSL_FLAG(std::string, user, "", "history: comma-separated user ids.");
ABSL_FLAG(int64_t, max_events, 50, "history: most recent events per user.");
ABSL_FLAG(std::string, table, "", "search: embedding table name.");
ABSL_FLAG(int64_t, table_version, 0, "search: table version (0 = the newest).");
ABSL_FLAG(int64_t, item, 0, "search: query with this item's stored embedding.");
ABSL_FLAG(std::string, vector, "", "search: query vector, comma-separated floats.");
ABSL_FLAG(int32_t, k, 10, "search: neighbours to return.");
ABSL_FLAG(std::string, exclude, "", "search: comma-separated item ids to leave out.");
ABSL_FLAG(std::string, categories, "", "search: only items of these comma-separated categories.");
ABSL_FLAG(std::string, directory, "", "checkpoint: name of the checkpoint directory.");
ABSL_FLAG(std::string, model, "", "recommend, score: model name in the server's repository.");
ABSL_FLAG(int64_t, model_version, 0, "recommend, score: model version (0 = the newest).");
ABSL_FLAG(std::string, history, "", "recommend, score: a history of item ids, oldest first.");
ABSL_FLAG(std::string, candidates, "", "score: comma-separated candidate item ids.");
ABSL_FLAG(std::string, retrieval, "exact",
          "recommend, bench: exact (the kernels' catalogue top-K) or index (the feature "
          "store's FAISS index over the model's item table).");
ABSL_FLAG(std::string, history_categories, "",
          "ctr: category of each --history item (default 0 = unknown).");
ABSL_FLAG(std::string, candidate_categories, "",
          "ctr: category of each --candidates item (default 0 = unknown).");
ABSL_FLAG(int32_t, top_k, 0, "ctr: behaviours retrieved per candidate (0 = the model's).");
ABSL_FLAG(bool, explain, false, "ctr: print the retrieved behaviours and their weights.");
ABSL_FLAG(std::string, query, "", "rerank: the query text.");
ABSL_FLAG(std::string, documents, "",
          "rerank: JSON-lines file of documents, {\"id\": ..., \"title\": ..., \"text\": ...} "
          "each, in first-stage order (best first).");
ABSL_FLAG(int32_t, top_n, 0, "rerank: documents to print (0 = all).");
ABSL_FLAG(bool, query_only, false,
          "rerank: one pass, the query's raw attention (no content-free calibration).");
ABSL_FLAG(bool, masses, false, "rerank: also print each document's raw attention masses.");
ABSL_FLAG(std::string, rpc, "score", "bench: score or recommend.");
ABSL_FLAG(int32_t, concurrency, 8, "bench: concurrent callers.");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(10), "bench: how long each load runs.");
ABSL_FLAG(absl::Duration, shed_backoff, absl::Milliseconds(1),
          "bench: a caller whose call is shed (RESOURCE_EXHAUSTED, UNAVAILABLE) waits a jittered "
          "backoff from this, doubling to 64x until a success, as gRPC's retry policy does; 0s "
          "retries at once.");
ABSL_FLAG(bool, tls, false, "Connect with TLS (implied by the other --tls_* flags).");
ABSL_FLAG(std::string, tls_ca_file, "", "PEM CA bundle that signed the server certificate.");
ABSL_FLAG(std::string, tls_cert_file, "", "PEM client certificate (mTLS).");
ABSL_FLAG(std::string, tls_key_file, "", "PEM key of --tls_cert_file.");
ABSL_FLAG(std::string, tls_server_name, "", "Name to verify in the server certificate.");

namespace {

constexpr char kUsage[] =
    "Command-line client of recsys-server.\n"
    "Usage: recsys-cli <command> [flags]\n"
    "Commands:\n"
    "  health   readiness of the server and each hosted service (exit 1 if any is not SERVING)\n"
    "  info     server version, devices and hosted services\n"
    "  list     gRPC services exposed, from server reflection\n"
    "  reload   load new model versions now (--model=NAME, or all)\n"
    "  ingest   feature store: ingest events from --file (JSON lines)\n"
    "  history  feature store: recent events of --user=u1,u2 (--max_events)\n"
    "  search   feature store: nearest items in --table to --item or --vector (--k,\n"
    "           --exclude, --categories, --table_version)\n"
    "  checkpoint  feature store: checkpoint into --directory under the server's root\n"
    "  recommend   seqrec: top --k items of --model for --user=u1,u2 or --history=1,2,3\n"
    "              (--retrieval=index: from the feature store's FAISS index)\n"
    "  score       seqrec: scores of --candidates for --user or --history\n"
    "  ctr         behavior_search: click probabilities of --candidates for --user or\n"
    "              --history (with --history_categories, --candidate_categories, --explain)\n"
    "  rerank      rerank: --documents (JSON lines) re-ranked for --query by --model (ICR;\n"
    "              --top_n, --query_only, --masses)\n"
    "  bench       seqrec load: --rpc=score|recommend at --concurrency for --duration, then\n"
    "              a no-op RPC the same way (same --model, --user/--history, --candidates, --k)\n";

// Parses a comma-separated list; false (after naming the flag) on a bad entry.
template <typename T>
bool ParseList(const char* flag, const std::string& text, std::vector<T>* out) {
  if (text.empty()) return true;
  for (absl::string_view part : absl::StrSplit(text, ',')) {
    T value{};
    bool ok = false;
    if constexpr (std::is_same_v<T, float>) {
      ok = absl::SimpleAtof(part, &value);
    } else {
      ok = absl::SimpleAtoi(part, &value);
    }
    if (!ok) {
      std::cerr << "recsys-cli: --" << flag << ": '" << part << "' is not a number\n";
      return false;
    }
    out->push_back(value);
  }
  return true;
}

int FeatureStoreCommand(const std::string& command, const recsys::cli::CommandContext& ctx) {
  namespace cli = recsys::cli;
  auto usage = [](const std::string& message) {
    std::cerr << "recsys-cli: " << message << "\n";
    return cli::kExitUsage;
  };
  if (command == "ingest") {
    if (absl::GetFlag(FLAGS_file).empty()) return usage("ingest: --file is required");
    if (absl::GetFlag(FLAGS_batch) < 1) return usage("--batch: must be >= 1");
    return cli::RunIngest(ctx, absl::GetFlag(FLAGS_file), absl::GetFlag(FLAGS_batch));
  }
  if (command == "history") {
    std::vector<std::string> users = absl::StrSplit(absl::GetFlag(FLAGS_user), ',',
                                                    absl::SkipEmpty());
    if (users.empty()) return usage("history: --user is required");
    return cli::RunHistory(ctx, users, absl::GetFlag(FLAGS_max_events));
  }
  if (command == "search") {
    cli::SearchArgs args;
    args.table = absl::GetFlag(FLAGS_table);
    if (args.table.empty()) return usage("search: --table is required");
    if (absl::GetFlag(FLAGS_table_version) > 0) args.version = absl::GetFlag(FLAGS_table_version);
    args.item_id = absl::GetFlag(FLAGS_item);
    args.k = absl::GetFlag(FLAGS_k);
    if (!ParseList("vector", absl::GetFlag(FLAGS_vector), &args.vector) ||
        !ParseList("exclude", absl::GetFlag(FLAGS_exclude), &args.exclude_item_ids) ||
        !ParseList("categories", absl::GetFlag(FLAGS_categories), &args.include_category_ids)) {
      return cli::kExitUsage;
    }
    if (args.vector.empty() == (args.item_id == 0)) {
      return usage("search: give exactly one of --item and --vector");
    }
    return cli::RunSearch(ctx, args);
  }
  if (command == "checkpoint") {
    if (absl::GetFlag(FLAGS_directory).empty()) return usage("checkpoint: --directory is required");
    return cli::RunCheckpoint(ctx, absl::GetFlag(FLAGS_directory));
  }
  if (command == "rerank") {
    cli::RerankArgs args;
    args.model = absl::GetFlag(FLAGS_model);
    if (args.model.empty()) return usage("rerank: --model is required");
    if (absl::GetFlag(FLAGS_model_version) > 0) args.version = absl::GetFlag(FLAGS_model_version);
    args.query = absl::GetFlag(FLAGS_query);
    if (args.query.empty()) return usage("rerank: --query is required");
    args.documents_file = absl::GetFlag(FLAGS_documents);
    if (args.documents_file.empty()) return usage("rerank: --documents is required");
    args.top_n = absl::GetFlag(FLAGS_top_n);
    if (args.top_n < 0) return usage("--top_n: must be >= 0");
    args.query_only = absl::GetFlag(FLAGS_query_only);
    args.masses = absl::GetFlag(FLAGS_masses);
    return cli::RunRerank(ctx, args);
  }
  if (command == "ctr") {
    cli::CtrArgs args;
    args.model = absl::GetFlag(FLAGS_model);
    if (args.model.empty()) return usage("ctr: --model is required");
    if (absl::GetFlag(FLAGS_model_version) > 0) args.version = absl::GetFlag(FLAGS_model_version);
    args.user_id = absl::GetFlag(FLAGS_user);
    args.top_k = absl::GetFlag(FLAGS_top_k);
    args.explain = absl::GetFlag(FLAGS_explain);
    if (!ParseList("history", absl::GetFlag(FLAGS_history), &args.history) ||
        !ParseList("history_categories", absl::GetFlag(FLAGS_history_categories),
                   &args.history_categories) ||
        !ParseList("candidates", absl::GetFlag(FLAGS_candidates), &args.candidates) ||
        !ParseList("candidate_categories", absl::GetFlag(FLAGS_candidate_categories),
                   &args.candidate_categories)) {
      return cli::kExitUsage;
    }
    if (args.user_id.empty() == args.history.empty()) {
      return usage("ctr: give exactly one of --user and --history");
    }
    if (args.candidates.empty()) return usage("ctr: --candidates is required");
    return cli::RunCtr(ctx, args);
  }
  if (command == "recommend" || command == "score" || command == "bench") {
    cli::SeqRecArgs args;
    args.model = absl::GetFlag(FLAGS_model);
    if (args.model.empty()) return usage(command + ": --model is required");
    if (absl::GetFlag(FLAGS_model_version) > 0) args.version = absl::GetFlag(FLAGS_model_version);
    args.user_ids = absl::StrSplit(absl::GetFlag(FLAGS_user), ',', absl::SkipEmpty());
    args.k = absl::GetFlag(FLAGS_k);
    const std::string retrieval = absl::GetFlag(FLAGS_retrieval);
    if (retrieval != "exact" && retrieval != "index") {
      return usage("--retrieval: must be exact or index");
    }
    args.index = retrieval == "index";
    if (!ParseList("history", absl::GetFlag(FLAGS_history), &args.history) ||
        !ParseList("candidates", absl::GetFlag(FLAGS_candidates), &args.candidates) ||
        !ParseList("exclude", absl::GetFlag(FLAGS_exclude), &args.exclude_item_ids) ||
        !ParseList("categories", absl::GetFlag(FLAGS_categories), &args.include_category_ids)) {
      return cli::kExitUsage;
    }
    if (args.user_ids.empty() == args.history.empty()) {
      return usage(command + ": give exactly one of --user and --history");
    }
    if (command == "bench") {
      cli::BenchArgs bench;
      bench.rpc = absl::GetFlag(FLAGS_rpc);
      bench.concurrency = absl::GetFlag(FLAGS_concurrency);
      bench.duration = absl::GetFlag(FLAGS_duration);
      bench.shed_backoff = absl::GetFlag(FLAGS_shed_backoff);
      bench.seqrec = args;
      if (bench.rpc != "score" && bench.rpc != "recommend") {
        return usage("--rpc: must be score or recommend");
      }
      if (bench.concurrency < 1 || bench.duration <= absl::ZeroDuration() ||
          bench.shed_backoff < absl::ZeroDuration()) {
        return usage("bench: --concurrency must be >= 1, --duration > 0 and --shed_backoff >= 0");
      }
      if (bench.rpc == "score" && args.candidates.empty()) {
        return usage("bench --rpc=score: --candidates is required");
      }
      return cli::RunBench(ctx, bench);
    }
    if (command == "score") {
      if (args.candidates.empty()) return usage("score: --candidates is required");
      return cli::RunScore(ctx, args);
    }
    return cli::RunRecommend(ctx, args);
  }
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(kUsage);
  const std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() != 2) {
    std::cerr << kUsage;
    return recsys::cli::kExitUsage;
  }
  const std::string command = args[1];

  recsys::cli::ChannelOptions channel_options;
  channel_options.target = absl::GetFlag(FLAGS_target);
  channel_options.tls = absl::GetFlag(FLAGS_tls);
  channel_options.tls_ca_file = absl::GetFlag(FLAGS_tls_ca_file);
  channel_options.tls_cert_file = absl::GetFlag(FLAGS_tls_cert_file);
  channel_options.tls_key_file = absl::GetFlag(FLAGS_tls_key_file);
  channel_options.tls_server_name = absl::GetFlag(FLAGS_tls_server_name);
  auto channel = recsys::cli::MakeChannel(channel_options);
  if (!channel.ok()) {
    std::cerr << "recsys-cli: " << channel.status().message() << "\n";
    return recsys::cli::kExitUsage;
  }
  const absl::Duration timeout = absl::GetFlag(FLAGS_timeout);
  if (timeout <= absl::ZeroDuration()) {
    std::cerr << "recsys-cli: --timeout: must be > 0\n";
    return recsys::cli::kExitUsage;
  }

  recsys::cli::CommandContext ctx;
  ctx.channel = *channel;
  ctx.target = channel_options.target;
  ctx.timeout = timeout;
  ctx.json = absl::GetFlag(FLAGS_json);
  // The token goes only with the commands that need it (admin calls, and info's paths).
  const bool admin_command = command == "reload" || command == "checkpoint" || command == "info";
  if (const std::string file = absl::GetFlag(FLAGS_admin_token_file);
      !file.empty() && admin_command) {
    absl::StatusOr<std::string> token = recsys::ReadSecretForFlag("--admin_token_file", file);
    if (!token.ok()) {
      std::cerr << "recsys-cli: " << token.status().message() << "\n";
      return recsys::cli::kExitUsage;
    }
    ctx.admin_token = *std::move(token);
  }
  ctx.out = &std::cout;
  ctx.err = &std::cerr;

  if (command == "health") return recsys::cli::RunHealth(ctx, absl::GetFlag(FLAGS_service));
  if (command == "info") return recsys::cli::RunInfo(ctx);
  if (command == "list") return recsys::cli::RunListServices(ctx);
  if (command == "reload") return recsys::cli::RunReload(ctx, absl::GetFlag(FLAGS_model));
  if (const int code = FeatureStoreCommand(command, ctx); code >= 0) return code;
  std::cerr << "recsys-cli: unknown command '" << command << "'\n" << kUsage;
  return recsys::cli::kExitUsage;
}
