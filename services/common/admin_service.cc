#include "services/common/admin_service.h"

namespace recsys {

grpc::ServerUnaryReactor* AdminService::GetServerInfo(
    grpc::CallbackServerContext* call, const admin::v1::GetServerInfoRequest* request,
    admin::v1::GetServerInfoResponse* response) {
  const bool admin = IsAdmin(*call, policy_.admin);
  return ServeUnary(call, policy_, request, response,
                    [this, admin](const RpcContext&, const admin::v1::GetServerInfoRequest&,
                                  admin::v1::GetServerInfoResponse* info) {
                      fill_(info);
                      if (!admin) {  // paths and the exact build are for operators only
                        info->clear_data_dir();
                        info->clear_model_repo();
                        info->clear_git_revision();
                      }
                      return absl::OkStatus();
                    });
}

grpc::ServerUnaryReactor* AdminService::ReloadModels(
    grpc::CallbackServerContext* call, const admin::v1::ReloadModelsRequest* request,
    admin::v1::ReloadModelsResponse* response) {
  const absl::Status admin = CheckAdmin(*call, policy_.admin, "ReloadModels");
  return ServeUnary(call, policy_, request, response,
                    [this, admin](const RpcContext&, const admin::v1::ReloadModelsRequest& req,
                                  admin::v1::ReloadModelsResponse* resp) {
                      if (!admin.ok()) return admin;
                      return reload_(req.model(), resp);
                    });
}

}  // namespace recsys
