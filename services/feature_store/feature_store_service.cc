#include "services/feature_store/feature_store_service.h"

#include <filesystem>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/quote.h"
#include "base/status_macros.h"
#include "services/common/grpc_status.h"
#include "services/common/validation.h"
#include "services/feature_store/convert.h"

namespace recsys::feature_store {
namespace {

// A client stream of one table version: the first message opens the upload, every message
// appends its rows, and the end of a stream whose last message set commit builds the index
// (on the handler pool: it can take seconds). A stream that ends or is cancelled without
// commit abandons the upload: an explicit commit, not the end of the stream, publishes, so a
// cancelled client never publishes half a table.
class UploadReactor final : public grpc::ServerReadReactor<v1::UploadEmbeddingsRequest> {
 public:
  UploadReactor(store::FeatureStore* store, const CallPolicy& policy,
                v1::UploadEmbeddingsResponse* response)
      : store_(store), policy_(policy), response_(response) {
    if (store_ == nullptr || (policy_.started != nullptr && !policy_.started->load())) {
      Finish(ToGrpcStatus(absl::UnavailableError(
          absl::StrCat(policy_.service_name, " is starting; retry shortly"))));
      return;
    }
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {  // the client finished sending, or the call was cancelled
      if (!committed_) {
        upload_.reset();
        Finish(ToGrpcStatus(absl::AbortedError(
            "the upload stream ended without a message with commit = true; nothing was "
            "published")));
        return;
      }
      auto finish = [this] { Finish(ToGrpcStatus(Complete())); };
      if (policy_.executor != nullptr) {
        policy_.executor->Submit(std::move(finish));
      } else {
        finish();
      }
      return;
    }
    if (const absl::Status s = Consume(); !s.ok()) {
      upload_.reset();
      Finish(ToGrpcStatus(s));
      return;
    }
    request_.Clear();
    StartRead(&request_);
  }

  void OnDone() override { delete this; }

 private:
  absl::Status Consume() {
    if (committed_) {
      return absl::InvalidArgumentError("a message followed the one with commit = true");
    }
    committed_ = request_.commit();
    if (upload_ == nullptr) {
      if (!request_.has_table()) {
        return absl::InvalidArgumentError("table is required in the first message");
      }
      const v1::IndexSpec& index = request_.table().index();
      RECSYS_RETURN_IF_ERROR(CheckEnum<v1::IndexSpec::Type>("table.index.type", index.type()));
      RECSYS_RETURN_IF_ERROR(CheckEnum<v1::Metric>("table.index.metric", index.metric()));
      spec_ = FromProto(request_.table());
      RECSYS_ASSIGN_OR_RETURN(upload_, store_->BeginEmbeddingUpload(spec_));
    }
    if (request_.item_ids_size() == 0 && request_.values_size() == 0) return absl::OkStatus();
    return upload_->Append(request_.item_ids(), request_.values());
  }

  absl::Status Complete() {
    if (upload_ == nullptr) return absl::InvalidArgumentError("the stream carried no message");
    RECSYS_ASSIGN_OR_RETURN(store::TableInfo info, upload_->Finish());
    ToProto(info.spec, response_->mutable_table());
    response_->set_rows(info.rows);
    response_->set_index_build_seconds(info.index_build_seconds);
    return absl::OkStatus();
  }

  store::FeatureStore* store_;
  CallPolicy policy_;
  v1::UploadEmbeddingsResponse* response_;
  v1::UploadEmbeddingsRequest request_;
  store::TableSpec spec_;
  std::unique_ptr<store::EmbeddingUpload> upload_;
  bool committed_ = false;
};

// Directories directly under dir (0 when it does not exist yet).
int64_t CountDirectories(const std::string& dir) {
  std::error_code error;
  int64_t n = 0;
  for (std::filesystem::directory_iterator it(dir, error), end; !error && it != end;
       it.increment(error)) {
    if (it->is_directory(error)) ++n;
  }
  return n;
}

std::optional<int64_t> OptionalVersion(bool has, int64_t version) {
  return has ? std::optional<int64_t>(version) : std::nullopt;
}

}  // namespace

grpc::ServerUnaryReactor* FeatureStoreService::IngestEvents(grpc::CallbackServerContext* call,
                                                            const v1::IngestEventsRequest* request,
                                                            v1::IngestEventsResponse* response) {
  return ServeUnary(call, policy_, request, response,
                    [this](const RpcContext&, const v1::IngestEventsRequest& req,
                           v1::IngestEventsResponse* resp) -> absl::Status {
                      std::vector<store::Event> events;
                      events.reserve(req.events_size());
                      for (int i = 0; i < req.events_size(); ++i) {
                        RECSYS_RETURN_IF_ERROR(CheckEnum<common::v1::EventType>(
                            FieldPath("events", i, "type"), req.events(i).type()));
                        events.push_back(FromProto(req.events(i)));
                      }
                      RECSYS_ASSIGN_OR_RETURN(store::IngestResult result,
                                              store_->IngestEvents(events));
                      resp->set_stored_count(result.stored);
                      resp->set_duplicate_count(result.duplicates);
                      return absl::OkStatus();
                    });
}

grpc::ServerUnaryReactor* FeatureStoreService::GetHistories(grpc::CallbackServerContext* call,
                                                            const v1::GetHistoriesRequest* request,
                                                            v1::GetHistoriesResponse* response) {
  return ServeUnary(
      call, policy_, request, response,
      [this](const RpcContext&, const v1::GetHistoriesRequest& req,
             v1::GetHistoriesResponse* resp) -> absl::Status {
        const std::vector<std::string> users(req.user_ids().begin(), req.user_ids().end());
        store::HistoryQuery query{req.max_events(),
                                  OptionalVersion(req.has_since_ms(), req.since_ms())};
        RECSYS_ASSIGN_OR_RETURN(std::vector<store::UserHistory> histories,
                                store_->GetHistories(users, query));
        for (size_t i = 0; i < histories.size(); ++i) {
          ToProto(users[i], histories[i], resp->add_histories());
        }
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* FeatureStoreService::UpsertItems(grpc::CallbackServerContext* call,
                                                           const v1::UpsertItemsRequest* request,
                                                           v1::UpsertItemsResponse* response) {
  return ServeUnary(call, policy_, request, response,
                    [this](const RpcContext&, const v1::UpsertItemsRequest& req,
                           v1::UpsertItemsResponse* resp) -> absl::Status {
                      std::vector<store::Item> items;
                      items.reserve(req.items_size());
                      for (const auto& item : req.items()) items.push_back(FromProto(item));
                      RECSYS_RETURN_IF_ERROR(store_->UpsertItems(items));
                      resp->set_upserted_count(req.items_size());
                      return absl::OkStatus();
                    });
}

grpc::ServerUnaryReactor* FeatureStoreService::GetItems(grpc::CallbackServerContext* call,
                                                        const v1::GetItemsRequest* request,
                                                        v1::GetItemsResponse* response) {
  return ServeUnary(call, policy_, request, response,
                    [this](const RpcContext&, const v1::GetItemsRequest& req,
                           v1::GetItemsResponse* resp) -> absl::Status {
                      RECSYS_ASSIGN_OR_RETURN(store::ItemLookup lookup,
                                              store_->GetItems(req.item_ids()));
                      for (const store::Item& item : lookup.found) ToProto(item, resp->add_items());
                      resp->mutable_missing_item_ids()->Add(lookup.missing.begin(),
                                                            lookup.missing.end());
                      return absl::OkStatus();
                    });
}

grpc::ServerReadReactor<v1::UploadEmbeddingsRequest>* FeatureStoreService::UploadEmbeddings(
    grpc::CallbackServerContext* call, v1::UploadEmbeddingsResponse* response) {
  return new UploadReactor(store_, policy_, response);
}

grpc::ServerUnaryReactor* FeatureStoreService::GetEmbeddings(
    grpc::CallbackServerContext* call, const v1::GetEmbeddingsRequest* request,
    v1::GetEmbeddingsResponse* response) {
  return ServeUnary(
      call, policy_, request, response,
      [this](const RpcContext&, const v1::GetEmbeddingsRequest& req,
             v1::GetEmbeddingsResponse* resp) -> absl::Status {
        RECSYS_ASSIGN_OR_RETURN(
            store::EmbeddingRows rows,
            store_->GetEmbeddings(req.table(), OptionalVersion(req.has_version(), req.version()),
                                  req.item_ids()));
        resp->set_version(rows.version);
        resp->set_dim(rows.dim);
        resp->mutable_item_ids()->Add(rows.item_ids.begin(), rows.item_ids.end());
        resp->mutable_values()->Add(rows.values.begin(), rows.values.end());
        resp->mutable_missing_item_ids()->Add(rows.missing.begin(), rows.missing.end());
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* FeatureStoreService::SearchNeighbors(
    grpc::CallbackServerContext* call, const v1::SearchNeighborsRequest* request,
    v1::SearchNeighborsResponse* response) {
  return ServeUnary(
      call, policy_, request, response,
      [this](const RpcContext&, const v1::SearchNeighborsRequest& req,
             v1::SearchNeighborsResponse* resp) -> absl::Status {
        std::vector<store::NeighborQuery> queries;
        queries.reserve(req.queries_size());
        for (const auto& q : req.queries()) queries.push_back(FromProto(q));
        RECSYS_ASSIGN_OR_RETURN(
            store::NeighborResults results,
            store_->SearchNeighbors(req.table(),
                                    OptionalVersion(req.has_version(), req.version()), queries));
        resp->set_version(results.version);
        for (const auto& neighbors : results.results) {
          auto* out = resp->add_results()->mutable_neighbors();
          for (const store::Neighbor& n : neighbors) {
            auto* item = out->Add();
            item->set_item_id(n.item_id);
            item->set_score(n.score);
          }
        }
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* FeatureStoreService::ListEmbeddingTables(
    grpc::CallbackServerContext* call, const v1::ListEmbeddingTablesRequest* request,
    v1::ListEmbeddingTablesResponse* response) {
  return ServeUnary(call, policy_, request, response,
                    [this](const RpcContext&, const v1::ListEmbeddingTablesRequest&,
                           v1::ListEmbeddingTablesResponse* resp) -> absl::Status {
                      RECSYS_ASSIGN_OR_RETURN(std::vector<store::TableInfo> tables,
                                              store_->ListEmbeddingTables());
                      for (const store::TableInfo& info : tables) {
                        auto* out = resp->add_tables();
                        ToProto(info.spec, out->mutable_spec());
                        out->set_rows(info.rows);
                        out->set_ready(info.ready);
                      }
                      return absl::OkStatus();
                    });
}

grpc::ServerUnaryReactor* FeatureStoreService::Checkpoint(grpc::CallbackServerContext* call,
                                                          const v1::CheckpointRequest* request,
                                                          v1::CheckpointResponse* response) {
  const absl::Status admin = CheckAdmin(*call, policy_.admin, "Checkpoint");
  return ServeUnary(
      call, policy_, request, response,
      [this, admin](const RpcContext&, const v1::CheckpointRequest& req,
                    v1::CheckpointResponse* resp) -> absl::Status {
        RECSYS_RETURN_IF_ERROR(admin);
        if (checkpoint_root_.empty()) {
          return absl::FailedPreconditionError(
              "Checkpoint is disabled: start the server with --feature_store_checkpoint_root");
        }
        const std::string& name = req.directory();
        if (name.empty() || name.size() > 255 || absl::StrContains(name, "/") ||
            name == "." || name == "..") {
          return absl::InvalidArgumentError(absl::StrCat(
              "directory ", Quote(name), " must be one path component (no '/'), 1..255 bytes"));
        }
        std::unique_lock<std::mutex> lock(checkpoint_mu_, std::try_to_lock);
        if (!lock.owns_lock()) {  // a checkpoint can take minutes: do not queue handlers on it
          return absl::UnavailableError("another Checkpoint is being written; retry later");
        }
        const int64_t kept = CountDirectories(checkpoint_root_);
        if (kept >= max_checkpoints_) {
          return absl::ResourceExhaustedError(absl::StrCat(
              kept, " checkpoints are kept under ", checkpoint_root_, ", the limit (",
              max_checkpoints_, ", --feature_store_max_checkpoints); delete old ones first"));
        }
        RECSYS_ASSIGN_OR_RETURN(store::CheckpointInfo info,
                                store_->Checkpoint(absl::StrCat(checkpoint_root_, "/", name)));
        resp->set_path(info.path);
        resp->set_bytes(info.bytes);
        return absl::OkStatus();
      });
}

}  // namespace recsys::feature_store
