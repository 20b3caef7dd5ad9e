#include "models/common/model_config.h"

#include <google/protobuf/util/json_util.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace recsys::models {

absl::StatusOr<ModelConfig> ModelConfig::Read(const std::string& directory) {
  ModelConfig config;
  config.path_ = directory + "/config.json";
  std::ifstream in(config.path_);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", config.path_));
  std::stringstream text;
  text << in.rdbuf();
  const auto parsed = google::protobuf::util::JsonStringToMessage(text.str(), &config.root_);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(config.path_, ": not a JSON object: ", parsed.ToString()));
  }
  return config;
}

absl::StatusOr<const google::protobuf::Value*> ModelConfig::Find(const std::string& key) const {
  const auto it = root_.fields().find(key);
  if (it == root_.fields().end()) {
    return absl::InvalidArgumentError(absl::StrCat(path_, ": missing key \"", key, "\""));
  }
  return &it->second;
}

absl::StatusOr<double> ModelConfig::Number(const std::string& key) const {
  absl::StatusOr<const google::protobuf::Value*> v = Find(key);
  if (!v.ok()) return v.status();
  if (!(*v)->has_number_value()) {
    return absl::InvalidArgumentError(absl::StrCat(path_, ": \"", key, "\" is not a number"));
  }
  return (*v)->number_value();
}

absl::StatusOr<ModelConfig> ModelConfig::ReadOf(const std::string& directory,
                                                const std::string& architecture) {
  absl::StatusOr<ModelConfig> config = Read(directory);
  if (!config.ok()) return config;
  absl::StatusOr<std::string> found = config->String("architecture");
  if (!found.ok()) return found.status();
  if (*found != architecture) {
    return absl::InvalidArgumentError(
        absl::StrCat(config->path(), ": architecture is ", *found, ", not ", architecture));
  }
  return config;
}

absl::StatusOr<int64_t> ModelConfig::Int(const std::string& key) const {
  absl::StatusOr<double> n = Number(key);
  if (!n.ok()) return n.status();
  if (*n != std::floor(*n)) {
    return absl::InvalidArgumentError(absl::StrCat(path_, ": \"", key, "\" is not an integer"));
  }
  return static_cast<int64_t>(*n);
}

absl::StatusOr<std::string> ModelConfig::String(const std::string& key) const {
  absl::StatusOr<const google::protobuf::Value*> v = Find(key);
  if (!v.ok()) return v.status();
  if (!(*v)->has_string_value()) {
    return absl::InvalidArgumentError(absl::StrCat(path_, ": \"", key, "\" is not a string"));
  }
  return (*v)->string_value();
}

absl::StatusOr<std::vector<int64_t>> ModelConfig::IntList(const std::string& key) const {
  absl::StatusOr<const google::protobuf::Value*> v = Find(key);
  if (!v.ok()) return v.status();
  if (!(*v)->has_list_value()) {
    return absl::InvalidArgumentError(absl::StrCat(path_, ": \"", key, "\" is not a list"));
  }
  std::vector<int64_t> out;
  out.reserve((*v)->list_value().values_size());
  for (const auto& item : (*v)->list_value().values()) {
    out.push_back(static_cast<int64_t>(item.number_value()));
  }
  return out;
}

}  // namespace recsys::models
