// recsys.admin.v1.AdminService: what this process is and hosts. Hosted by every server.
#pragma once

#include <functional>

#include "recsys/admin/v1/admin.grpc.pb.h"
#include "services/common/unary_call.h"

namespace recsys {

class AdminService final : public admin::v1::AdminService::CallbackService {
 public:
  // fill writes the current server info; it must be thread-safe.
  using InfoFiller = std::function<void(admin::v1::GetServerInfoResponse*)>;

  // reload runs ReloadModels for a model name ("" = all); it must be thread-safe.
  using Reloader = std::function<absl::Status(const std::string& model,
                                              admin::v1::ReloadModelsResponse*)>;

  AdminService(CallPolicy policy, InfoFiller fill, Reloader reload)
      : policy_(policy), fill_(std::move(fill)), reload_(std::move(reload)) {}

  grpc::ServerUnaryReactor* GetServerInfo(grpc::CallbackServerContext* call,
                                          const admin::v1::GetServerInfoRequest* request,
                                          admin::v1::GetServerInfoResponse* response) override;
  grpc::ServerUnaryReactor* ReloadModels(grpc::CallbackServerContext* call,
                                         const admin::v1::ReloadModelsRequest* request,
                                         admin::v1::ReloadModelsResponse* response) override;

 private:
  const CallPolicy policy_;
  const InfoFiller fill_;
  const Reloader reload_;
};

}  // namespace recsys
