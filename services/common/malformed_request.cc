#include "services/common/malformed_request.h"

#include <google/protobuf/descriptor.h>
#include <grpcpp/support/status.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace recsys {
namespace {

using grpc::experimental::InterceptionHookPoints;

// The request message of "/pkg.Service/Method", or "" when the method is unknown.
std::string RequestType(const char* method) {
  if (method == nullptr) return "";
  absl::string_view name(method);
  if (!name.empty() && name.front() == '/') name.remove_prefix(1);
  const size_t slash = name.find('/');
  if (slash == absl::string_view::npos) return "";
  const google::protobuf::MethodDescriptor* m =
      google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(
          absl::StrCat(name.substr(0, slash), ".", name.substr(slash + 1)));
  return m != nullptr ? m->input_type()->full_name() : "";
}

class MalformedRequestInterceptor final : public grpc::experimental::Interceptor {
 public:
  // one_request: the method reads one request message (unary, server streaming); for client
  // streams a null received message is also the stream's normal end.
  MalformedRequestInterceptor(const char* method, bool one_request)
      : method_(method), one_request_(one_request) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (one_request_ &&
        methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE) &&
        methods->GetRecvMessage() == nullptr) {
      malformed_ = true;  // the request bytes did not deserialize
    }
    if (malformed_ &&
        methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS) &&
        methods->GetSendStatus().error_code() == grpc::StatusCode::UNIMPLEMENTED) {
      const std::string type = RequestType(method_);
      methods->ModifySendStatus(
          grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                       absl::StrCat("the request could not be parsed",
                                    type.empty() ? "" : absl::StrCat(" as ", type),
                                    " (wrong wire type, truncated field or invalid UTF-8)")));
    }
    methods->Proceed();
  }

 private:
  const char* const method_;
  const bool one_request_;
  bool malformed_ = false;
};

class Factory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    using Type = grpc::experimental::ServerRpcInfo::Type;
    return new MalformedRequestInterceptor(
        info->method(), info->type() == Type::UNARY || info->type() == Type::SERVER_STREAMING);
  }
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewMalformedRequestInterceptorFactory() {
  return std::make_unique<Factory>();
}

}  // namespace recsys
