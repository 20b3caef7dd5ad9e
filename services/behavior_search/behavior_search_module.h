// The behavior_search service module: serves the DARE / TWIN models of the model repository
// (<--model_repo>/<name>/<version>/) with recsys.behavior_search.v1, reading histories from
// the feature store. Flags in behavior_search_module.cc.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "services/common/service_module.h"

namespace recsys::behavior_search {

absl::StatusOr<std::unique_ptr<ServiceModule>> MakeBehaviorSearchModule(const ServiceEnv& env);

}  // namespace recsys::behavior_search
