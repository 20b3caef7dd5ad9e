#include "services/common/build_info.h"

namespace recsys {

const char* BuildVersion() { return RECSYS_VERSION; }
const char* BuildGitRevision() { return RECSYS_GIT_REVISION; }

}  // namespace recsys
