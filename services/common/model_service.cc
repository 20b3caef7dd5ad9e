#include "services/common/model_service.h"

#include "services/common/validation.h"

namespace recsys {

absl::StatusOr<ModelServiceContext> MakeModelServiceContext(const ServiceEnv& env,
                                                            const std::string& name,
                                                            const ModelServiceFlags& flags) {
  ModelServiceContext context;
  context.name = name;
  context.policy = env.call_policy;
  context.batcher = flags.batcher;
  context.batcher.name = name;
  context.max_batch_users = flags.max_batch_users;
  context.metrics = env.metrics;
  RECSYS_RETURN_IF_ERROR(ValidateBatcherOptions(context.batcher));
  RECSYS_RETURN_IF_ERROR(
      CheckPositiveFlags({{context.Flag("max_batch_users"), context.max_batch_users}}));
  return context;
}

}  // namespace recsys
