// Where the loader reads a model's tensors, by llama.cpp's GGUF names whatever the file: a
// GGUF (any tensor type, dequantised), or the project's own export (config.json,
// model.safetensors in fp32 with recsys_train.llm.reference's names, tokenizer.gguf) of models
// it trains, such as the SETRec backbone. Dims are in ggml order ([in, out] for a matrix).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "models/common/safetensors.h"
#include "models/llm/gguf/gguf_file.h"

namespace recsys::llm {

class TensorSource {
 public:
  virtual ~TensorSource() = default;
  virtual const std::string& name() const = 0;  // the file, for messages
  virtual bool Has(const std::string& tensor) const = 0;
  // INVALID_ARGUMENT naming the tensor when it is missing.
  virtual absl::StatusOr<std::vector<int64_t>> Dims(const std::string& tensor) const = 0;
  // Its elements as fp32 into out (sized by the caller from Dims).
  virtual absl::Status Read(const std::string& tensor, float* out) const = 0;
  // Its bytes as stored, for use in place: they live as long as the source.
  struct Bytes {
    uint32_t type = 0;  // ggml type
    const uint8_t* data = nullptr;
  };
  virtual absl::StatusOr<Bytes> Stored(const std::string& tensor) const = 0;
};

// The tensors of a GGUF (which must outlive the source and the bytes it hands out).
std::unique_ptr<TensorSource> GgufTensors(const GgufFile& file);

// The tensors of an export's model.safetensors, under llama.cpp's names.
absl::StatusOr<std::unique_ptr<TensorSource>> ExportTensors(const std::string& safetensors_path);

// The export's name of a llama.cpp tensor name ("blk.3.attn_q.weight" -> "layers.3.q"), or "".
std::string ExportName(const std::string& gguf_name);

}  // namespace recsys::llm
