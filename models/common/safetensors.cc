#include "models/common/safetensors.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/quote.h"

namespace recsys::models {
namespace {

absl::Status Corrupt(const std::string& path, const std::string& what) {
  return absl::DataLossError(absl::StrCat(path, ": ", what));
}

// A JSON number that is a whole number in [0, max].
bool WholeNumber(const google::protobuf::Value& v, uint64_t max, uint64_t* out) {
  if (!v.has_number_value()) return false;
  const double x = v.number_value();
  if (!(x >= 0) || x > static_cast<double>(max) || x != std::floor(x)) return false;
  *out = static_cast<uint64_t>(x);
  return true;
}

}  // namespace

absl::StatusOr<TensorFile> TensorFile::Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return FromBytes(buffer.str(), path);
}

absl::StatusOr<TensorFile> TensorFile::FromBytes(absl::string_view raw, const std::string& path) {
  if (raw.size() < 8) return Corrupt(path, "shorter than its 8-byte header length");
  uint64_t length = 0;
  for (int i = 7; i >= 0; --i) length = (length << 8) | static_cast<unsigned char>(raw[i]);
  if (length > raw.size() - 8) return Corrupt(path, "header runs past the end of the file");
  google::protobuf::Struct header;
  const auto parsed =
      google::protobuf::util::JsonStringToMessage(std::string(raw.substr(8, length)), &header);
  if (!parsed.ok()) return Corrupt(path, absl::StrCat("bad header: ", parsed.ToString()));
  const uint64_t data_bytes = raw.size() - 8 - length;
  const absl::string_view data = raw.substr(8 + length);
  TensorFile file;
  file.path_ = path;
  for (const auto& [name, entry] : header.fields()) {
    if (name == "__metadata__") continue;
    const std::string what = absl::StrCat("tensor ", Quote(name));
    if (!entry.has_struct_value()) return Corrupt(path, absl::StrCat(what, " is not an object"));
    const auto& fields = entry.struct_value().fields();
    const auto dtype = fields.find("dtype");
    const auto shape = fields.find("shape");
    const auto offsets = fields.find("data_offsets");
    if (dtype == fields.end() || shape == fields.end() || offsets == fields.end() ||
        !shape->second.has_list_value() || !offsets->second.has_list_value() ||
        offsets->second.list_value().values_size() != 2) {
      return Corrupt(path, absl::StrCat(what, " lacks dtype, shape or data_offsets"));
    }
    if (dtype->second.string_value() != "F32") {
      return absl::InvalidArgumentError(absl::StrCat(path, ": ", what, " is ",
                                                     Quote(dtype->second.string_value()),
                                                     "; only F32 is supported"));
    }
    Tensor tensor;
    uint64_t count = 1;
    for (const auto& dim : shape->second.list_value().values()) {
      uint64_t d = 0;
      // A dimension can hold no more elements than the file has bytes.
      if (!WholeNumber(dim, data_bytes, &d)) {
        return Corrupt(path, absl::StrCat(what, " has a bad dimension"));
      }
      if (d != 0 && count > data_bytes / d)
        count = data_bytes + 1;
      else
        count *= d;
      tensor.shape.push_back(static_cast<int64_t>(d));
    }
    uint64_t begin = 0, end = 0;
    if (!WholeNumber(offsets->second.list_value().values(0), data_bytes, &begin) ||
        !WholeNumber(offsets->second.list_value().values(1), data_bytes, &end) || end < begin ||
        count > data_bytes || end - begin != count * sizeof(float)) {
      return Corrupt(path, absl::StrCat(what, " has a bad byte range"));
    }
    tensor.values.resize(static_cast<size_t>(count));
    if (end > begin) {  // memcpy of nothing from an empty vector is still undefined
      std::memcpy(tensor.values.data(), data.data() + begin, end - begin);  // little-endian
    }
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
