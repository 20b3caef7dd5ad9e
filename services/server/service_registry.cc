#include "services/server/service_registry.h"

namespace recsys {

void RegisterBuiltinServices(ServiceRegistry* /*registry*/) {
  // No product service is implemented yet; the runtime still serves admin, health and
  // reflection. Services register here as they land.
}

}  // namespace recsys
