// Reads the safetensors files the training code exports (models/training/recsys_train/
// safetensors.py): an 8-byte little-endian header length, a JSON header naming each tensor's
// dtype, shape and byte range, then the data. Only F32 tensors are loaded; a model whose file
// holds anything else, or a tensor of the wrong shape, is refused with a message naming it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace recsys::models {

struct Tensor {
  std::vector<int64_t> shape;
  std::vector<float> values;  // row-major
};

class TensorFile {
 public:
  // DATA_LOSS for a truncated or malformed file; NOT_FOUND when it does not exist.
  static absl::StatusOr<TensorFile> Read(const std::string& path);
  // The same from bytes in memory; `path` names them in messages. Never reads outside `raw`
  // (fuzzed by tests/fuzz/safetensors_fuzzer.cc).
  static absl::StatusOr<TensorFile> FromBytes(absl::string_view raw, const std::string& path);

  // The tensor `name` with exactly `shape`; NOT_FOUND / INVALID_ARGUMENT otherwise.
  absl::StatusOr<const Tensor*> Get(const std::string& name,
                                    const std::vector<int64_t>& shape) const;

  const std::map<std::string, Tensor>& tensors() const { return tensors_; }

 private:
  std::string path_;
  std::map<std::string, Tensor> tensors_;
};

}  // namespace recsys::models
