// Client of gRPC server reflection (grpc.reflection.v1alpha, what gRPC 1.51 serves).
#pragma once

#include <grpcpp/channel.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpc/reflection/v1alpha/reflection.pb.h"

namespace recsys::cli {

// One request/response exchange on a fresh reflection stream.
absl::StatusOr<grpc::reflection::v1alpha::ServerReflectionResponse> Reflect(
    const std::shared_ptr<grpc::Channel>& channel,
    const grpc::reflection::v1alpha::ServerReflectionRequest& request, absl::Duration timeout);

// Fully-qualified names of the services the server exposes.
absl::StatusOr<std::vector<std::string>> ListServices(const std::shared_ptr<grpc::Channel>& channel,
                                                      absl::Duration timeout);

}  // namespace recsys::cli
