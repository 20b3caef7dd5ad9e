// What every recsys-cli command does the same way: deadlines, RPC error reports, JSON output.
#pragma once

#include <google/protobuf/message.h>
#include <grpcpp/client_context.h>
#include <grpcpp/support/status.h>

#include "services/cli/commands.h"

namespace recsys::cli {

void SetDeadline(const CommandContext& ctx, grpc::ClientContext* call);

// "recsys-cli: <what> on <target>: CODE: message" on err; returns kExitFailure.
int ReportRpcError(const CommandContext& ctx, const char* what, const grpc::Status& status);

// One line of proto JSON (field names as in the .proto, defaults printed).
void PrintJson(const CommandContext& ctx, const google::protobuf::Message& message);

}  // namespace recsys::cli
