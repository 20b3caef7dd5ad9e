// Fuzz target of the safetensors reader (models/common/safetensors.h): any bytes give a file
// or a Status, never a crash or a read outside the input; a file that parses has every
// tensor's values read back. Built with libFuzzer by scripts/fuzz.sh; replayed over the
// committed corpus in every test run.
#include <cstddef>
#include <cstdint>
#include <string>

#include "models/common/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto file = recsys::models::TensorFile::FromBytes(
      absl::string_view(reinterpret_cast<const char*>(data), size), "fuzz.safetensors");
  if (!file.ok()) return 0;
  double sink = 0;
  for (const auto& [name, tensor] : file->tensors()) {
    int64_t count = 1;
    for (int64_t d : tensor.shape) count *= d;
    if (static_cast<size_t>(count) != tensor.values.size()) __builtin_trap();
    for (float v : tensor.values) sink += v;
    (void)file->Get(name, tensor.shape);
  }
  volatile double keep = sink;
  (void)keep;
  return 0;
}
