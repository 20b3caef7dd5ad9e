#include "services/common/admin_access.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace recsys {
namespace {

bool LoopbackPeer(const std::string& peer) {
  return absl::StartsWith(peer, "ipv4:127.") || absl::StartsWith(peer, "ipv6:[::1]") ||
         absl::StartsWith(peer, "ipv6:%5B::1%5D") || absl::StartsWith(peer, "unix:");
}

// Compares in time independent of where the strings differ.
bool SameSecret(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace

bool IsAdmin(const grpc::CallbackServerContext& call, const AdminAccess* access) {
  if (access == nullptr) return true;
  if (access->from_loopback && LoopbackPeer(call.peer())) return true;
  if (access->token.empty()) return false;
  const auto& metadata = call.client_metadata();
  for (auto it = metadata.find("authorization");
       it != metadata.end() && it->first == "authorization"; ++it) {
    const absl::string_view value(it->second.data(), it->second.size());
    if (absl::StartsWith(value, "Bearer ") && SameSecret(value.substr(7), access->token)) {
      return true;
    }
  }
  return false;
}

absl::Status CheckAdmin(const grpc::CallbackServerContext& call, const AdminAccess* access,
                        absl::string_view method) {
  if (IsAdmin(call, access)) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat(
      method, " is an admin call: make it from the server's host",
      access->from_loopback ? "" : " (not allowed here: --admin_from_loopback=false)",
      access->token.empty() ? ""
                            : ", or send 'authorization: Bearer <token>' (--admin_token_file)"));
}

}  // namespace recsys
