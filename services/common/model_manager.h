// Serves the versions of one model from a model repository <repo>/<name>/<version>/ (version =
// a positive integer directory name; anything else, such as an export's ".tmp" staging
// directory, is ignored).
//
// - Start() loads and warms the newest version; a watcher thread then polls the repository
//   every poll_interval, and Reload() checks at once (the admin RPC's hook).
// - A newer version is loaded and warmed aside, then swapped in under a short lock. Calls hold
//   a shared_ptr to the version they started on, so in-flight calls finish on the old one and
//   it is freed after the last of them.
// - The newest keep_versions loaded versions stay servable by number; older ones are unloaded.
// - A version that fails to load or warm is logged, counted, and not retried until its
//   directory changes; the previous version keeps serving.
// - Metrics, when a registry is given: recsys_model_version{model} (the default version
//   served) and recsys_model_loads_total{model,result="ok"|"error"}.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace recsys {

// Version directories under dir, ascending; empty when dir does not exist.
std::vector<int64_t> ListModelVersions(const std::string& dir);
// Model names under repo whose newest version's config.json has one of `architectures`
// ("sasrec", "dare", ...), sorted; the flag's comma list instead when `names` is non-empty.
std::vector<std::string> ModelsOfArchitecture(const std::string& repo,
                                              const std::vector<std::string>& architectures,
                                              const std::string& names = "");
// A stamp of a version directory's contents (names, sizes, mtimes), to notice a rewrite.
std::string VersionStamp(const std::string& dir);

class ModelMetrics {
 public:
  ModelMetrics(prometheus::Registry* registry, const std::string& model);
  void Loaded(bool ok, int64_t served_version);

 private:
  prometheus::Gauge* version_ = nullptr;
  prometheus::Counter* ok_ = nullptr;
  prometheus::Counter* error_ = nullptr;
};

void LogModelLoad(const std::string& model, int64_t version, const absl::Status& status,
                  double seconds);

template <typename Model>
class ModelManager {
 public:
  struct Options {
    std::string repo;  // the model repository
    std::string name;  // model name: versions live in <repo>/<name>/
    // Builds a model from a version directory.
    std::function<absl::StatusOr<std::unique_ptr<Model>>(const std::string& dir)> load;
    // Runs once on a freshly loaded model before it serves (a dummy batch); optional.
    std::function<absl::Status(const Model&)> warm_up;
    absl::Duration poll_interval = absl::Seconds(10);  // 0 = no watcher thread
    int keep_versions = 2;
    prometheus::Registry* metrics = nullptr;
  };

  explicit ModelManager(Options options)
      : options_(std::move(options)), metrics_(options_.metrics, options_.name) {}
  ~ModelManager() { Stop(); }

  // Loads the newest version (FAILED_PRECONDITION when there is none, or the load's error)
  // and starts the watcher.
  absl::Status Start() {
    if (ListModelVersions(Dir()).empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("model ", options_.name, ": no version directory under ", Dir()));
    }
    absl::StatusOr<bool> loaded = Reload();
    if (!loaded.ok()) return loaded.status();
    if (options_.poll_interval > absl::ZeroDuration()) {
      watcher_ = std::thread([this] { Watch(); });
    }
    return absl::OkStatus();
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(stop_mu_);
      stopping_ = true;
    }
    stop_cv_.notify_all();
    if (watcher_.joinable()) watcher_.join();
  }

  // Loads the newest version if it is not loaded yet. True when a new version was swapped in.
  // The error of a failed load (the old version keeps serving).
  absl::StatusOr<bool> Reload() {
    std::lock_guard<std::mutex> reload_lock(reload_mu_);  // one load at a time
    const std::vector<int64_t> versions = ListModelVersions(Dir());
    if (versions.empty()) return false;
    const int64_t newest = versions.back();
    const std::string dir = absl::StrCat(Dir(), "/", newest);
    const std::string stamp = VersionStamp(dir);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (loaded_.count(newest) != 0) return false;
      auto failed = failed_.find(newest);
      if (failed != failed_.end() && failed->second.first == stamp) return failed->second.second;
    }
    const absl::Time start = absl::Now();
    absl::StatusOr<std::unique_ptr<Model>> model = options_.load(dir);
    absl::Status status = model.status();
    if (status.ok() && options_.warm_up) status = options_.warm_up(**model);
    LogModelLoad(options_.name, newest, status, absl::ToDoubleSeconds(absl::Now() - start));
    std::lock_guard<std::mutex> lock(mu_);
    if (!status.ok()) {
      failed_[newest] = {stamp, status};
      metrics_.Loaded(false, loaded_.empty() ? 0 : loaded_.rbegin()->first);
      return status;
    }
    loaded_[newest] = std::shared_ptr<const Model>(std::move(*model));
    while (static_cast<int>(loaded_.size()) > std::max(1, options_.keep_versions)) {
      loaded_.erase(loaded_.begin());  // in-flight calls keep their shared_ptr
    }
    metrics_.Loaded(true, newest);
    return true;
  }

  struct Served {
    std::shared_ptr<const Model> model;
    int64_t version = 0;
  };

  // The newest loaded version, or `version` when given (NOT_FOUND naming the loaded ones).
  absl::StatusOr<Served> Get(std::optional<int64_t> version = std::nullopt) const {
    std::lock_guard<std::mutex> lock(mu_);
    if (loaded_.empty()) {
      return absl::UnavailableError(absl::StrCat("model ", options_.name, " is not loaded"));
    }
    if (!version.has_value()) return Served{loaded_.rbegin()->second, loaded_.rbegin()->first};
    auto it = loaded_.find(*version);
    if (it == loaded_.end()) {
      std::string have;
      for (const auto& [v, unused] : loaded_) absl::StrAppend(&have, have.empty() ? "" : ", ", v);
      return absl::NotFoundError(absl::StrCat("model ", options_.name, " has no loaded version ",
                                              *version, " (loaded: ", have, ")"));
    }
    return Served{it->second, it->first};
  }

  std::vector<int64_t> loaded_versions() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<int64_t> out;
    for (const auto& [v, unused] : loaded_) out.push_back(v);
    return out;
  }

  const std::string& name() const { return options_.name; }

 private:
  std::string Dir() const { return options_.repo + "/" + options_.name; }

  void Watch() {
    std::unique_lock<std::mutex> lock(stop_mu_);
    while (!stopping_) {
      stop_cv_.wait_for(lock, absl::ToChronoNanoseconds(options_.poll_interval));
      if (stopping_) break;
      lock.unlock();
      (void)Reload();  // errors are logged and counted inside
      lock.lock();
    }
  }

  const Options options_;
  ModelMetrics metrics_;
  mutable std::mutex mu_;
  std::map<int64_t, std::shared_ptr<const Model>> loaded_;            // guarded by mu_
  std::map<int64_t, std::pair<std::string, absl::Status>> failed_;    // guarded by mu_
  std::mutex reload_mu_;
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread watcher_;
};

}  // namespace recsys
