#include "services/cli/command_util.h"

#include <google/protobuf/util/json_util.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/grpc_status.h"

namespace recsys::cli {

void SetDeadline(const CommandContext& ctx, grpc::ClientContext* call) {
  call->set_deadline(absl::ToChronoTime(absl::Now() + ctx.timeout));
  if (!ctx.admin_token.empty()) {
    call->AddMetadata("authorization", absl::StrCat("Bearer ", ctx.admin_token));
  }
}

int ReportRpcError(const CommandContext& ctx, const char* what, const grpc::Status& status) {
  *ctx.err << "recsys-cli: " << what << " on " << ctx.target << ": "
           << GrpcCodeName(status.error_code()) << ": " << status.error_message() << "\n";
  return kExitFailure;
}

void PrintJson(const CommandContext& ctx, const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  *ctx.out << json << "\n";
}

}  // namespace recsys::cli
