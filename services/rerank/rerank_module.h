// The rerank service as a recsys-server module (--services=rerank): ICR model versions of
// architecture "icr" in the model repository.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "services/common/service_module.h"

namespace recsys::rerank {

absl::StatusOr<std::unique_ptr<ServiceModule>> MakeRerankModule(const ServiceEnv& env);

}  // namespace recsys::rerank
