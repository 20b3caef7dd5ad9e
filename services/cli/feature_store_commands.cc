#include "services/cli/feature_store_commands.h"

#include <google/protobuf/util/json_util.h>

#include <fstream>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "recsys/feature_store/v1/feature_store.grpc.pb.h"
#include "services/cli/command_util.h"

namespace recsys::cli {
namespace {

namespace fs = ::recsys::feature_store::v1;

std::unique_ptr<fs::FeatureStoreService::Stub> Stub(const CommandContext& ctx) {
  return fs::FeatureStoreService::NewStub(ctx.channel);
}

std::string DerivedEventId(const std::string& line) {
  uint64_t hash = 14695981039346656037ull;  // FNV-1a 64
  for (unsigned char c : line) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return absl::StrFormat("line-%016x", hash);
}

// Parses the whole file first, so a bad line sends nothing.
bool ReadEvents(const CommandContext& ctx, const std::string& path,
                std::vector<common::v1::Event>* events) {
  common::v1::Event prototype;
  return ReadJsonLines(ctx, "ingest", path, &prototype,
                       [events](const google::protobuf::Message& m, const std::string& line) {
                         common::v1::Event event = static_cast<const common::v1::Event&>(m);
                         if (event.event_id().empty()) event.set_event_id(DerivedEventId(line));
                         events->push_back(std::move(event));
                       });
}

}  // namespace

int RunIngest(const CommandContext& ctx, const std::string& path, int64_t batch) {
  std::vector<common::v1::Event> events;
  if (!ReadEvents(ctx, path, &events)) return kExitUsage;
  auto stub = Stub(ctx);
  int64_t stored = 0, duplicates = 0;
  for (size_t first = 0; first < events.size(); first += static_cast<size_t>(batch)) {
    fs::IngestEventsRequest request;
    const size_t end = std::min(events.size(), first + static_cast<size_t>(batch));
    for (size_t i = first; i < end; ++i) *request.add_events() = events[i];
    fs::IngestEventsResponse response;
    grpc::ClientContext call;
    SetDeadline(ctx, &call);
    const grpc::Status status = stub->IngestEvents(&call, request, &response);
    if (!status.ok()) {
      *ctx.err << "recsys-cli: ingest: events " << first + 1 << ".." << end << " of " << path
               << " not acknowledged; " << first << " before them were\n";
      return ReportRpcError(ctx, "IngestEvents", status);
    }
    stored += response.stored_count();
    duplicates += response.duplicate_count();
  }
  if (ctx.json) {
    fs::IngestEventsResponse total;
    total.set_stored_count(stored);
    total.set_duplicate_count(duplicates);
    PrintJson(ctx, total);
  } else {
    *ctx.out << "ingested " << events.size() << " events from " << path << ": " << stored
             << " stored, " << duplicates << " duplicates\n";
  }
  return kExitOk;
}

int RunHistory(const CommandContext& ctx, const std::vector<std::string>& user_ids,
               int64_t max_events) {
  fs::GetHistoriesRequest request;
  for (const std::string& user : user_ids) request.add_user_ids(user);
  request.set_max_events(static_cast<int32_t>(max_events));
  fs::GetHistoriesResponse response;
  if (std::optional<int> done =
          CallUnary(ctx, "GetHistories", *Stub(ctx), &fs::FeatureStoreService::Stub::GetHistories,
                    request, &response)) {
    return *done;
  }
  for (const fs::UserHistory& h : response.histories()) {
    *ctx.out << "user " << h.user_id() << ": " << h.history().behaviors_size() << " of "
             << h.total_events() << " events, oldest first\n";
    for (const auto& b : h.history().behaviors()) {
      *ctx.out << absl::StrFormat(
          "  %s  item %-10d category %-6d %s\n",
          absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromUnixMillis(b.timestamp_ms()),
                           absl::UTCTimeZone()),
          b.item_id(), b.category_id(), common::v1::EventType_Name(b.type()));
    }
  }
  return kExitOk;
}

int RunSearch(const CommandContext& ctx, const SearchArgs& args) {
  fs::SearchNeighborsRequest request;
  request.set_table(args.table);
  if (args.version.has_value()) request.set_version(*args.version);
  fs::NeighborQuery* query = request.add_queries();
  if (!args.vector.empty()) {
    query->mutable_vector()->mutable_values()->Add(args.vector.begin(), args.vector.end());
  } else {
    query->set_item_id(args.item_id);
  }
  query->set_k(args.k);
  query->mutable_filter()->mutable_exclude_item_ids()->Add(args.exclude_item_ids.begin(),
                                                           args.exclude_item_ids.end());
  query->mutable_filter()->mutable_include_category_ids()->Add(args.include_category_ids.begin(),
                                                               args.include_category_ids.end());
  fs::SearchNeighborsResponse response;
  if (std::optional<int> done =
          CallUnary(ctx, "SearchNeighbors", *Stub(ctx),
                    &fs::FeatureStoreService::Stub::SearchNeighbors, request, &response)) {
    return *done;
  }
  *ctx.out << "table " << args.table << " version " << response.version() << "\n";
  for (const auto& result : response.results()) {
    for (int i = 0; i < result.neighbors_size(); ++i) {
      *ctx.out << absl::StrFormat("  %3d  item %-10d score %.6g\n", i + 1,
                                  result.neighbors(i).item_id(), result.neighbors(i).score());
    }
  }
  return kExitOk;
}

int RunCheckpoint(const CommandContext& ctx, const std::string& directory) {
  fs::CheckpointRequest request;
  request.set_directory(directory);
  fs::CheckpointResponse response;
  grpc::ClientContext call;
  SetDeadline(ctx, &call);
  const grpc::Status status = Stub(ctx)->Checkpoint(&call, request, &response);
  if (!status.ok()) return ReportRpcError(ctx, "Checkpoint", status);
  if (ctx.json) {
    PrintJson(ctx, response);
  } else {
    *ctx.out << "checkpoint written to " << response.path() << " (" << response.bytes()
             << " bytes)\n";
  }
  return kExitOk;
}

}  // namespace recsys::cli
