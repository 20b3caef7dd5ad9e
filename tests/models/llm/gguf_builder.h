// Writes GGUF bytes for tests and fuzzing seeds: metadata of any type, tensors with given
// bytes, and knobs to break a file on purpose (offsets, counts, version).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace recsys::llm::testing {

class GgufBuilder {
 public:
  struct Tensor {
    std::string name;
    std::vector<int64_t> dims;  // ggml order
    uint32_t type = 0;
    std::string bytes;
    int64_t offset_override = -1;  // else laid out in order, aligned
  };

  GgufBuilder& Version(uint32_t v) {
    version_ = v;
    return *this;
  }
  GgufBuilder& Alignment(uint32_t a) {
    alignment_ = a;
    return U32("general.alignment", a);
  }

  GgufBuilder& String(const std::string& key, const std::string& value) {
    Key(key, 8);
    Str(&kv_, value);
    ++kv_count_;
    return *this;
  }
  GgufBuilder& U32(const std::string& key, uint32_t value) { return Scalar(key, 4, value); }
  GgufBuilder& I32(const std::string& key, int32_t value) { return Scalar(key, 5, value); }
  GgufBuilder& F32(const std::string& key, float value) { return Scalar(key, 6, value); }
  GgufBuilder& Bool(const std::string& key, bool value) {
    return Scalar(key, 7, static_cast<uint8_t>(value));
  }
  GgufBuilder& U64(const std::string& key, uint64_t value) { return Scalar(key, 10, value); }
  GgufBuilder& F64(const std::string& key, double value) { return Scalar(key, 12, value); }

  GgufBuilder& Strings(const std::string& key, const std::vector<std::string>& values) {
    Key(key, 9);
    Put<uint32_t>(&kv_, 8);
    Put<uint64_t>(&kv_, values.size());
    for (const std::string& v : values) Str(&kv_, v);
    ++kv_count_;
    return *this;
  }
  template <typename T>
  GgufBuilder& Array(const std::string& key, uint32_t element_type, const std::vector<T>& values) {
    Key(key, 9);
    Put<uint32_t>(&kv_, element_type);
    Put<uint64_t>(&kv_, values.size());
    for (const T& v : values) Put<T>(&kv_, v);
    ++kv_count_;
    return *this;
  }
  // Raw metadata bytes after the key (type and value), for malformed entries.
  GgufBuilder& RawValue(const std::string& key, const std::string& bytes) {
    Str(&kv_, key);
    kv_ += bytes;
    ++kv_count_;
    return *this;
  }

  GgufBuilder& AddTensor(Tensor t) {
    tensors_.push_back(std::move(t));
    return *this;
  }
  GgufBuilder& F32Tensor(const std::string& name, std::vector<int64_t> dims,
                         const std::vector<float>& values) {
    std::string bytes(values.size() * 4, '\0');
    std::memcpy(bytes.data(), values.data(), bytes.size());
    return AddTensor({name, std::move(dims), 0, std::move(bytes)});
  }

  std::string Build() const {
    std::string out = "GGUF";
    Put<uint32_t>(&out, version_);
    Put<uint64_t>(&out, tensors_.size());
    Put<uint64_t>(&out, kv_count_);
    out += kv_;
    std::vector<uint64_t> offsets;
    uint64_t next = 0;
    for (const Tensor& t : tensors_) {
      Str(&out, t.name);
      Put<uint32_t>(&out, static_cast<uint32_t>(t.dims.size()));
      for (int64_t d : t.dims) Put<int64_t>(&out, d);
      Put<uint32_t>(&out, t.type);
      const uint64_t offset = t.offset_override >= 0 ? t.offset_override : next;
      Put<uint64_t>(&out, offset);
      offsets.push_back(offset);
      next = Align(offset + t.bytes.size());
    }
    out.resize(Align(out.size()), '\0');
    const size_t base = out.size();
    for (size_t i = 0; i < tensors_.size(); ++i) {
      if (tensors_[i].offset_override >= 0) continue;
      if (out.size() < base + offsets[i]) out.resize(base + offsets[i], '\0');
      out.replace(base + offsets[i], tensors_[i].bytes.size(), tensors_[i].bytes);
    }
    return out;
  }

 private:
  template <typename T>
  static void Put(std::string* out, T v) {
    char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    out->append(b, sizeof(T));
  }
  static void Str(std::string* out, const std::string& s) {
    Put<uint64_t>(out, s.size());
    *out += s;
  }
  void Key(const std::string& key, uint32_t type) {
    Str(&kv_, key);
    Put<uint32_t>(&kv_, type);
  }
  template <typename T>
  GgufBuilder& Scalar(const std::string& key, uint32_t type, T value) {
    Key(key, type);
    Put<T>(&kv_, value);
    ++kv_count_;
    return *this;
  }
  uint64_t Align(uint64_t n) const { return (n + alignment_ - 1) / alignment_ * alignment_; }

  uint32_t version_ = 3;
  uint32_t alignment_ = 32;
  uint64_t kv_count_ = 0;
  std::string kv_;
  std::vector<Tensor> tensors_;
};

}  // namespace recsys::llm::testing
