// Every service module this build can host, by --services name.
#pragma once

#include "services/common/service_module.h"

namespace recsys {

// Registers the factories of all service libraries linked into recsys-server. Each service
// issue adds its line here (e.g. "feature_store", "seqrec").
void RegisterBuiltinServices(ServiceRegistry* registry);

}  // namespace recsys
