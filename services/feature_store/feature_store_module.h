// The feature_store service module: opens the local store (by default under
// <--data_dir>/feature_store) in Start() and serves recsys.feature_store.v1 from it. Its
// limits are flags, defined in feature_store_module.cc.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "recsys/store/local_store.h"
#include "services/common/service_module.h"

namespace recsys::feature_store {

struct FeatureStoreModuleOptions {
  store::LocalStoreOptions store;
  // Where Checkpoint writes (one directory per call, named by the request); "" disables
  // Checkpoint. Flags default: <--data_dir>/checkpoints.
  std::string checkpoint_root;
  // Checkpoint directories kept there at most (--feature_store_max_checkpoints).
  int64_t max_checkpoints = 16;
};

// From the feature-store flags (--feature_store_max_ingest_batch, --feature_store_checkpoint_root,
// ...): INVALID_ARGUMENT naming the flag when one is out of range.
absl::StatusOr<FeatureStoreModuleOptions> FeatureStoreOptionsFromFlags(const ServerOptions& server);

std::unique_ptr<ServiceModule> NewFeatureStoreModule(const ServiceEnv& env,
                                                     FeatureStoreModuleOptions options);

// The registry's factory: NewFeatureStoreModule with FeatureStoreOptionsFromFlags.
absl::StatusOr<std::unique_ptr<ServiceModule>> MakeFeatureStoreModule(const ServiceEnv& env);

}  // namespace recsys::feature_store
