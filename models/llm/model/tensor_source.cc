#include "models/llm/model/tensor_source.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/status_macros.h"
#include "models/llm/gguf/dequantize.h"
#include "models/llm/gguf/ggml_types.h"

namespace recsys::llm {
namespace {

absl::Status Missing(const std::string& file, const std::string& tensor) {
  return absl::InvalidArgumentError(absl::StrCat(file, ": tensor '", tensor, "' is missing"));
}

class GgufSource : public TensorSource {
 public:
  explicit GgufSource(const GgufFile& file) : file_(file), name_(file.name()) {}
  const std::string& name() const override { return name_; }
  bool Has(const std::string& tensor) const override { return file_.FindTensor(tensor) != nullptr; }
  absl::StatusOr<std::vector<int64_t>> Dims(const std::string& tensor) const override {
    const GgufTensor* t = file_.FindTensor(tensor);
    if (t == nullptr) return Missing(name_, tensor);
    // Refused before the loader sizes a buffer for it.
    if (!FindGgmlType(t->type)->dequantizable) {
      return absl::UnimplementedError(absl::StrCat(name_, ": tensor '", tensor, "' is ",
                                                   GgmlTypeName(t->type),
                                                   ", a type the runtime does not read"));
    }
    return t->dims;
  }
  absl::Status Read(const std::string& tensor, float* out) const override {
    const GgufTensor* t = file_.FindTensor(tensor);
    if (t == nullptr) return Missing(name_, tensor);
    const int64_t cols = t->dims.empty() ? 0 : t->dims[0];
    if (cols == 0) return absl::OkStatus();
    RECSYS_ASSIGN_OR_RETURN(const int64_t row_bytes, GgmlRowBytes(t->type, cols));
    for (int64_t r = 0; r < t->elements / cols; ++r) {
      const absl::Status s = DequantizeRow(t->type, t->data + r * row_bytes, cols, out + r * cols);
      if (!s.ok()) {
        return absl::Status(s.code(),
                            absl::StrCat(name_, ": tensor '", tensor, "': ", s.message()));
      }
    }
    file_.Release(*t);  // copied out: its pages need not stay resident beside the copy
    return absl::OkStatus();
  }
  absl::StatusOr<Bytes> Stored(const std::string& tensor) const override {
    const GgufTensor* t = file_.FindTensor(tensor);
    if (t == nullptr) return Missing(name_, tensor);
    return Bytes{t->type, t->data};
  }

 private:
  const GgufFile& file_;
  std::string name_;
};

class ExportSource : public TensorSource {
 public:
  ExportSource(models::TensorFile file, std::string name)
      : file_(std::move(file)), name_(std::move(name)) {}
  const std::string& name() const override { return name_; }
  bool Has(const std::string& tensor) const override { return Find(tensor) != nullptr; }
  absl::StatusOr<std::vector<int64_t>> Dims(const std::string& tensor) const override {
    const models::Tensor* t = Find(tensor);
    if (t == nullptr) return Missing(name_, tensor);
    return std::vector<int64_t>(t->shape.rbegin(), t->shape.rend());  // torch [out, in]
  }
  absl::Status Read(const std::string& tensor, float* out) const override {
    const models::Tensor* t = Find(tensor);
    if (t == nullptr) return Missing(name_, tensor);
    if (!t->values.empty()) std::memcpy(out, t->values.data(), t->values.size() * sizeof(float));
    return absl::OkStatus();
  }
  absl::StatusOr<Bytes> Stored(const std::string& tensor) const override {
    const models::Tensor* t = Find(tensor);
    if (t == nullptr) return Missing(name_, tensor);
    return Bytes{static_cast<uint32_t>(GgmlType::kF32),
                 reinterpret_cast<const uint8_t*>(t->values.data())};
  }

 private:
  const models::Tensor* Find(const std::string& tensor) const {
    const std::string name = ExportName(tensor);
    const auto it = file_.tensors().find(name);
    return name.empty() || it == file_.tensors().end() ? nullptr : &it->second;
  }
  models::TensorFile file_;
  std::string name_;
};

}  // namespace

std::string ExportName(const std::string& g) {
  if (g == "token_embd.weight") return "embed";
  if (g == "output_norm.weight") return "norm";
  if (g == "output.weight") return "output";
  if (g == "rope_freqs.weight") return "rope_factors";
  const std::vector<std::string> parts = absl::StrSplit(g, '.');
  int layer = 0;
  if (parts.size() != 4 || parts[0] != "blk" || !absl::SimpleAtoi(parts[1], &layer)) return "";
  static const std::pair<const char*, const char*> kNames[] = {{"attn_norm.weight", "input_norm"},
                                                               {"attn_q.weight", "q"},
                                                               {"attn_k.weight", "k"},
                                                               {"attn_v.weight", "v"},
                                                               {"attn_q.bias", "q_bias"},
                                                               {"attn_k.bias", "k_bias"},
                                                               {"attn_v.bias", "v_bias"},
                                                               {"attn_output.weight", "o"},
                                                               {"ffn_norm.weight", "post_norm"},
                                                               {"ffn_gate.weight", "gate"},
                                                               {"ffn_up.weight", "up"},
                                                               {"ffn_down.weight", "down"}};
  const std::string rest = parts[2] + "." + parts[3];
  for (const auto& [from, to] : kNames) {
    if (rest == from) return absl::StrCat("layers.", layer, ".", to);
  }
  return "";
}

std::unique_ptr<TensorSource> GgufTensors(const GgufFile& file) {
  return std::make_unique<GgufSource>(file);
}

absl::StatusOr<std::unique_ptr<TensorSource>> ExportTensors(const std::string& path) {
  RECSYS_ASSIGN_OR_RETURN(models::TensorFile file, models::TensorFile::Read(path));
  return std::make_unique<ExportSource>(std::move(file), path);
}

}  // namespace recsys::llm
