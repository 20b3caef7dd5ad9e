#include "services/common/service_module.h"

#include "absl/strings/str_cat.h"

namespace recsys {

absl::Status ServiceRegistry::Register(std::string name, ServiceFactory factory) {
  for (const auto& entry : factories_) {
    if (entry.first == name) {
      return absl::AlreadyExistsError(absl::StrCat("service '", name, "' registered twice"));
    }
  }
  factories_.emplace_back(std::move(name), std::move(factory));
  return absl::OkStatus();
}

std::vector<std::string> ServiceRegistry::Names() const {
  std::vector<std::string> names;
  names.reserve(factories_.size());
  for (const auto& entry : factories_) names.push_back(entry.first);
  return names;
}

absl::StatusOr<std::unique_ptr<ServiceModule>> ServiceRegistry::Create(
    const std::string& name, const ServiceEnv& env) const {
  for (const auto& entry : factories_) {
    if (entry.first == name) return entry.second(env);
  }
  return absl::NotFoundError(absl::StrCat("no service named '", name, "' in this build"));
}

}  // namespace recsys
