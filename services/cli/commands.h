// recsys-cli commands. Each writes readable text (or one JSON document with json=true) to
// out, errors to err, and returns the process exit code.
#pragma once

#include <grpcpp/channel.h>

#include <memory>
#include <ostream>
#include <string>

#include "absl/time/time.h"

namespace recsys::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // RPC failed, or something is not SERVING
inline constexpr int kExitUsage = 2;    // bad command line

struct CommandContext {
  std::shared_ptr<grpc::Channel> channel;
  std::string target;
  // Deadline of each RPC.
  absl::Duration timeout = absl::Seconds(5);
  bool json = false;
  // Sent as "authorization: Bearer <token>" on every call when set (--admin_token_file).
  std::string admin_token;
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
};

// grpc.health.v1 Check. service empty: the server ("") and every service it hosts (from
// GetServerInfo); otherwise that one name. kExitOk only if all are SERVING.
int RunHealth(const CommandContext& ctx, const std::string& service);

// recsys.admin.v1 GetServerInfo.
int RunInfo(const CommandContext& ctx);

// recsys.admin.v1 ReloadModels: load new model versions now (model "" = all).
int RunReload(const CommandContext& ctx, const std::string& model);

// Service names from server reflection (like `grpcurl list`).
int RunListServices(const CommandContext& ctx);

}  // namespace recsys::cli
