#include "services/feature_store/remote_store.h"

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include <algorithm>
#include <functional>
#include <future>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "base/status_macros.h"
#include "recsys/feature_store/v1/feature_store.grpc.pb.h"
#include "services/common/grpc_status.h"
#include "services/feature_store/convert.h"
#include "store/validate.h"

namespace recsys::feature_store {
namespace {

using Stub = v1::FeatureStoreService::Stub;
constexpr int kCatalogueShard = 0;

// Transport-level failures say which shard failed; request errors ("events[3].user_id ...")
// pass through unchanged, so they read the same as from the in-process store.
absl::Status FromShard(const grpc::Status& status, int shard, const char* rpc) {
  const absl::Status s = FromGrpcStatus(status);
  switch (s.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kCancelled:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kResourceExhausted:
      return absl::Status(s.code(),
                          absl::StrCat("feature store shard ", shard, ": ", rpc, ": ", s.message()));
    default:
      return s;
  }
}

// Runs fn(shard) for every shard in `shards` (in parallel when there are several) and
// returns the first error in shard order.
absl::Status ForShards(const std::vector<int>& shards, const std::function<absl::Status(int)>& fn) {
  if (shards.size() == 1) return fn(shards[0]);
  std::vector<std::future<absl::Status>> rest;
  for (size_t i = 1; i < shards.size(); ++i) {
    rest.push_back(std::async(std::launch::async, fn, shards[i]));
  }
  absl::Status first = fn(shards[0]);
  for (std::future<absl::Status>& f : rest) {
    absl::Status s = f.get();
    if (first.ok()) first = std::move(s);
  }
  return first;
}

class RemoteUpload final : public store::EmbeddingUpload {
 public:
  RemoteUpload(Stub* stub, store::TableSpec spec, const RemoteStoreOptions& options)
      : spec_(std::move(spec)),
        max_batch_items_(options.limits.max_batch_items),
        message_floats_(options.upload_message_floats) {
    call_.set_deadline(absl::ToChronoTime(absl::Now() + options.upload_timeout));
    writer_ = stub->UploadEmbeddings(&call_, &response_);
  }

  ~RemoteUpload() override {
    if (!done_) {
      // Abandoned: end the stream without a commit and wait for the server's answer, which it
      // sends after dropping what it received. A cancel would return at once, and a retry of
      // the same version could then reach the server while the old upload still holds it.
      // The call's deadline bounds the wait.
      writer_->WritesDone();
      (void)writer_->Finish();
    }
  }

  absl::Status Append(absl::Span<const int64_t> item_ids, absl::Span<const float> values) override {
    if (done_) return absl::FailedPreconditionError("Append after Finish");
    RECSYS_RETURN_IF_ERROR(store::ValidateEmbeddingChunk(spec_.dim, item_ids, values,
                                                         max_batch_items_));
    const size_t rows_per_message =
        static_cast<size_t>(std::max<int64_t>(1, message_floats_ / spec_.dim));
    for (size_t first = 0; first < item_ids.size(); first += rows_per_message) {
      const size_t rows = std::min(rows_per_message, item_ids.size() - first);
      v1::UploadEmbeddingsRequest request = NextMessage();
      request.mutable_item_ids()->Add(item_ids.begin() + first, item_ids.begin() + first + rows);
      const float* begin = values.data() + first * spec_.dim;
      request.mutable_values()->Add(begin, begin + rows * spec_.dim);
      if (!writer_->Write(request)) {
        // The server ended the stream (an error of its own, or it went away): its status.
        done_ = true;
        const grpc::Status status = writer_->Finish();
        return status.ok() ? absl::UnavailableError("the upload stream closed early")
                           : FromShard(status, kCatalogueShard, "UploadEmbeddings");
      }
    }
    return absl::OkStatus();
  }

  absl::StatusOr<store::TableInfo> Finish() override {
    if (done_) return absl::FailedPreconditionError("Finish after the upload ended");
    done_ = true;
    v1::UploadEmbeddingsRequest request = NextMessage();
    request.set_commit(true);
    writer_->WriteLast(request, grpc::WriteOptions());
    const grpc::Status status = writer_->Finish();
    if (!status.ok()) return FromShard(status, kCatalogueShard, "UploadEmbeddings");
    store::TableInfo info;
    info.spec = FromProto(response_.table());
    info.rows = response_.rows();
    info.ready = true;
    info.index_build_seconds = response_.index_build_seconds();
    return info;
  }

 private:
  // The first message of the stream carries the table spec.
  v1::UploadEmbeddingsRequest NextMessage() {
    v1::UploadEmbeddingsRequest request;
    if (!sent_spec_) {
      ToProto(spec_, request.mutable_table());
      sent_spec_ = true;
    }
    return request;
  }

  const store::TableSpec spec_;
  const int64_t max_batch_items_;
  const int64_t message_floats_;
  grpc::ClientContext call_;
  v1::UploadEmbeddingsResponse response_;
  std::unique_ptr<grpc::ClientWriter<v1::UploadEmbeddingsRequest>> writer_;
  bool sent_spec_ = false;
  bool done_ = false;
};

class RemoteStore final : public store::FeatureStore {
 public:
  explicit RemoteStore(RemoteStoreOptions options) : options_(std::move(options)) {
    for (const auto& channel : options_.shards) stubs_.push_back(v1::FeatureStoreService::NewStub(channel));
  }

  absl::StatusOr<store::IngestResult> IngestEvents(absl::Span<const store::Event> events) override {
    RECSYS_RETURN_IF_ERROR(store::ValidateEvents(events, options_.limits.max_ingest_batch));
    std::vector<v1::IngestEventsRequest> requests(stubs_.size());
    for (const store::Event& e : events) {
      ToProto(e, requests[ShardOf(e.user_id, num_shards())].add_events());
    }
    std::vector<store::IngestResult> results(stubs_.size());
    RECSYS_RETURN_IF_ERROR(ForShards(Used(requests, [](const auto& r) { return r.events_size(); }),
                                     [&](int shard) -> absl::Status {
                                       v1::IngestEventsResponse response;
                                       RECSYS_RETURN_IF_ERROR(Call(shard, "IngestEvents",
                                                                   &Stub::IngestEvents,
                                                                   requests[shard], &response));
                                       results[shard] = {response.stored_count(),
                                                         response.duplicate_count()};
                                       return absl::OkStatus();
                                     }));
    store::IngestResult total;
    for (const store::IngestResult& r : results) {
      total.stored += r.stored;
      total.duplicates += r.duplicates;
    }
    return total;
  }

  absl::StatusOr<std::vector<store::UserHistory>> GetHistories(
      absl::Span<const std::string> user_ids, const store::HistoryQuery& query) override {
    RECSYS_RETURN_IF_ERROR(store::ValidateHistoryRequest(user_ids, query,
                                                         options_.limits.max_batch_users,
                                                         options_.limits.max_history_length));
    std::vector<v1::GetHistoriesRequest> requests(stubs_.size());
    std::vector<std::vector<size_t>> positions(stubs_.size());
    for (size_t i = 0; i < user_ids.size(); ++i) {
      const int shard = ShardOf(user_ids[i], num_shards());
      requests[shard].add_user_ids(user_ids[i]);
      positions[shard].push_back(i);
    }
    for (v1::GetHistoriesRequest& r : requests) {
      r.set_max_events(static_cast<int32_t>(query.max_events));
      if (query.since_ms.has_value()) r.set_since_ms(*query.since_ms);
    }
    std::vector<store::UserHistory> out(user_ids.size());
    RECSYS_RETURN_IF_ERROR(ForShards(
        Used(requests, [](const auto& r) { return r.user_ids_size(); }),
        [&](int shard) -> absl::Status {
          v1::GetHistoriesResponse response;
          RECSYS_RETURN_IF_ERROR(
              Call(shard, "GetHistories", &Stub::GetHistories, requests[shard], &response));
          if (response.histories_size() != requests[shard].user_ids_size()) {
            return absl::InternalError(absl::StrCat("feature store shard ", shard, " returned ",
                                                    response.histories_size(), " histories for ",
                                                    requests[shard].user_ids_size(), " users"));
          }
          for (int k = 0; k < response.histories_size(); ++k) {
            out[positions[shard][k]] = FromProto(response.histories(k));
          }
          return absl::OkStatus();
        }));
    // Each shard keeps its own reply budget (--feature_store_max_reply_events, a server
    // flag this client cannot see), so a merged reply holds at most shards x that.
    return out;
  }

  absl::Status UpsertItems(absl::Span<const store::Item> items) override {
    v1::UpsertItemsRequest request;
    for (const store::Item& item : items) ToProto(item, request.add_items());
    v1::UpsertItemsResponse response;
    return Call(kCatalogueShard, "UpsertItems", &Stub::UpsertItems, request, &response);
  }

  absl::StatusOr<store::ItemLookup> GetItems(absl::Span<const int64_t> item_ids) override {
    v1::GetItemsRequest request;
    request.mutable_item_ids()->Add(item_ids.begin(), item_ids.end());
    v1::GetItemsResponse response;
    RECSYS_RETURN_IF_ERROR(Call(kCatalogueShard, "GetItems", &Stub::GetItems, request, &response));
    store::ItemLookup lookup;
    for (const v1::Item& item : response.items()) lookup.found.push_back(FromProto(item));
    lookup.missing.assign(response.missing_item_ids().begin(), response.missing_item_ids().end());
    return lookup;
  }

  absl::StatusOr<std::unique_ptr<store::EmbeddingUpload>> BeginEmbeddingUpload(
      const store::TableSpec& spec) override {
    RECSYS_RETURN_IF_ERROR(store::ValidateTableSpec(spec, options_.limits.max_embedding_dim));
    // Versions are immutable: refuse an existing one now, as the local store does, rather than
    // after the whole upload has been sent.
    RECSYS_ASSIGN_OR_RETURN(std::vector<store::TableInfo> tables, ListEmbeddingTables());
    for (const store::TableInfo& t : tables) {
      if (t.spec.name == spec.name && t.spec.version == spec.version) {
        return absl::AlreadyExistsError(absl::StrCat("table ", spec.name, " version ",
                                                     spec.version, " already exists"));
      }
    }
    return std::unique_ptr<store::EmbeddingUpload>(
        new RemoteUpload(stubs_[kCatalogueShard].get(), spec, options_));
  }

  absl::StatusOr<store::EmbeddingRows> GetEmbeddings(const std::string& table,
                                                     std::optional<int64_t> version,
                                                     absl::Span<const int64_t> item_ids) override {
    v1::GetEmbeddingsRequest request;
    request.set_table(table);
    if (version.has_value()) request.set_version(*version);
    request.mutable_item_ids()->Add(item_ids.begin(), item_ids.end());
    v1::GetEmbeddingsResponse response;
    RECSYS_RETURN_IF_ERROR(
        Call(kCatalogueShard, "GetEmbeddings", &Stub::GetEmbeddings, request, &response));
    store::EmbeddingRows rows;
    rows.version = response.version();
    rows.dim = response.dim();
    rows.item_ids.assign(response.item_ids().begin(), response.item_ids().end());
    rows.values.assign(response.values().begin(), response.values().end());
    rows.missing.assign(response.missing_item_ids().begin(), response.missing_item_ids().end());
    return rows;
  }

  absl::StatusOr<store::NeighborResults> SearchNeighbors(
      const std::string& table, std::optional<int64_t> version,
      absl::Span<const store::NeighborQuery> queries) override {
    v1::SearchNeighborsRequest request;
    request.set_table(table);
    if (version.has_value()) request.set_version(*version);
    for (const store::NeighborQuery& q : queries) ToProto(q, request.add_queries());
    v1::SearchNeighborsResponse response;
    RECSYS_RETURN_IF_ERROR(
        Call(kCatalogueShard, "SearchNeighbors", &Stub::SearchNeighbors, request, &response));
    store::NeighborResults results;
    results.version = response.version();
    results.results.reserve(response.results_size());
    for (const v1::NeighborResult& result : response.results()) {
      std::vector<store::Neighbor>& out = results.results.emplace_back();
      out.reserve(result.neighbors_size());
      for (const auto& n : result.neighbors()) out.push_back({n.item_id(), n.score()});
    }
    return results;
  }

  absl::StatusOr<std::vector<store::TableInfo>> ListEmbeddingTables() override {
    v1::ListEmbeddingTablesResponse response;
    RECSYS_RETURN_IF_ERROR(Call(kCatalogueShard, "ListEmbeddingTables",
                                &Stub::ListEmbeddingTables, v1::ListEmbeddingTablesRequest(),
                                &response));
    std::vector<store::TableInfo> tables;
    for (const auto& t : response.tables()) {
      store::TableInfo info;
      info.spec = FromProto(t.spec());
      info.rows = t.rows();
      info.ready = t.ready();
      tables.push_back(std::move(info));
    }
    return tables;
  }

  // Every shard checkpoints under its own --feature_store_checkpoint_root; `directory` is the name
  // of the checkpoint there. The result's path lists the shards' paths, comma-separated, in shard
  // order; bytes is their total.
  absl::StatusOr<store::CheckpointInfo> Checkpoint(const std::string& directory) override {
    v1::CheckpointRequest request;
    request.set_directory(directory);
    std::vector<v1::CheckpointResponse> responses(stubs_.size());
    std::vector<int> all(stubs_.size());
    for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int>(i);
    RECSYS_RETURN_IF_ERROR(ForShards(all, [&](int shard) {
      return Call(shard, "Checkpoint", &Stub::Checkpoint, request, &responses[shard]);
    }));
    store::CheckpointInfo info;
    std::vector<std::string> paths;
    for (const v1::CheckpointResponse& r : responses) {
      paths.push_back(r.path());
      info.bytes += r.bytes();
    }
    info.path = absl::StrJoin(paths, ",");
    return info;
  }

 private:
  int num_shards() const { return static_cast<int>(stubs_.size()); }

  // The shards whose request is not empty.
  template <typename Request, typename Size>
  static std::vector<int> Used(const std::vector<Request>& requests, Size size) {
    std::vector<int> shards;
    for (size_t i = 0; i < requests.size(); ++i) {
      if (size(requests[i]) > 0) shards.push_back(static_cast<int>(i));
    }
    return shards;
  }

  // One unary call with the store's deadline, retried with backoff on UNAVAILABLE.
  template <typename Request, typename Response>
  absl::Status Call(int shard, const char* rpc,
                    grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
                    const Request& request, Response* response) const {
    const absl::Time deadline = absl::Now() + options_.timeout;
    absl::Duration backoff = absl::Milliseconds(20);
    for (int attempt = 1;; ++attempt) {
      grpc::ClientContext call;
      call.set_deadline(absl::ToChronoTime(deadline));
      const grpc::Status status = (stubs_[shard].get()->*method)(&call, request, response);
      if (status.ok()) return absl::OkStatus();
      if (status.error_code() != grpc::StatusCode::UNAVAILABLE ||
          attempt >= options_.max_attempts || absl::Now() + backoff >= deadline) {
        return FromShard(status, shard, rpc);
      }
      absl::SleepFor(backoff);
      backoff *= 2;
      response->Clear();
    }
  }

  const RemoteStoreOptions options_;
  std::vector<std::unique_ptr<Stub>> stubs_;
};

}  // namespace

int ShardOf(absl::string_view user_id, int shards) {
  uint64_t hash = 14695981039346656037ull;  // FNV-1a 64
  for (unsigned char c : user_id) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return static_cast<int>(hash % static_cast<uint64_t>(std::max(shards, 1)));
}

absl::StatusOr<std::unique_ptr<store::FeatureStore>> OpenRemoteStore(RemoteStoreOptions options) {
  if (options.shards.empty()) {
    return absl::InvalidArgumentError("RemoteStore: shards is empty (at least one channel)");
  }
  for (size_t i = 0; i < options.shards.size(); ++i) {
    if (options.shards[i] == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("RemoteStore: shards[", i, "] is null"));
    }
  }
  if (options.timeout <= absl::ZeroDuration() || options.upload_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("RemoteStore: timeout and upload_timeout must be > 0");
  }
  if (options.max_attempts < 1 || options.upload_message_floats < 1) {
    return absl::InvalidArgumentError(
        "RemoteStore: max_attempts and upload_message_floats must be >= 1");
  }
  RECSYS_RETURN_IF_ERROR(store::ValidateLimits(options.limits, "RemoteStore"));
  return std::unique_ptr<store::FeatureStore>(new RemoteStore(std::move(options)));
}

std::vector<std::shared_ptr<grpc::Channel>> InsecureShardChannels(
    const std::vector<std::string>& targets, int max_message_bytes) {
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (const std::string& target : targets) {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(max_message_bytes);
    args.SetMaxSendMessageSize(max_message_bytes);
    channels.push_back(
        grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args));
  }
  return channels;
}

}  // namespace recsys::feature_store
