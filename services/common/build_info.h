// Version of this build, stamped at configure time.
#pragma once

namespace recsys {

const char* BuildVersion();      // project version, e.g. "0.1.0"
const char* BuildGitRevision();  // short commit hash, or "unknown"

}  // namespace recsys
