#include "services/cli/commands.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/client_context.h>

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "recsys/admin/v1/admin.grpc.pb.h"
#include "services/cli/command_util.h"
#include "services/cli/reflection_client.h"
#include "services/common/grpc_status.h"

namespace recsys::cli {
namespace {

using grpc::health::v1::HealthCheckResponse;

google::protobuf::Value StringValue(const std::string& s) {
  google::protobuf::Value v;
  v.set_string_value(s);
  return v;
}

}  // namespace

int RunHealth(const CommandContext& ctx, const std::string& service) {
  std::vector<std::string> names;
  if (!service.empty()) {
    names.push_back(service);
  } else {
    names.push_back("");  // the server as a whole
    admin::v1::GetServerInfoResponse info;
    grpc::ClientContext call;
    SetDeadline(ctx, &call);
    // Not every gRPC server hosts the admin service; then only "" is checked.
    if (admin::v1::AdminService::NewStub(ctx.channel)
            ->GetServerInfo(&call, admin::v1::GetServerInfoRequest(), &info)
            .ok()) {
      names.push_back(admin::v1::AdminService::service_full_name());
      for (const auto& hosted : info.services()) {
        for (const std::string& name : hosted.grpc_services()) names.push_back(name);
      }
    }
  }

  auto stub = grpc::health::v1::Health::NewStub(ctx.channel);
  bool all_serving = true;
  google::protobuf::Struct json;
  google::protobuf::ListValue* json_services =
      (*json.mutable_fields())["services"].mutable_list_value();
  for (const std::string& name : names) {
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(name);
    HealthCheckResponse response;
    grpc::ClientContext call;
    SetDeadline(ctx, &call);
    const grpc::Status status = stub->Check(&call, request, &response);
    std::string state;
    if (status.ok()) {
      state = HealthCheckResponse::ServingStatus_Name(response.status());
    } else if (status.error_code() == grpc::StatusCode::NOT_FOUND) {
      state = "SERVICE_UNKNOWN";
    } else if (names.size() == 1 || name.empty()) {
      return ReportRpcError(ctx, "health check", status);
    } else {
      state = GrpcCodeName(status.error_code());
    }
    all_serving = all_serving && state == "SERVING";
    const std::string shown = name.empty() ? "(server)" : name;
    if (ctx.json) {
      google::protobuf::Struct entry;
      (*entry.mutable_fields())["service"] = StringValue(name);
      (*entry.mutable_fields())["status"] = StringValue(state);
      *json_services->add_values()->mutable_struct_value() = entry;
    } else {
      *ctx.out << absl::StrFormat("%-12s %s\n", state, shown);
    }
  }
  if (ctx.json) {
    (*json.mutable_fields())["target"] = StringValue(ctx.target);
    (*json.mutable_fields())["serving"].set_bool_value(all_serving);
    PrintJson(ctx, json);
  }
  return all_serving ? kExitOk : kExitFailure;
}

int RunInfo(const CommandContext& ctx) {
  admin::v1::GetServerInfoResponse info;
  if (std::optional<int> done =
          CallUnary(ctx, "GetServerInfo", *admin::v1::AdminService::NewStub(ctx.channel),
                    &admin::v1::AdminService::Stub::GetServerInfo,
                    admin::v1::GetServerInfoRequest(), &info)) {
    return *done;
  }
  std::ostream& out = *ctx.out;
  out << "recsys-server " << info.version() << " (" << info.git_revision() << ") at " << ctx.target
      << "\n";
  out << "  started     "
      << absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixMillis(info.start_time_ms()),
                          absl::UTCTimeZone())
      << "\n";
  out << "  data_dir    " << info.data_dir() << "\n";
  out << "  model_repo  " << info.model_repo() << "\n";
  out << "  cuda built  " << (info.cuda_built() ? "yes" : "no") << "\n";
  out << "devices:\n";
  for (const auto& device : info.devices()) {
    out << absl::StrFormat("  %-8s %s", device.name(), device.description());
    if (device.memory_bytes() > 0) {
      out << absl::StrFormat(", %.1f GiB", device.memory_bytes() / double(1 << 30));
    }
    out << "\n";
  }
  out << "services:\n";
  if (info.services().empty()) out << "  (none besides admin, health and reflection)\n";
  for (const auto& hosted : info.services()) {
    out << absl::StrFormat("  %-16s %-12s", hosted.name(),
                           hosted.serving() ? "SERVING" : "NOT_SERVING");
    for (const std::string& name : hosted.grpc_services()) out << " " << name;
    out << "\n";
  }
  return kExitOk;
}

int RunReload(const CommandContext& ctx, const std::string& model) {
  admin::v1::ReloadModelsRequest request;
  request.set_model(model);
  admin::v1::ReloadModelsResponse response;
  if (std::optional<int> done =
          CallUnary(ctx, "ReloadModels", *admin::v1::AdminService::NewStub(ctx.channel),
                    &admin::v1::AdminService::Stub::ReloadModels, request, &response)) {
    return *done;
  }
  bool failed = false;
  for (const auto& m : response.models()) {
    std::string versions;
    for (int64_t v : m.loaded_versions()) absl::StrAppend(&versions, versions.empty() ? "" : ",", v);
    *ctx.out << absl::StrFormat("%-10s %-20s versions %-10s %s\n", m.service(), m.model(), versions,
                                !m.error().empty() ? "ERROR: " + m.error()
                                                   : (m.reloaded() ? "reloaded" : "unchanged"));
    failed = failed || !m.error().empty();
  }
  return failed ? kExitFailure : kExitOk;
}

int RunListServices(const CommandContext& ctx) {
  absl::StatusOr<std::vector<std::string>> names = ListServices(ctx.channel, ctx.timeout);
  if (!names.ok()) {
    *ctx.err << "recsys-cli: server reflection on " << ctx.target << ": "
             << names.status().ToString() << "\n";
    return kExitFailure;
  }
  if (!ctx.json) {
    for (const std::string& name : *names) *ctx.out << name << "\n";
    return kExitOk;
  }
  google::protobuf::Struct json;
  google::protobuf::ListValue* list = (*json.mutable_fields())["services"].mutable_list_value();
  for (const std::string& name : *names) list->add_values()->set_string_value(name);
  PrintJson(ctx, json);
  return kExitOk;
}

}  // namespace recsys::cli
