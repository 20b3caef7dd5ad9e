#include "services/server/service_registry.h"

#include "services/behavior_search/behavior_search_module.h"
#include "services/feature_store/feature_store_module.h"
#include "services/rerank/rerank_module.h"
#include "services/seqrec/seqrec_module.h"

namespace recsys {

void RegisterBuiltinServices(ServiceRegistry* registry) {
  // Names are unique by construction here, so Register cannot fail.
  (void)registry->Register("feature_store", feature_store::MakeFeatureStoreModule);
  (void)registry->Register("seqrec", seqrec::MakeSeqRecModule);
  (void)registry->Register("behavior_search", behavior_search::MakeBehaviorSearchModule);
  (void)registry->Register("rerank", rerank::MakeRerankModule);
}

}  // namespace recsys
