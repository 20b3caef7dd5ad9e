#include "models/llm/gguf/gguf_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/quote.h"
#include "base/status_macros.h"
#include "models/llm/gguf/ggml_types.h"

namespace recsys::llm {
namespace {

constexpr uint32_t kMaxDims = 4;  // GGML_MAX_DIMS

// Bytes of a scalar of `type`; 0 for strings and arrays.
uint64_t ScalarBytes(GgufType type) {
  switch (type) {
    case GgufType::kU8:
    case GgufType::kI8:
    case GgufType::kBool:
      return 1;
    case GgufType::kU16:
    case GgufType::kI16:
      return 2;
    case GgufType::kU32:
    case GgufType::kI32:
    case GgufType::kF32:
      return 4;
    case GgufType::kU64:
    case GgufType::kI64:
    case GgufType::kF64:
      return 8;
    case GgufType::kString:
    case GgufType::kArray:
      return 0;
  }
  return 0;
}

bool KnownType(uint32_t t) { return t <= static_cast<uint32_t>(GgufType::kF64); }

template <typename T>
T LoadLe(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));  // the file is little-endian, as is every host we build for
  return v;
}

bool IsInteger(GgufType t) {
  return t == GgufType::kU8 || t == GgufType::kI8 || t == GgufType::kU16 || t == GgufType::kI16 ||
         t == GgufType::kU32 || t == GgufType::kI32 || t == GgufType::kU64 || t == GgufType::kI64;
}

// An integer element; false when a u64 does not fit an int64.
bool LoadInt(GgufType t, const uint8_t* p, int64_t* out) {
  switch (t) {
    case GgufType::kU8:
      *out = LoadLe<uint8_t>(p);
      return true;
    case GgufType::kI8:
      *out = LoadLe<int8_t>(p);
      return true;
    case GgufType::kU16:
      *out = LoadLe<uint16_t>(p);
      return true;
    case GgufType::kI16:
      *out = LoadLe<int16_t>(p);
      return true;
    case GgufType::kU32:
      *out = LoadLe<uint32_t>(p);
      return true;
    case GgufType::kI32:
      *out = LoadLe<int32_t>(p);
      return true;
    case GgufType::kI64:
      *out = LoadLe<int64_t>(p);
      return true;
    case GgufType::kU64: {
      const uint64_t v = LoadLe<uint64_t>(p);
      if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return false;
      *out = static_cast<int64_t>(v);
      return true;
    }
    default:
      return false;
  }
}

}  // namespace

const char* GgufTypeName(GgufType type) {
  static const char* const kNames[] = {"u8",   "i8",     "u16",   "i16", "u32", "i32", "f32",
                                       "bool", "string", "array", "u64", "i64", "f64"};
  const auto i = static_cast<uint32_t>(type);
  return i < sizeof(kNames) / sizeof(kNames[0]) ? kNames[i] : "unknown";
}

// Reads the header, the metadata and the tensor descriptions with bounds checks at each step.
class GgufFile::Parser {
 public:
  explicit Parser(GgufFile* file) : f_(file) {}

  absl::Status Run() {
    if (f_->size_ < 4 || std::memcmp(f_->bytes_, "GGUF", 4) != 0) {
      return Corrupt("not a GGUF file (the first 4 bytes are not \"GGUF\")");
    }
    pos_ = 4;
    uint32_t version = 0;
    RECSYS_RETURN_IF_ERROR(Read(&version, "the version"));
    if (version == 0x03000000 || version == 0x02000000) {
      return Invalid("a big-endian GGUF file; only little-endian files are read");
    }
    if (version != 2 && version != 3) {
      return Invalid(absl::StrCat("GGUF version ", version, "; versions 2 and 3 are read"));
    }
    f_->version_ = version;
    uint64_t tensor_count = 0, kv_count = 0;
    RECSYS_RETURN_IF_ERROR(Read(&tensor_count, "the tensor count"));
    RECSYS_RETURN_IF_ERROR(Read(&kv_count, "the metadata count"));
    // Each entry takes at least 12 (key-value) or 24 (tensor) bytes: larger counts cannot be
    // in the file, and are refused before anything is allocated for them.
    if (kv_count > Remaining() / 12) {
      return Corrupt(absl::StrCat("metadata count ", kv_count, " does not fit in the file"));
    }
    for (uint64_t i = 0; i < kv_count; ++i) RECSYS_RETURN_IF_ERROR(ReadKeyValue(i));
    RECSYS_RETURN_IF_ERROR(ReadAlignment());
    if (tensor_count > Remaining() / 24) {
      return Corrupt(absl::StrCat("tensor count ", tensor_count, " does not fit in the file"));
    }
    f_->tensors_.reserve(tensor_count);
    for (uint64_t i = 0; i < tensor_count; ++i) RECSYS_RETURN_IF_ERROR(ReadTensorInfo(i));
    const uint64_t a = f_->alignment_;
    f_->data_offset_ = (pos_ + a - 1) / a * a;
    if (f_->data_offset_ > f_->size_ && !f_->tensors_.empty()) {
      return Corrupt("the tensor data section starts past the end of the file");
    }
    for (GgufTensor& t : f_->tensors_) RECSYS_RETURN_IF_ERROR(PlaceTensor(&t));
    return absl::OkStatus();
  }

 private:
  uint64_t Remaining() const { return f_->size_ - pos_; }

  absl::Status Corrupt(const std::string& what) const {
    return absl::DataLossError(absl::StrCat(f_->name_, ": ", what));
  }
  absl::Status Invalid(const std::string& what) const {
    return absl::InvalidArgumentError(absl::StrCat(f_->name_, ": ", what));
  }
  absl::Status Truncated(const std::string& what) const {
    return Corrupt(
        absl::StrCat("truncated at byte ", pos_, " (file size ", f_->size_, ") reading ", what));
  }

  template <typename T>
  absl::Status Read(T* out, const std::string& what) {
    if (Remaining() < sizeof(T)) return Truncated(what);
    *out = LoadLe<T>(f_->bytes_ + pos_);
    pos_ += sizeof(T);
    return absl::OkStatus();
  }

  absl::Status ReadString(absl::string_view* out, const std::string& what) {
    uint64_t length = 0;
    RECSYS_RETURN_IF_ERROR(Read(&length, what));
    if (length > Remaining()) {
      return Corrupt(absl::StrCat(what, ": a string of ", length, " bytes at byte ", pos_,
                                  " runs past the end of the file (size ", f_->size_, ")"));
    }
    *out = absl::string_view(reinterpret_cast<const char*>(f_->bytes_ + pos_), length);
    pos_ += length;
    return absl::OkStatus();
  }

  absl::Status ReadKeyValue(uint64_t index) {
    absl::string_view key;
    RECSYS_RETURN_IF_ERROR(ReadString(&key, absl::StrCat("metadata key ", index)));
    const std::string what = absl::StrCat("key ", Quote(key));
    if (f_->values_.contains(key)) return Corrupt(absl::StrCat(what, " appears twice"));
    uint32_t type = 0;
    RECSYS_RETURN_IF_ERROR(Read(&type, absl::StrCat(what, "'s type")));
    if (!KnownType(type)) return Invalid(absl::StrCat(what, " has unknown value type ", type));
    GgufValue value;
    value.type = static_cast<GgufType>(type);
    RECSYS_RETURN_IF_ERROR(ReadValue(&value, what));
    f_->keys_.push_back(key);
    f_->values_.emplace(key, std::move(value));
    return absl::OkStatus();
  }

  absl::Status ReadValue(GgufValue* v, const std::string& what) {
    if (v->type == GgufType::kString) return ReadString(&v->string, what);
    if (v->type != GgufType::kArray) {
      const uint64_t n = ScalarBytes(v->type);
      if (Remaining() < n) return Truncated(what);
      v->data = f_->bytes_ + pos_;
      pos_ += n;
      return absl::OkStatus();
    }
    uint32_t element = 0;
    RECSYS_RETURN_IF_ERROR(Read(&element, absl::StrCat(what, "'s element type")));
    if (!KnownType(element)) {
      return Invalid(absl::StrCat(what, " is an array of unknown value type ", element));
    }
    v->element_type = static_cast<GgufType>(element);
    if (v->element_type == GgufType::kArray) {
      return Invalid(absl::StrCat(what, " is an array of arrays, which is not read"));
    }
    RECSYS_RETURN_IF_ERROR(Read(&v->count, absl::StrCat(what, "'s element count")));
    if (v->element_type == GgufType::kString) {
      if (v->count > Remaining() / 8) {
        return Corrupt(absl::StrCat(what, ": ", v->count, " strings do not fit in the file"));
      }
      v->strings.resize(v->count);
      for (uint64_t i = 0; i < v->count; ++i) {
        RECSYS_RETURN_IF_ERROR(ReadString(&v->strings[i], absl::StrCat(what, "[", i, "]")));
      }
      return absl::OkStatus();
    }
    const uint64_t n = ScalarBytes(v->element_type);
    if (v->count > Remaining() / n) {
      return Corrupt(absl::StrCat(what, ": ", v->count, " elements of ",
                                  GgufTypeName(v->element_type), " at byte ", pos_,
                                  " run past the end of the file (size ", f_->size_, ")"));
    }
    v->data = f_->bytes_ + pos_;
    pos_ += v->count * n;
    return absl::OkStatus();
  }

  absl::Status ReadAlignment() {
    const auto it = f_->values_.find("general.alignment");
    if (it == f_->values_.end()) return absl::OkStatus();
    if (it->second.type != GgufType::kU32) {
      return Invalid(absl::StrCat("key 'general.alignment' is ", GgufTypeName(it->second.type),
                                  "; it must be u32"));
    }
    const uint32_t a = LoadLe<uint32_t>(it->second.data);
    if (a == 0 || (a & (a - 1)) != 0) {
      return Invalid(absl::StrCat("key 'general.alignment' is ", a, "; it must be a power of two"));
    }
    f_->alignment_ = a;
    return absl::OkStatus();
  }

  absl::Status ReadTensorInfo(uint64_t index) {
    GgufTensor t;
    RECSYS_RETURN_IF_ERROR(ReadString(&t.name, absl::StrCat("the name of tensor ", index)));
    const std::string what = absl::StrCat("tensor ", Quote(t.name));
    if (f_->tensor_index_.contains(t.name)) return Corrupt(absl::StrCat(what, " appears twice"));
    uint32_t n_dims = 0;
    RECSYS_RETURN_IF_ERROR(Read(&n_dims, absl::StrCat(what, "'s dimension count")));
    if (n_dims == 0 || n_dims > kMaxDims) {
      return Invalid(
          absl::StrCat(what, " has ", n_dims, " dimensions; 1 to ", kMaxDims, " are allowed"));
    }
    t.elements = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      int64_t dim = 0;
      RECSYS_RETURN_IF_ERROR(Read(&dim, absl::StrCat(what, "'s dimension ", d)));
      if (dim < 0)
        return Invalid(absl::StrCat(what, " has negative dimension ", d, " (", dim, ")"));
      if (dim > 0 && t.elements > std::numeric_limits<int64_t>::max() / dim) {
        return Invalid(absl::StrCat(what, ": its element count overflows"));
      }
      t.elements *= dim;
      t.dims.push_back(dim);
    }
    RECSYS_RETURN_IF_ERROR(Read(&t.type, absl::StrCat(what, "'s type")));
    const GgmlTypeInfo* info = FindGgmlType(t.type);
    if (info == nullptr) return Invalid(absl::StrCat(what, " has unknown tensor type ", t.type));
    if (t.dims[0] % info->block_elems != 0) {
      return Invalid(absl::StrCat(what, " is ", info->name, " with rows of ", t.dims[0],
                                  " elements, not whole blocks of ", info->block_elems));
    }
    const int64_t row_blocks = t.dims[0] / info->block_elems;
    const int64_t rows = t.dims[0] == 0 ? 0 : t.elements / t.dims[0];
    if (row_blocks > std::numeric_limits<int64_t>::max() / info->block_bytes) {
      return Invalid(absl::StrCat(what, ": its size in bytes overflows"));
    }
    const int64_t row_bytes = row_blocks * info->block_bytes;
    if (row_bytes > 0 && rows > std::numeric_limits<int64_t>::max() / row_bytes) {
      return Invalid(absl::StrCat(what, ": its size in bytes overflows"));
    }
    t.bytes = rows * row_bytes;
    RECSYS_RETURN_IF_ERROR(Read(&t.offset, absl::StrCat(what, "'s data offset")));
    f_->tensor_index_.emplace(t.name, f_->tensors_.size());
    f_->tensors_.push_back(std::move(t));
    return absl::OkStatus();
  }

  // Turns the offset in the data section into one in the file, checking alignment and bounds.
  absl::Status PlaceTensor(GgufTensor* t) const {
    const std::string what = absl::StrCat("tensor ", Quote(t->name));
    if (t->offset % f_->alignment_ != 0) {
      return Corrupt(absl::StrCat(what, "'s data offset ", t->offset, " is not a multiple of the ",
                                  f_->alignment_, "-byte alignment"));
    }
    const uint64_t section = f_->size_ - f_->data_offset_;
    if (t->offset > section || static_cast<uint64_t>(t->bytes) > section - t->offset) {
      return Corrupt(absl::StrCat(what, "'s data (", t->bytes, " bytes at offset ", t->offset,
                                  " of the data section) runs past the end of the file (", section,
                                  " data bytes)"));
    }
    t->offset += f_->data_offset_;
    t->data = f_->bytes_ + t->offset;
    return absl::OkStatus();
  }

  GgufFile* f_;
  uint64_t pos_ = 0;
};

absl::StatusOr<std::unique_ptr<GgufFile>> GgufFile::Open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::NotFoundError(absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return absl::InvalidArgumentError(absl::StrCat(path, " is not a regular file"));
  }
  std::unique_ptr<GgufFile> file(new GgufFile());
  file->name_ = path;
  file->size_ = static_cast<uint64_t>(st.st_size);
  if (file->size_ > 0) {
    void* m = ::mmap(nullptr, file->size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      return absl::ResourceExhaustedError(
          absl::StrCat("cannot map ", path, ": ", std::strerror(err)));
    }
    file->mapping_ = m;
    file->bytes_ = static_cast<const uint8_t*>(m);
  }
  ::close(fd);  // the mapping stays valid
  RECSYS_RETURN_IF_ERROR(file->Parse());
  return file;
}

absl::StatusOr<std::unique_ptr<GgufFile>> GgufFile::FromBytes(absl::string_view bytes,
                                                              std::string name) {
  std::unique_ptr<GgufFile> file(new GgufFile());
  file->name_ = std::move(name);
  file->bytes_ = reinterpret_cast<const uint8_t*>(bytes.data());
  file->size_ = bytes.size();
  RECSYS_RETURN_IF_ERROR(file->Parse());
  return file;
}

GgufFile::~GgufFile() {
  if (mapping_ != nullptr) ::munmap(mapping_, size_);
}

absl::Status GgufFile::Parse() { return Parser(this).Run(); }

void GgufFile::Release(const GgufTensor& t) const {
  if (mapping_ == nullptr || t.bytes == 0) return;
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  // Whole pages inside the tensor only: its neighbours' pages stay.
  const uint64_t begin = (t.offset + page - 1) / page * page;
  const uint64_t end = (t.offset + static_cast<uint64_t>(t.bytes)) / page * page;
  if (end > begin) ::madvise(static_cast<uint8_t*>(mapping_) + begin, end - begin, MADV_DONTNEED);
}

const GgufValue* GgufFile::Find(absl::string_view key) const {
  const auto it = values_.find(key);
  return it == values_.end() ? nullptr : &it->second;
}

const GgufTensor* GgufFile::FindTensor(absl::string_view name) const {
  const auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

namespace {

absl::Status Missing(const std::string& file, absl::string_view key) {
  return absl::NotFoundError(absl::StrCat(file, ": key ", Quote(key), " is missing"));
}

absl::Status WrongType(const std::string& file, absl::string_view key, const GgufValue& v,
                       const char* wanted) {
  std::string stored = GgufTypeName(v.type);
  if (v.type == GgufType::kArray) stored = absl::StrCat("array of ", GgufTypeName(v.element_type));
  return absl::InvalidArgumentError(
      absl::StrCat(file, ": key ", Quote(key), " is ", stored, "; expected ", wanted));
}

}  // namespace

absl::StatusOr<absl::string_view> GgufFile::GetString(absl::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Missing(name_, key);
  if (v->type != GgufType::kString) return WrongType(name_, key, *v, "string");
  return v->string;
}

absl::StatusOr<int64_t> GgufFile::GetInt(absl::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Missing(name_, key);
  int64_t out = 0;
  if (!IsInteger(v->type)) return WrongType(name_, key, *v, "an integer");
  if (!LoadInt(v->type, v->data, &out)) {
    return absl::InvalidArgumentError(
        absl::StrCat(name_, ": key ", Quote(key), " is out of range"));
  }
  return out;
}

absl::StatusOr<double> GgufFile::GetFloat(absl::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Missing(name_, key);
  if (v->type == GgufType::kF32) return LoadLe<float>(v->data);
  if (v->type == GgufType::kF64) return LoadLe<double>(v->data);
  return WrongType(name_, key, *v, "f32 or f64");
}

absl::StatusOr<bool> GgufFile::GetBool(absl::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Missing(name_, key);
  if (v->type != GgufType::kBool) return WrongType(name_, key, *v, "bool");
  return *v->data != 0;
}

absl::StatusOr<std::vector<absl::string_view>> GgufFile::GetStrings(absl::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Missing(name_, key);
  if (v->type != GgufType::kArray || v->element_type != GgufType::kString) {
    return WrongType(name_, key, *v, "array of string");
  }
  return v->strings;
}

absl::StatusOr<std::vector<float>> GgufFile::GetFloats(absl::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Missing(name_, key);
  if (v->type != GgufType::kArray ||
      (v->element_type != GgufType::kF32 && v->element_type != GgufType::kF64)) {
    return WrongType(name_, key, *v, "array of f32");
  }
  std::vector<float> out(v->count);
  for (uint64_t i = 0; i < v->count; ++i) {
    out[i] = v->element_type == GgufType::kF32
                 ? LoadLe<float>(v->data + 4 * i)
                 : static_cast<float>(LoadLe<double>(v->data + 8 * i));
  }
  return out;
}

absl::StatusOr<std::vector<int64_t>> GgufFile::GetInts(absl::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Missing(name_, key);
  if (v->type != GgufType::kArray || !IsInteger(v->element_type)) {
    return WrongType(name_, key, *v, "array of integers");
  }
  const uint64_t n = ScalarBytes(v->element_type);
  std::vector<int64_t> out(v->count);
  for (uint64_t i = 0; i < v->count; ++i) {
    if (!LoadInt(v->element_type, v->data + n * i, &out[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat(name_, ": key ", Quote(key), "[", i, "] is out of range"));
    }
  }
  return out;
}

std::string GgufFile::Describe(const GgufValue& v) const {
  auto scalar = [](GgufType t, const uint8_t* p) -> std::string {
    int64_t i = 0;
    if (t == GgufType::kF32) return absl::StrCat(LoadLe<float>(p));
    if (t == GgufType::kF64) return absl::StrCat(LoadLe<double>(p));
    if (t == GgufType::kBool) return *p != 0 ? "true" : "false";
    if (t == GgufType::kU64) return absl::StrCat(LoadLe<uint64_t>(p));
    if (LoadInt(t, p, &i)) return absl::StrCat(i);
    return "?";
  };
  if (v.type == GgufType::kString) return Quote(v.string);
  if (v.type != GgufType::kArray) return scalar(v.type, v.data);
  constexpr uint64_t kShown = 4;
  std::vector<std::string> shown;
  for (uint64_t i = 0; i < std::min(v.count, kShown); ++i) {
    shown.push_back(v.element_type == GgufType::kString
                        ? Quote(v.strings[i])
                        : scalar(v.element_type, v.data + i * ScalarBytes(v.element_type)));
  }
  return absl::StrCat("[", GgufTypeName(v.element_type), " x ", v.count, "] ",
                      absl::StrJoin(shown, ", "), v.count > kShown ? ", ..." : "");
}

}  // namespace recsys::llm
