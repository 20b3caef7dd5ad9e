#include "services/cli/reflection_client.h"

#include <grpcpp/client_context.h>

#include "absl/time/clock.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "services/common/grpc_status.h"

namespace recsys::cli {

using grpc::reflection::v1alpha::ServerReflectionRequest;
using grpc::reflection::v1alpha::ServerReflectionResponse;

absl::StatusOr<ServerReflectionResponse> Reflect(const std::shared_ptr<grpc::Channel>& channel,
                                                 const ServerReflectionRequest& request,
                                                 absl::Duration timeout) {
  grpc::ClientContext call;
  call.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  auto stream =
      grpc::reflection::v1alpha::ServerReflection::NewStub(channel)->ServerReflectionInfo(&call);
  ServerReflectionResponse response;
  const bool exchanged = stream->Write(request) && stream->WritesDone() && stream->Read(&response);
  const grpc::Status status = stream->Finish();
  if (!status.ok()) return FromGrpcStatus(status);
  if (!exchanged) return absl::UnavailableError("server reflection stream closed without a reply");
  return response;
}

absl::StatusOr<std::vector<std::string>> ListServices(const std::shared_ptr<grpc::Channel>& channel,
                                                      absl::Duration timeout) {
  ServerReflectionRequest request;
  request.set_list_services("");
  absl::StatusOr<ServerReflectionResponse> response = Reflect(channel, request, timeout);
  if (!response.ok()) return response.status();
  if (!response->has_list_services_response()) {
    return absl::InternalError("server reflection replied without a service list");
  }
  std::vector<std::string> names;
  for (const auto& service : response->list_services_response().service()) {
    names.push_back(service.name());
  }
  return names;
}

}  // namespace recsys::cli
