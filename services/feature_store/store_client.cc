#include "services/feature_store/store_client.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/status_macros.h"
#include "services/feature_store/remote_store.h"
#include "services/feature_store/store_metrics.h"

namespace recsys::feature_store {

absl::StatusOr<std::unique_ptr<store::FeatureStore>> OpenStoreClient(const std::string& spec,
                                                                     const ServiceEnv& env) {
  std::string shards = spec;
  if (spec == "auto") {
    const auto& hosted = env.options->services;
    if (std::find(hosted.begin(), hosted.end(), "feature_store") == hosted.end()) return nullptr;
    shards = absl::StrCat("127.0.0.1:", env.grpc_port ? env.grpc_port() : 0);
  }
  if (shards == "none") return nullptr;
  RemoteStoreOptions options;
  options.shards = InsecureShardChannels(absl::StrSplit(shards, ',', absl::SkipEmpty()));
  RECSYS_ASSIGN_OR_RETURN(std::unique_ptr<store::FeatureStore> remote, OpenRemoteStore(options));
  if (env.metrics == nullptr) return remote;
  return WithMetrics(std::move(remote), *env.metrics, "remote");
}

}  // namespace recsys::feature_store
