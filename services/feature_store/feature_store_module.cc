#include "services/feature_store/feature_store_module.h"

#include <atomic>
#include <memory>
#include <string>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "recsys/store/local_store.h"
#include "services/common/deprecated_flag.h"
#include "services/common/logging.h"
#include "services/common/validation.h"
#include "services/feature_store/feature_store_service.h"
#include "services/feature_store/store_metrics.h"

ABSL_FLAG(bool, feature_store_sync_writes, true,
          "Sync the feature store's write-ahead log before acknowledging a write.");
// Limits carry the feature_store_ prefix; the unprefixed spellings are deprecated aliases.
RECSYS_FLAG_WITH_ALIAS(int64_t, feature_store_max_events_per_user, max_events_per_user, 100000,
                       "Feature store: newest events kept per user; older ones are deleted.")
RECSYS_FLAG_WITH_ALIAS(int64_t, feature_store_max_ingest_batch, max_ingest_batch, 10000,
                       "Feature store: events or items per ingest call.")
RECSYS_FLAG_WITH_ALIAS(int64_t, feature_store_max_batch_users, max_batch_users, 1024,
                       "Feature store: user ids per GetHistories call.")
RECSYS_FLAG_WITH_ALIAS(int64_t, feature_store_max_history_length, max_history_length, 100000,
                       "Feature store: most events GetHistories returns per user.")
ABSL_FLAG(int64_t, feature_store_max_reply_events, 400000,
          "Feature store: events one GetHistories returns in all; more is RESOURCE_EXHAUSTED.");
RECSYS_FLAG_WITH_ALIAS(int64_t, feature_store_max_batch_items, max_batch_items, 10000,
                       "Feature store: item ids per GetItems/GetEmbeddings call and per upload "
                       "chunk.")
RECSYS_FLAG_WITH_ALIAS(int64_t, feature_store_max_item_text_bytes, max_item_text_bytes, 64 << 10,
                       "Feature store: bytes of an item's text.")
RECSYS_FLAG_WITH_ALIAS(int64_t, feature_store_max_embedding_dim, max_embedding_dim, 4096,
                       "Feature store: dimension of an embedding table.")
RECSYS_FLAG_WITH_ALIAS(int64_t, feature_store_max_batch_queries, max_batch_queries, 1024,
                       "Feature store: queries per SearchNeighbors call.")
RECSYS_FLAG_WITH_ALIAS(int64_t, feature_store_max_k, max_k, 1000,
                       "Feature store: neighbours per search query.")
ABSL_FLAG(int64_t, feature_store_max_checkpoints, 16,
          "Feature store: checkpoint directories kept under the checkpoint root at most; "
          "Checkpoint beyond it is RESOURCE_EXHAUSTED.");
RECSYS_FLAG_WITH_ALIAS(std::string, feature_store_checkpoint_root, checkpoint_root, "",
                       "Directory Checkpoint writes under; empty = <data_dir>/checkpoints.")

namespace recsys::feature_store {
namespace {

class FeatureStoreModule final : public ServiceModule {
 public:
  FeatureStoreModule(const ServiceEnv& env, store::LocalStoreOptions options,
                     std::string checkpoint_root, int64_t max_checkpoints)
      : options_(std::move(options)), env_(env), policy_(env.call_policy) {
    policy_.started = &started_;
    policy_.service_name = "feature_store";
    service_ =
        std::make_unique<FeatureStoreService>(policy_, std::move(checkpoint_root), max_checkpoints);
  }

  std::string name() const override { return "feature_store"; }

  std::vector<GrpcServiceEntry> grpc_services() override {
    return {{service_.get(), v1::FeatureStoreService::service_full_name()}};
  }

  absl::Status Start() override {
    RECSYS_ASSIGN_OR_RETURN(std::unique_ptr<store::FeatureStore> local,
                            store::OpenLocalStore(options_));
    rocksdb_metrics_ = std::make_shared<RocksDbCollector>(local.get());
    if (env_.add_collectable) env_.add_collectable(rocksdb_metrics_);
    store_ = env_.metrics != nullptr ? WithMetrics(std::move(local), *env_.metrics, "local")
                                     : std::move(local);
    service_->set_store(store_.get());
    started_ = true;
    log::Info("feature store open", {{"data_dir", options_.data_dir}});
    return absl::OkStatus();
  }

  void Stop() override {  // no call runs any more: close RocksDB cleanly
    if (rocksdb_metrics_ != nullptr) rocksdb_metrics_->Detach();
    store_.reset();
  }

 private:
  const store::LocalStoreOptions options_;
  const ServiceEnv env_;
  std::atomic<bool> started_{false};
  CallPolicy policy_;
  std::unique_ptr<FeatureStoreService> service_;
  std::unique_ptr<store::FeatureStore> store_;
  std::shared_ptr<RocksDbCollector> rocksdb_metrics_;
};

}  // namespace

absl::StatusOr<FeatureStoreModuleOptions> FeatureStoreOptionsFromFlags(
    const ServerOptions& server) {
  FeatureStoreModuleOptions out;
  store::LocalStoreOptions& options = out.store;
  options.data_dir = server.data_dir + "/feature_store";
  options.sync_writes = absl::GetFlag(FLAGS_feature_store_sync_writes);
  options.max_events_per_user = feature_store_max_events_per_user_FlagValue();
  store::StoreLimits& limits = options.limits;
  limits.max_ingest_batch = feature_store_max_ingest_batch_FlagValue();
  limits.max_batch_users = feature_store_max_batch_users_FlagValue();
  limits.max_history_length = feature_store_max_history_length_FlagValue();
  limits.max_batch_items = feature_store_max_batch_items_FlagValue();
  limits.max_item_text_bytes = feature_store_max_item_text_bytes_FlagValue();
  limits.max_embedding_dim = feature_store_max_embedding_dim_FlagValue();
  limits.max_batch_queries = feature_store_max_batch_queries_FlagValue();
  limits.max_k = feature_store_max_k_FlagValue();
  limits.max_reply_events = absl::GetFlag(FLAGS_feature_store_max_reply_events);
  RECSYS_RETURN_IF_ERROR(
      CheckPositiveFlags({{"--feature_store_max_events_per_user", options.max_events_per_user},
                          {"--feature_store_max_ingest_batch", limits.max_ingest_batch},
                          {"--feature_store_max_batch_users", limits.max_batch_users},
                          {"--feature_store_max_history_length", limits.max_history_length},
                          {"--feature_store_max_batch_items", limits.max_batch_items},
                          {"--feature_store_max_item_text_bytes", limits.max_item_text_bytes},
                          {"--feature_store_max_embedding_dim", limits.max_embedding_dim},
                          {"--feature_store_max_batch_queries", limits.max_batch_queries},
                          {"--feature_store_max_k", limits.max_k},
                          {"--feature_store_max_reply_events", limits.max_reply_events}}));
  out.max_checkpoints = absl::GetFlag(FLAGS_feature_store_max_checkpoints);
  RECSYS_RETURN_IF_ERROR(
      CheckPositiveFlags({{"--feature_store_max_checkpoints", out.max_checkpoints}}));
  out.checkpoint_root = feature_store_checkpoint_root_FlagValue();
  if (out.checkpoint_root.empty()) out.checkpoint_root = server.data_dir + "/checkpoints";
  return out;
}

std::unique_ptr<ServiceModule> NewFeatureStoreModule(const ServiceEnv& env,
                                                     FeatureStoreModuleOptions options) {
  return std::make_unique<FeatureStoreModule>(
      env, std::move(options.store), std::move(options.checkpoint_root), options.max_checkpoints);
}

absl::StatusOr<std::unique_ptr<ServiceModule>> MakeFeatureStoreModule(const ServiceEnv& env) {
  RECSYS_ASSIGN_OR_RETURN(FeatureStoreModuleOptions options,
                          FeatureStoreOptionsFromFlags(*env.options));
  return NewFeatureStoreModule(env, std::move(options));
}

}  // namespace recsys::feature_store
