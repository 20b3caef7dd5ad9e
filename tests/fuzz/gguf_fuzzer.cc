// Fuzz target of the GGUF reader: any bytes must give a file or a Status, never a crash, a
// hang or a read outside the input; a file that parses is then read the way the runtime and
// `recsys-llm inspect` read one (every key typed every way, every tensor's bytes touched).
// Built with libFuzzer by scripts/fuzz.sh; replayed over the committed corpus by
// gguf_fuzz_replay in every test run.
#include <cstddef>
#include <cstdint>
#include <string>

#include "models/llm/gguf/gguf_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using recsys::llm::GgufFile;
  const auto file = GgufFile::FromBytes(
      absl::string_view(reinterpret_cast<const char*>(data), size), "fuzz.gguf");
  if (!file.ok()) return 0;
  const GgufFile& f = **file;
  size_t sink = 0;
  for (absl::string_view key : f.keys()) {
    sink += f.Describe(*f.Find(key)).size();
    sink += f.GetString(key).ok() + f.GetInt(key).ok() + f.GetFloat(key).ok() +
            f.GetBool(key).ok() + f.GetStrings(key).ok() + f.GetFloats(key).ok() +
            f.GetInts(key).ok();
  }
  for (const auto& t : f.tensors()) {
    if (t.bytes > 0) sink += t.data[0] + t.data[t.bytes - 1];  // the first and last byte
  }
  volatile size_t keep = sink;
  (void)keep;
  return 0;
}
