// Requests whose bytes do not parse as the method's message (a wrong wire type, a truncated
// field, random bytes, invalid UTF-8 in a string field). gRPC answers them UNIMPLEMENTED with
// an empty message, as if the method did not exist; this interceptor turns that answer into
// INVALID_ARGUMENT naming the message it could not parse, so clients see their mistake and
// /metrics counts it under its method. Register it before the metrics interceptor.
#pragma once

#include <grpcpp/support/server_interceptor.h>

#include <memory>

namespace recsys {

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewMalformedRequestInterceptorFactory();

}  // namespace recsys
