// One unary call of raw request bytes, as a client with a broken or hostile encoder sends.
#pragma once

#include <grpcpp/channel.h>
#include <grpcpp/support/status.h>

#include <memory>
#include <string>

#include "absl/time/time.h"

namespace recsys::testing {

grpc::Status RawUnaryCall(const std::shared_ptr<grpc::Channel>& channel,
                          const std::string& method,  // "/pkg.Service/Method"
                          const std::string& request_bytes,
                          absl::Duration timeout = absl::Seconds(10));

}  // namespace recsys::testing
