// The models one service hosts, by name: resolving a request's ModelSpec, and the admin
// reload (admin.proto ReloadModels) over them.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "recsys/admin/v1/admin.pb.h"
#include "recsys/common/v1/common.pb.h"
#include "services/common/model_manager.h"
#include "services/common/status_macros.h"

namespace recsys {

template <typename Model>
using ModelSet = std::map<std::string, std::unique_ptr<ModelManager<Model>>>;

// One started manager per model of `architectures` in the repository (all of them, or those
// named in the comma list `wanted`; see ModelsOfArchitecture), each loading its newest version with `load` and
// warming it with `warm_up`. The first manager that fails to start fails the call.
template <typename Model>
absl::StatusOr<ModelSet<Model>> StartModelSet(
    const std::string& repo, const std::vector<std::string>& architectures,
    const std::string& wanted, typename ModelManager<Model>::Options options) {
  ModelSet<Model> models;
  options.repo = repo;
  for (const std::string& name : ModelsOfArchitecture(repo, architectures, wanted)) {
    typename ModelManager<Model>::Options o = options;
    o.name = name;
    auto manager = std::make_unique<ModelManager<Model>>(std::move(o));
    RECSYS_RETURN_IF_ERROR(manager->Start());
    models.emplace(name, std::move(manager));
  }
  return models;
}

// The version spec asks for: NOT_FOUND naming the served models for an unknown name, the
// manager's NOT_FOUND / UNAVAILABLE for a version it does not hold.
template <typename Model>
absl::StatusOr<typename ModelManager<Model>::Served> ResolveModel(
    const ModelSet<Model>& models, const common::v1::ModelSpec& spec) {
  auto it = models.find(spec.name());
  if (it == models.end()) {
    std::vector<std::string> names;
    for (const auto& [name, unused] : models) names.push_back(name);
    return absl::NotFoundError(absl::StrCat("model.name: no model '", spec.name(),
                                            "'; this server serves: ", absl::StrJoin(names, ", ")));
  }
  return it->second->Get(spec.has_version() ? std::optional<int64_t>(spec.version())
                                            : std::nullopt);
}

// Reloads the models named `model` (all when empty) now.
template <typename Model>
std::vector<admin::v1::ModelStatus> ReloadModelSet(ModelSet<Model>& models,
                                                   const std::string& model) {
  std::vector<admin::v1::ModelStatus> out;
  for (auto& [name, manager] : models) {
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

}  // namespace recsys
