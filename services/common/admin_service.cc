#include "services/common/admin_service.h"

namespace recsys {

grpc::ServerUnaryReactor* AdminService::GetServerInfo(
    grpc::CallbackServerContext* call, const admin::v1::GetServerInfoRequest* request,
    admin::v1::GetServerInfoResponse* response) {
  return ServeUnary(call, policy_, request, response,
                    [this](const RpcContext&, const admin::v1::GetServerInfoRequest&,
                           admin::v1::GetServerInfoResponse* info) {
                      fill_(info);
                      return absl::OkStatus();
                    });
}

grpc::ServerUnaryReactor* AdminService::ReloadModels(
    grpc::CallbackServerContext* call, const admin::v1::ReloadModelsRequest* request,
    admin::v1::ReloadModelsResponse* response) {
  return ServeUnary(call, policy_, request, response,
                    [this](const RpcContext&, const admin::v1::ReloadModelsRequest& req,
                           admin::v1::ReloadModelsResponse* resp) {
                      return reload_(req.model(), resp);
                    });
}

}  // namespace recsys
