// What a model service's handlers resolve a request against: the versions of every model the
// service hosts, by name (one ModelManager each), and the feature store user ids are read
// from. The model-service shell (model_service.h) fills it when the service starts; handlers
// run only after that (the runtime answers UNAVAILABLE until then). Tests fill one directly.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/types/span.h"
#include "base/quote.h"
#include "base/status_macros.h"
#include "recsys/admin/v1/admin.pb.h"
#include "recsys/common/v1/common.pb.h"
#include "recsys/store/feature_store.h"
#include "services/common/model_manager.h"
#include "services/common/user_history.h"

namespace recsys {

template <typename Model>
class ModelHost {
 public:
  using Manager = ModelManager<Model>;
  using Served = typename Manager::Served;
  using Models = std::map<std::string, std::unique_ptr<Manager>>;

  // service: the hosting service's name, the prefix of the flag errors name
  // ("--seqrec_feature_store").
  explicit ModelHost(std::string service) : service_(std::move(service)) {}
  ~ModelHost() { Stop(); }

  // One started manager per model of `architectures` in the repository (all of them, or
  // those named in the comma list `wanted`; see ModelsOfArchitecture), each loading its
  // newest version with options.load and warming it with options.warm_up. The first manager
  // that fails to start fails the call.
  static absl::StatusOr<Models> StartModels(const std::string& repo,
                                            const std::vector<std::string>& architectures,
                                            const std::string& wanted,
                                            typename Manager::Options options) {
    Models models;
    options.repo = repo;
    for (const std::string& name : ModelsOfArchitecture(repo, architectures, wanted)) {
      typename Manager::Options o = options;
      o.name = name;
      auto manager = std::make_unique<Manager>(std::move(o));
      RECSYS_RETURN_IF_ERROR(manager->Start());
      models.emplace(name, std::move(manager));
    }
    return models;
  }

  // Called once, before the first call. store may be null (then user-id queries get
  // FAILED_PRECONDITION) and must outlive the host.
  void Open(Models models, store::FeatureStore* store) {
    models_ = std::move(models);
    store_ = store;
  }

  // Stops the version watchers.
  void Stop() {
    for (auto& [name, manager] : models_) manager->Stop();
  }

  store::FeatureStore* store() const { return store_; }

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& [name, unused] : models_) out.push_back(name);
    return out;
  }

  // The version spec asks for: INVALID_ARGUMENT without a name, NOT_FOUND naming the served
  // models for an unknown one, the manager's NOT_FOUND / UNAVAILABLE for a version it does
  // not hold.
  absl::StatusOr<Served> Resolve(const common::v1::ModelSpec& spec) const {
    if (spec.name().empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "model.name is required; this server serves: ", absl::StrJoin(names(), ", ")));
    }
    auto it = models_.find(spec.name());
    if (it == models_.end()) {
      return absl::NotFoundError(
          absl::StrCat("model.name: no model ", Quote(spec.name()),
                       "; this server serves: ", absl::StrJoin(names(), ", ")));
    }
    return it->second->Get(spec.has_version() ? std::optional<int64_t>(spec.version())
                                              : std::nullopt);
  }

  // The users' histories as the served version reads them (user_history.h): at most
  // max_history behaviours each, mapped through Model::catalog(), given ones also checked by
  // check_given; errors name "<field>[q].user..." and "<spec.name> version <v>".
  absl::StatusOr<std::vector<ResolvedHistory>> ReadHistories(
      absl::Span<const common::v1::UserRef* const> users, const common::v1::ModelSpec& spec,
      const Served& served, int64_t max_history, const std::string& field = "queries",
      std::function<absl::Status(const common::v1::Behavior&)> check_given = nullptr) const {
    HistorySource source;
    source.check_given = std::move(check_given);
    source.field = field;
    source.served = absl::StrCat(spec.name(), " version ", served.version);
    source.catalog = &served.model->catalog();
    source.max_history = max_history;
    source.store = store_;
    source.store_flag = absl::StrCat("--", service_, "_feature_store");
    return ResolveHistories(users, source);
  }

  // Reloads the models named `model` (all when empty) now; see ReloadModels in admin.proto.
  std::vector<admin::v1::ModelStatus> Reload(const std::string& model) {
    std::vector<admin::v1::ModelStatus> out;
    for (auto& [name, manager] : models_) {
      if (!model.empty() && model != name) continue;
      admin::v1::ModelStatus& status = out.emplace_back();
      status.set_model(name);
      absl::StatusOr<bool> reloaded = manager->Reload();
      status.set_reloaded(reloaded.ok() && *reloaded);
      if (!reloaded.ok()) status.set_error(std::string(reloaded.status().message()));
      for (int64_t v : manager->loaded_versions()) status.add_loaded_versions(v);
    }
    return out;
  }

 private:
  const std::string service_;
  Models models_;
  store::FeatureStore* store_ = nullptr;
};

}  // namespace recsys
