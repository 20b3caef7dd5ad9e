#include "models/common/safetensors.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace recsys::models {
namespace {

absl::Status Corrupt(const std::string& path, const std::string& what) {
  return absl::DataLossError(absl::StrCat(path, ": ", what));
}

}  // namespace

absl::StatusOr<TensorFile> TensorFile::Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string raw = buffer.str();
  if (raw.size() < 8) return Corrupt(path, "shorter than its 8-byte header length");
  uint64_t length = 0;
  for (int i = 7; i >= 0; --i) length = (length << 8) | static_cast<unsigned char>(raw[i]);
  if (length > raw.size() - 8) return Corrupt(path, "header runs past the end of the file");
  google::protobuf::Struct header;
  const auto parsed =
      google::protobuf::util::JsonStringToMessage(raw.substr(8, length), &header);
  if (!parsed.ok()) return Corrupt(path, absl::StrCat("bad header: ", parsed.ToString()));
  const size_t base = 8 + length;
  TensorFile file;
  file.path_ = path;
  for (const auto& [name, entry] : header.fields()) {
    if (name == "__metadata__") continue;
    const auto& fields = entry.struct_value().fields();
    const auto dtype = fields.find("dtype");
    const auto shape = fields.find("shape");
    const auto offsets = fields.find("data_offsets");
    if (dtype == fields.end() || shape == fields.end() || offsets == fields.end() ||
        offsets->second.list_value().values_size() != 2) {
      return Corrupt(path, absl::StrCat("tensor ", name, " lacks dtype, shape or data_offsets"));
    }
    if (dtype->second.string_value() != "F32") {
      return absl::InvalidArgumentError(absl::StrCat(path, ": tensor ", name, " is ",
                                                     dtype->second.string_value(),
                                                     "; only F32 is supported"));
    }
    Tensor tensor;
    int64_t count = 1;
    for (const auto& dim : shape->second.list_value().values()) {
      tensor.shape.push_back(static_cast<int64_t>(dim.number_value()));
      count *= tensor.shape.back();
    }
    const auto begin = static_cast<size_t>(offsets->second.list_value().values(0).number_value());
    const auto end = static_cast<size_t>(offsets->second.list_value().values(1).number_value());
    if (end < begin || end - begin != static_cast<size_t>(count) * sizeof(float) ||
        base + end > raw.size()) {
      return Corrupt(path, absl::StrCat("tensor ", name, " has a bad byte range"));
    }
    tensor.values.resize(static_cast<size_t>(count));
    std::memcpy(tensor.values.data(), raw.data() + base + begin, end - begin);  // little-endian
    file.tensors_.emplace(name, std::move(tensor));
  }
  return file;
}

absl::StatusOr<const Tensor*> TensorFile::Get(const std::string& name,
                                              const std::vector<int64_t>& shape) const {
  const auto it = tensors_.find(name);
  if (it == tensors_.end()) {
    return absl::NotFoundError(absl::StrCat(path_, ": no tensor named ", name));
  }
  if (it->second.shape != shape) {
    return absl::InvalidArgumentError(absl::StrCat(
        path_, ": tensor ", name, " has shape [", absl::StrJoin(it->second.shape, ", "),
        "], expected [", absl::StrJoin(shape, ", "), "]"));
  }
  return &it->second;
}

}  // namespace recsys::models
