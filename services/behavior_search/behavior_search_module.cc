#include "services/behavior_search/behavior_search_module.h"

#include <string>

#include "absl/flags/flag.h"
#include "base/status_macros.h"
#include "services/behavior_search/behavior_search_service.h"
#include "services/common/model_service.h"
#include "services/common/validation.h"

RECSYS_MODEL_SERVICE_FLAGS(behavior_search, "dare (DARE or TWIN)", /*max_batch=*/16,
                           /*max_delay=*/absl::Milliseconds(1), /*max_queue=*/256,
                           /*max_batch_users=*/256)
ABSL_FLAG(int64_t, behavior_search_max_candidates, 1000,
          "behavior_search: candidates per query.");
ABSL_FLAG(int64_t, behavior_search_max_history, 100000,
          "behavior_search: most recent behaviours read per user (and at most the model's "
          "max_len).");
ABSL_FLAG(int64_t, behavior_search_max_top_k, 256,
          "behavior_search: largest ScoreQuery.top_k (behaviours retrieved per candidate).");

namespace recsys::behavior_search {

absl::StatusOr<std::unique_ptr<ServiceModule>> MakeBehaviorSearchModule(const ServiceEnv& env) {
  BehaviorSearchLimits limits;
  limits.max_candidates = absl::GetFlag(FLAGS_behavior_search_max_candidates);
  limits.max_history = absl::GetFlag(FLAGS_behavior_search_max_history);
  limits.max_top_k = absl::GetFlag(FLAGS_behavior_search_max_top_k);
  RECSYS_RETURN_IF_ERROR(
      CheckPositiveFlags({{"--behavior_search_max_candidates", limits.max_candidates},
                          {"--behavior_search_max_history", limits.max_history},
                          {"--behavior_search_max_top_k", limits.max_top_k}}));
  ModelServiceSpec<BehaviorModel> spec;
  spec.name = "behavior_search";
  spec.grpc_name = v1::BehaviorSearchService::service_full_name();
  spec.architectures = {"dare"};
  spec.flags = behavior_search_ModelServiceFlags();
  spec.load = [](const std::string& dir) { return BehaviorModel::Load(dir); };
  spec.warm_up = [](const BehaviorModel& m) { return m.dare().Score({1}, {0}, {1}, {0}).status(); };
  return MakeModelServiceModule<BehaviorSearchService>(
      env, std::move(spec), [&](const ModelServiceContext& context) {
        return std::make_unique<BehaviorSearchService>(context, limits);
      });
}

}  // namespace recsys::behavior_search
