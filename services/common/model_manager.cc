#include "services/common/model_manager.h"

#include <algorithm>
#include <filesystem>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "models/common/model_config.h"
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

std::vector<std::string> ModelsOfArchitecture(const std::string& repo,
                                              const std::vector<std::string>& architectures,
                                              const std::string& names) {
  if (!names.empty()) return absl::StrSplit(names, ',', absl::SkipEmpty());
  std::vector<std::string> out;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(repo, error)) {
    const std::vector<int64_t> versions = ListModelVersions(entry.path().string());
    if (versions.empty()) continue;
    auto config =
        models::ModelConfig::Read(absl::StrCat(entry.path().string(), "/", versions.back()));
    if (!config.ok()) continue;
    auto architecture = config->String("architecture");
    if (architecture.ok() && std::find(architectures.begin(), architectures.end(),
                                       *architecture) != architectures.end()) {
      out.push_back(entry.path().filename().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
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
