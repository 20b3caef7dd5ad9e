// The feature store a model service reads histories from, as its --<service>_feature_store
// flag names it: "none", "auto" (this process's own gRPC port when it hosts feature_store
// too, else none) or a comma list of host:port shards.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "recsys/store/feature_store.h"
#include "services/common/service_module.h"

namespace recsys::feature_store {

// nullptr for "none" (and "auto" without an embedded feature store).
absl::StatusOr<std::unique_ptr<store::FeatureStore>> OpenStoreClient(const std::string& spec,
                                                                     const ServiceEnv& env);

}  // namespace recsys::feature_store
