// The config.json of an exported model version (models/training/recsys_train/export.py), read
// into a protobuf Struct: typed getters whose errors name the file and the key.
#pragma once

#include <google/protobuf/struct.pb.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace recsys::models {

class ModelConfig {
 public:
  // <directory>/config.json; NOT_FOUND when missing, INVALID_ARGUMENT when not JSON.
  static absl::StatusOr<ModelConfig> Read(const std::string& directory);
  // Read, then INVALID_ARGUMENT unless its "architecture" is `architecture`.
  static absl::StatusOr<ModelConfig> ReadOf(const std::string& directory,
                                            const std::string& architecture);

  bool Has(const std::string& key) const { return root_.fields().contains(key); }
  absl::StatusOr<int64_t> Int(const std::string& key) const;
  absl::StatusOr<double> Number(const std::string& key) const;
  absl::StatusOr<std::string> String(const std::string& key) const;
  absl::StatusOr<std::vector<int64_t>> IntList(const std::string& key) const;

  const std::string& path() const { return path_; }

 private:
  absl::StatusOr<const google::protobuf::Value*> Find(const std::string& key) const;

  std::string path_;
  google::protobuf::Struct root_;
};

}  // namespace recsys::models
