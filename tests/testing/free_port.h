// A TCP port on 127.0.0.1 that was free a moment ago, for tests that must know a server's
// port before it is ready. Prefer port 0 plus a ports file where the server supports it.
#pragma once

namespace recsys::testing {

int FreeLoopbackPort();

}  // namespace recsys::testing
