#include "services/common/server_options.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/status_macros.h"
#include "services/common/validation.h"

namespace recsys {
namespace {

std::string AvailableList(const std::vector<std::string>& available) {
  return available.empty() ? "none yet" : absl::StrJoin(available, ", ");
}

absl::Status CheckServiceName(const std::string& name, const std::vector<std::string>& available) {
  if (std::find(available.begin(), available.end(), name) != available.end()) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat("--services: '", name,
                   "' is not a service of this build (available: ", AvailableList(available), ")"));
}

absl::Status CheckPositiveDuration(const char* flag, absl::Duration d, bool allow_zero) {
  if (d < absl::ZeroDuration() || (!allow_zero && d == absl::ZeroDuration()) ||
      d == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, ": ", absl::FormatDuration(d),
                     allow_zero ? " must be >= 0 and finite" : " must be > 0 and finite"));
  }
  return absl::OkStatus();
}

}  // namespace

std::string ServerOptions::ResolvedModelRepo() const {
  if (!model_repo.empty()) return model_repo;
  return absl::StrCat(data_dir, "/models");
}

absl::Status ParseServiceList(const std::string& spec, const std::vector<std::string>& available,
                              std::vector<std::string>* out) {
  out->clear();
  const std::string trimmed(absl::StripAsciiWhitespace(spec));
  if (trimmed.empty() || trimmed == "all") {
    *out = available;
    return absl::OkStatus();
  }
  absl::flat_hash_set<std::string> seen;
  for (absl::string_view part : absl::StrSplit(trimmed, ',')) {
    const std::string name(absl::StripAsciiWhitespace(part));
    if (name.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("--services: empty name in '", spec, "'"));
    }
    RECSYS_RETURN_IF_ERROR(CheckServiceName(name, available));
    if (!seen.insert(name).second) {
      return absl::InvalidArgumentError(absl::StrCat("--services: '", name, "' given twice"));
    }
    out->push_back(name);
  }
  return absl::OkStatus();
}

absl::Status ValidateServerOptions(const ServerOptions& o,
                                   const std::vector<std::string>& available) {
  for (const std::string& name : o.services) {
    RECSYS_RETURN_IF_ERROR(CheckServiceName(name, available));
  }
  RECSYS_RETURN_IF_ERROR(CheckLength("--bind_address", o.bind_address, 1, 255));
  RECSYS_RETURN_IF_ERROR(CheckRange("--grpc_port", o.grpc_port, 0, 65535));
  RECSYS_RETURN_IF_ERROR(CheckRange("--metrics_port", o.metrics_port, 0, 65535));
  if (o.grpc_port != 0 && o.grpc_port == o.metrics_port) {
    return absl::InvalidArgumentError(
        absl::StrCat("--metrics_port: ", o.metrics_port, " is also --grpc_port"));
  }
  RECSYS_RETURN_IF_ERROR(CheckLength("--data_dir", o.data_dir, 1, 4096));
  if (o.tls_cert_file.empty() != o.tls_key_file.empty()) {
    return absl::InvalidArgumentError(
        "--tls_cert_file and --tls_key_file: set both to enable TLS, or neither");
  }
  if (!o.tls_client_ca_file.empty() && o.tls_cert_file.empty()) {
    return absl::InvalidArgumentError(
        "--tls_client_ca_file: needs --tls_cert_file and --tls_key_file (mTLS runs over TLS)");
  }
  RECSYS_RETURN_IF_ERROR(
      CheckRange("--max_message_bytes", o.max_message_bytes, 1024, int64_t{1} << 30));
  RECSYS_RETURN_IF_ERROR(CheckRange("--max_concurrent_rpcs", o.max_concurrent_rpcs, 0, 1'000'000));
  RECSYS_RETURN_IF_ERROR(
      CheckRange("--max_concurrent_streams", o.max_concurrent_streams, 1, 1'000'000));
  RECSYS_RETURN_IF_ERROR(CheckRange("--handler_threads", o.handler_threads, 1, 4096));
  RECSYS_RETURN_IF_ERROR(CheckRange("--intra_op_threads", o.intra_op_threads, 0, 4096));
  RECSYS_RETURN_IF_ERROR(
      CheckPositiveDuration("--default_deadline", o.default_deadline, /*allow_zero=*/false));
  RECSYS_RETURN_IF_ERROR(CheckPositiveDuration("--readiness_drain_delay", o.readiness_drain_delay,
                                               /*allow_zero=*/true));
  RECSYS_RETURN_IF_ERROR(
      CheckPositiveDuration("--drain_timeout", o.drain_timeout, /*allow_zero=*/true));
  return absl::OkStatus();
}

}  // namespace recsys
