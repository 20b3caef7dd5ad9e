// The single conversion between absl::Status (used everywhere below the RPC layer) and
// grpc::Status. The numeric codes are the same (google.rpc.Code), so this is a checked cast.
#pragma once

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace recsys {

grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

// Canonical upper-case name of a gRPC code ("OK", "INVALID_ARGUMENT", ...); "UNKNOWN" for
// values outside the canonical range. Used as the grpc_code metric label.
const char* GrpcCodeName(grpc::StatusCode code);

}  // namespace recsys
