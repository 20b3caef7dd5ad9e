// The remote feature store: a FeatureStore that is a gRPC client of recsys.feature_store.v1,
// sharded by user id across several feature-store servers. Services use it exactly like the
// in-process store (one conformance test body runs against both).
//
// Placement:
// - Events and histories: shard ShardOf(user_id, n). A batch is split per shard and the
//   shards are called in parallel; histories come back in request order.
// - Items, embedding tables and their FAISS indexes: shard 0, the catalogue shard. They are
//   kept together because a search's category filter reads the items of the same store.
// - Checkpoint: every shard writes <its --feature_store_checkpoint_root>/<directory>.
//
// Requests are validated here against `limits` (the servers' flags) before they are split,
// so a bad batch is rejected as a whole with the field named by its index in the caller's
// batch. Each shard's part of a batch is atomic on that shard; when a shard fails after
// others succeeded, the call returns that shard's error and retrying the same batch stores
// the rest exactly once (event ids make ingestion idempotent).
#pragma once

#include <grpcpp/channel.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "recsys/store/feature_store.h"

namespace recsys::feature_store {

struct RemoteStoreOptions {
  // One channel per shard, in shard order (the order is part of the data placement: keep it
  // stable). At least one.
  std::vector<std::shared_ptr<grpc::Channel>> shards;
  // Deadline of each call, retries included. Default: 10 s.
  absl::Duration timeout = absl::Seconds(10);
  // Deadline of one embedding upload stream, its index build included. Default: 30 min.
  absl::Duration upload_timeout = absl::Minutes(30);
  // Attempts of a call that fails with UNAVAILABLE (a shard restarting), with exponential
  // backoff from 20 ms. Every store call is idempotent, so a retry is safe; upload streams
  // are not retried. Default: 3.
  int max_attempts = 3;
  // The servers' request limits; requests are checked against them before they are split.
  // Default: the servers' default flags.
  store::StoreLimits limits;
  // Floats per upload message (an Append larger than this is sent as several messages).
  // Default: 1 Mi floats (4 MiB).
  int64_t upload_message_floats = int64_t{1} << 20;
};

// The shard of a user among `shards`: FNV-1a 64 of the id, modulo shards. Stable across
// processes, builds and languages, so any client places a user on the same shard.
int ShardOf(absl::string_view user_id, int shards);

// INVALID_ARGUMENT for no shards or bad options. Connects lazily: an unreachable shard shows
// up as UNAVAILABLE on the calls that need it.
absl::StatusOr<std::unique_ptr<store::FeatureStore>> OpenRemoteStore(RemoteStoreOptions options);

// Plaintext channels to host:port targets, accepting responses up to max_message_bytes (a
// 100k-event history is a few MiB; gRPC's default limit is 4 MiB).
std::vector<std::shared_ptr<grpc::Channel>> InsecureShardChannels(
    const std::vector<std::string>& targets, int max_message_bytes = 64 << 20);

}  // namespace recsys::feature_store
