// A GGUF file (llama.cpp's single-file format, versions 2 and 3): typed key-value metadata
// (hyper-parameters, tokenizer), tensor descriptions, and the tensor data, memory-mapped and
// read in place. Everything is checked as it is read: a truncated or malformed file, an unknown
// value or tensor type, a tensor whose data lies outside the file or is misaligned, gives
// DATA_LOSS / INVALID_ARGUMENT naming the key or tensor and the byte offset; nothing crashes
// (fuzzed by tests/fuzz/gguf_fuzzer.cc). Layout: ggml's docs/gguf.md.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace recsys::llm {

// GGUF metadata value types (gguf.h's gguf_type).
enum class GgufType : uint32_t {
  kU8 = 0,
  kI8 = 1,
  kU16 = 2,
  kI16 = 3,
  kU32 = 4,
  kI32 = 5,
  kF32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kU64 = 10,
  kI64 = 11,
  kF64 = 12,
};

const char* GgufTypeName(GgufType type);

// One metadata value: a scalar, a string, or an array of scalars or strings (views into the
// mapped file, valid while the GgufFile lives).
struct GgufValue {
  GgufType type = GgufType::kU8;
  GgufType element_type = GgufType::kU8;   // arrays
  uint64_t count = 0;                      // arrays: elements
  const uint8_t* data = nullptr;           // scalars and numeric arrays: the little-endian bytes
  absl::string_view string;                // strings
  std::vector<absl::string_view> strings;  // string arrays
};

struct GgufTensor {
  absl::string_view name;
  uint32_t type = 0;          // ggml type number (ggml_types.h)
  std::vector<int64_t> dims;  // ggml order: dims[0] is the innermost (contiguous) one
  int64_t elements = 0;
  int64_t bytes = 0;
  uint64_t offset = 0;            // from the start of the file
  const uint8_t* data = nullptr;  // in the mapped file
};

class GgufFile {
 public:
  // Maps and parses `path`. NOT_FOUND when it cannot be opened.
  static absl::StatusOr<std::unique_ptr<GgufFile>> Open(const std::string& path);
  // Parses bytes the caller keeps alive (tests, fuzzing); `name` prefixes messages.
  static absl::StatusOr<std::unique_ptr<GgufFile>> FromBytes(absl::string_view bytes,
                                                             std::string name);

  GgufFile(const GgufFile&) = delete;
  GgufFile& operator=(const GgufFile&) = delete;
  ~GgufFile();

  const std::string& name() const { return name_; }
  uint32_t version() const { return version_; }
  uint64_t size() const { return size_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }

  // Keys in file order.
  const std::vector<absl::string_view>& keys() const { return keys_; }
  const GgufValue* Find(absl::string_view key) const;
  const std::vector<GgufTensor>& tensors() const { return tensors_; }
  const GgufTensor* FindTensor(absl::string_view name) const;

  // Typed reads: NOT_FOUND when absent, INVALID_ARGUMENT naming the key when the stored type
  // does not fit (any integer type converts to an integer in range; F32 / F64 to a double).
  absl::StatusOr<absl::string_view> GetString(absl::string_view key) const;
  absl::StatusOr<int64_t> GetInt(absl::string_view key) const;
  absl::StatusOr<double> GetFloat(absl::string_view key) const;
  absl::StatusOr<bool> GetBool(absl::string_view key) const;
  absl::StatusOr<std::vector<absl::string_view>> GetStrings(absl::string_view key) const;
  absl::StatusOr<std::vector<float>> GetFloats(absl::string_view key) const;
  absl::StatusOr<std::vector<int64_t>> GetInts(absl::string_view key) const;

  // Tells the kernel the mapped pages of t's data are not needed now (a loader that has copied
  // the tensor out calls it, so the file's pages and the copy are not resident together). The
  // data stays readable: pages are read from the file again if touched. No-op for FromBytes.
  void Release(const GgufTensor& t) const;

  // A value as text for `recsys-llm inspect` (arrays: their type, count and first elements).
  std::string Describe(const GgufValue& value) const;

 private:
  class Parser;
  GgufFile() = default;
  absl::Status Parse();

  std::string name_;
  const uint8_t* bytes_ = nullptr;
  uint64_t size_ = 0;
  void* mapping_ = nullptr;  // munmap'ed on destruction when the file was mapped
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<absl::string_view> keys_;
  absl::flat_hash_map<absl::string_view, GgufValue> values_;
  std::vector<GgufTensor> tensors_;
  absl::flat_hash_map<absl::string_view, size_t> tensor_index_;
};

}  // namespace recsys::llm
