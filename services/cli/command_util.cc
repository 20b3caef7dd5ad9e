#include "services/cli/command_util.h"

#include <google/protobuf/util/json_util.h>

#include <fstream>
#include <string>

#include "absl/strings/ascii.h"
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

bool ReadJsonLines(
    const CommandContext& ctx, const char* command, const std::string& path,
    google::protobuf::Message* prototype,
    const std::function<void(const google::protobuf::Message&, const std::string& line)>& add) {
  std::ifstream in(path);
  if (!in) {
    *ctx.err << "recsys-cli: " << command << ": cannot open " << path << "\n";
    return false;
  }
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    const absl::string_view trimmed = absl::StripAsciiWhitespace(line);
    if (trimmed.empty() || trimmed[0] == '#') continue;
    prototype->Clear();
    const auto status =
        google::protobuf::util::JsonStringToMessage(std::string(trimmed), prototype);
    if (!status.ok()) {
      *ctx.err << "recsys-cli: " << command << ": " << path << ":" << number << ": "
               << status.ToString() << "\n";
      return false;
    }
    add(*prototype, std::string(trimmed));
  }
  return true;
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
