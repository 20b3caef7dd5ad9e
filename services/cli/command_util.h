// What every recsys-cli command does the same way: deadlines, RPC error reports, JSON output.
#pragma once

#include <google/protobuf/message.h>
#include <grpcpp/client_context.h>
#include <grpcpp/support/status.h>

#include <functional>
#include <optional>
#include <string>

#include "services/cli/commands.h"

namespace recsys::cli {

// The command's deadline, and its admin token when it has one, on a call.
void SetDeadline(const CommandContext& ctx, grpc::ClientContext* call);

// "recsys-cli: <what> on <target>: CODE: message" on err; returns kExitFailure.
int ReportRpcError(const CommandContext& ctx, const char* what, const grpc::Status& status);

// Reads a JSON-lines file, one message per non-empty line not starting with '#'; parses the
// whole file first. On a bad line or an unreadable file, names `command`, the file and the
// line on err and returns false. Calls `add(message, line)` for each.
bool ReadJsonLines(
    const CommandContext& ctx, const char* command, const std::string& path,
    google::protobuf::Message* prototype,
    const std::function<void(const google::protobuf::Message&, const std::string& line)>& add);

// One line of proto JSON (field names as in the .proto, defaults printed).
void PrintJson(const CommandContext& ctx, const google::protobuf::Message& message);

// One unary call on `stub` with the command's deadline. A failure is reported and its exit
// code returned; with --json the response is printed and kExitOk returned; otherwise nullopt:
// the response is filled and the command prints its text form.
//   if (std::optional<int> done = CallUnary(ctx, "Score", *stub, &Stub::Score, request, &response))
//     return *done;
template <typename Stub, typename Request, typename Response>
std::optional<int> CallUnary(const CommandContext& ctx, const char* what, Stub& stub,
                             grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&,
                                                          Response*),
                             const Request& request, Response* response) {
  grpc::ClientContext call;
  SetDeadline(ctx, &call);
  const grpc::Status status = (stub.*method)(&call, request, response);
  if (!status.ok()) return ReportRpcError(ctx, what, status);
  if (ctx.json) {
    PrintJson(ctx, *response);
    return kExitOk;
  }
  return std::nullopt;
}

}  // namespace recsys::cli
