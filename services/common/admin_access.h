// Who may make admin calls (ReloadModels, Checkpoint) and read the server's paths and build
// (GetServerInfo's data_dir, model_repo, git_revision): a caller on the server's own host (a
// loopback peer, such as `kubectl exec ... recsys-cli`), unless from_loopback is off, and a
// caller that sends "authorization: Bearer <token>" with the token of --admin_token_file.
// Product traffic reaching the gRPC port gets PERMISSION_DENIED from admin calls and
// GetServerInfo without those fields.
#pragma once

#include <grpcpp/server_context.h>

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace recsys {

struct AdminAccess {
  // Loopback peers are admins (--admin_from_loopback). Default: true.
  bool from_loopback = true;
  // A caller sending this bearer token is an admin; empty = no token admits.
  std::string token;
};

// access == nullptr: every caller is an admin (a server without an admin policy, tests).
bool IsAdmin(const grpc::CallbackServerContext& call, const AdminAccess* access);

// OK for an admin; PERMISSION_DENIED naming `method` and how to call it otherwise.
absl::Status CheckAdmin(const grpc::CallbackServerContext& call, const AdminAccess* access,
                        absl::string_view method);

}  // namespace recsys
