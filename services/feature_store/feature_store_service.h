// recsys.feature_store.v1.FeatureStoreService over any FeatureStore (the local one when the
// server hosts the store itself). Handlers convert, call the store and convert back; the store
// validates and names fields, so errors read the same in-process and over gRPC.
#pragma once

#include <atomic>
#include <string>

#include "recsys/feature_store/v1/feature_store.grpc.pb.h"
#include "recsys/store/feature_store.h"
#include "services/common/unary_call.h"

namespace recsys::feature_store {

class FeatureStoreService final : public v1::FeatureStoreService::CallbackService {
 public:
  // store must outlive the service and be set before the module reports started.
  // checkpoint_root: where Checkpoint may write ("" = Checkpoint disabled); max_checkpoints:
  // directories kept there at most (--feature_store_max_checkpoints). Checkpoint is an admin
  // call (policy.admin).
  FeatureStoreService(CallPolicy policy, std::string checkpoint_root, int64_t max_checkpoints = 16)
      : policy_(policy),
        checkpoint_root_(std::move(checkpoint_root)),
        max_checkpoints_(max_checkpoints) {}

  void set_store(store::FeatureStore* store) { store_ = store; }

  grpc::ServerUnaryReactor* IngestEvents(grpc::CallbackServerContext* call,
                                         const v1::IngestEventsRequest* request,
                                         v1::IngestEventsResponse* response) override;
  grpc::ServerUnaryReactor* GetHistories(grpc::CallbackServerContext* call,
                                         const v1::GetHistoriesRequest* request,
                                         v1::GetHistoriesResponse* response) override;
  grpc::ServerUnaryReactor* UpsertItems(grpc::CallbackServerContext* call,
                                        const v1::UpsertItemsRequest* request,
                                        v1::UpsertItemsResponse* response) override;
  grpc::ServerUnaryReactor* GetItems(grpc::CallbackServerContext* call,
                                     const v1::GetItemsRequest* request,
                                     v1::GetItemsResponse* response) override;
  grpc::ServerReadReactor<v1::UploadEmbeddingsRequest>* UploadEmbeddings(
      grpc::CallbackServerContext* call, v1::UploadEmbeddingsResponse* response) override;
  grpc::ServerUnaryReactor* GetEmbeddings(grpc::CallbackServerContext* call,
                                          const v1::GetEmbeddingsRequest* request,
                                          v1::GetEmbeddingsResponse* response) override;
  grpc::ServerUnaryReactor* SearchNeighbors(grpc::CallbackServerContext* call,
                                            const v1::SearchNeighborsRequest* request,
                                            v1::SearchNeighborsResponse* response) override;
  grpc::ServerUnaryReactor* ListEmbeddingTables(grpc::CallbackServerContext* call,
                                                const v1::ListEmbeddingTablesRequest* request,
                                                v1::ListEmbeddingTablesResponse* response) override;
  grpc::ServerUnaryReactor* Checkpoint(grpc::CallbackServerContext* call,
                                       const v1::CheckpointRequest* request,
                                       v1::CheckpointResponse* response) override;

 private:
  CallPolicy policy_;
  const std::string checkpoint_root_;
  const int64_t max_checkpoints_;
  std::mutex checkpoint_mu_;  // one checkpoint at a time: the count and the write together
  store::FeatureStore* store_ = nullptr;
};

}  // namespace recsys::feature_store
