#include "services/common/admin_service.h"

namespace recsys {

grpc::ServerUnaryReactor* AdminService::GetServerInfo(
    grpc::CallbackServerContext* call, const admin::v1::GetServerInfoRequest* /*request*/,
    admin::v1::GetServerInfoResponse* response) {
  return ServeUnary(call, policy_, [&](const RpcContext&) {
    fill_(response);
    return absl::OkStatus();
  });
}

}  // namespace recsys
