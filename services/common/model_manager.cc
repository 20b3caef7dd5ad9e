#include "services/common/model_manager.h"

#include <algorithm>
#include <filesystem>

#include "absl/strings/numbers.h"
#include "services/common/logging.h"

namespace recsys {

std::vector<int64_t> ListModelVersions(const std::string& dir) {
  std::vector<int64_t> versions;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    int64_t version = 0;
    if (entry.is_directory(error) &&
        absl::SimpleAtoi(entry.path().filename().string(), &version) && version > 0 &&
        entry.path().filename().string() == std::to_string(version)) {
      versions.push_back(version);
    }
  }
  std::sort(versions.begin(), versions.end());
  return versions;
}

std::string VersionStamp(const std::string& dir) {
  std::vector<std::string> parts;
  std::error_code error;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir, error)) {
    if (!entry.is_regular_file(error)) continue;
    const auto size = entry.file_size(error);
    const auto mtime = entry.last_write_time(error).time_since_epoch().count();
    parts.push_back(absl::StrCat(entry.path().string(), ":", size, ":", mtime));
  }
  std::sort(parts.begin(), parts.end());
  std::string stamp;
  for (const std::string& p : parts) absl::StrAppend(&stamp, p, ";");
  return stamp;
}

ModelMetrics::ModelMetrics(prometheus::Registry* registry, const std::string& model) {
  if (registry == nullptr) return;
  version_ = &prometheus::BuildGauge()
                  .Name("recsys_model_version")
                  .Help("Version a model serves by default.")
                  .Register(*registry)
                  .Add({{"model", model}});
  auto& loads = prometheus::BuildCounter()
                    .Name("recsys_model_loads_total")
                    .Help("Model version loads, by result.")
                    .Register(*registry);
  ok_ = &loads.Add({{"model", model}, {"result", "ok"}});
  error_ = &loads.Add({{"model", model}, {"result", "error"}});
}

void ModelMetrics::Loaded(bool ok, int64_t served_version) {
  if (version_ == nullptr) return;
  (ok ? ok_ : error_)->Increment();
  version_->Set(static_cast<double>(served_version));
}

void LogModelLoad(const std::string& model, int64_t version, const absl::Status& status,
                  double seconds) {
  if (status.ok()) {
    log::Info("model version loaded", {{"model", model}, {"version", version},
                                       {"seconds", seconds}});
  } else {
    log::Error("model version failed to load; the previous version keeps serving",
               {{"model", model}, {"version", version}, {"error", status}});
  }
}

}  // namespace recsys
