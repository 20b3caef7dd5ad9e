// recsys-cli bench: a closed-loop load generator. `concurrency` threads each send one call at a
// time for `duration`; then the same is done with a no-op RPC (grpc.health.v1 Check) on the
// same server, so the figures come with the transport's own cost measured in the same run.
#pragma once

#include <string>

#include "absl/time/time.h"
#include "services/cli/commands.h"
#include "services/cli/seqrec_commands.h"

namespace recsys::cli {

struct BenchArgs {
  std::string rpc = "score";  // score | recommend
  int concurrency = 8;
  absl::Duration duration = absl::Seconds(10);
  absl::Duration shed_backoff = absl::Milliseconds(1);  // first wait after a shed call; 0: none
  SeqRecArgs seqrec;  // the request every call sends
};

int RunBench(const CommandContext& ctx, const BenchArgs& args);

}  // namespace recsys::cli
