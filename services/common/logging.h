// Structured logging on top of spdlog: one line per event, a message plus key/value fields,
// as text ("2026-11-23T10:00:00.000Z info server started grpc_port=50051") or as one JSON
// object per line for log collectors (--log_format=json). Logs go to stderr.
//
//   log::Info("model loaded", {{"model", name}, {"version", v}, {"seconds", 1.5}});
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace recsys::log {

enum class Format { kText, kJson };
enum class Level { kDebug, kInfo, kWarn, kError };

absl::StatusOr<Format> ParseFormat(absl::string_view name);  // "text" | "json"
absl::StatusOr<Level> ParseLevel(absl::string_view name);    // "debug" | "info" | "warn" | "error"

// Sets up the process-wide logger. Call it from main() before other threads log; until then
// (and in tests that never call it) lines go to stderr as text at info level.
void Init(Format format, Level level);

// One key/value field. Numbers and booleans are written bare in JSON; everything else quoted.
struct Field {
  Field(absl::string_view k, absl::string_view v) : key(k), value(v), quoted(true) {}
  Field(absl::string_view k, const char* v) : key(k), value(v), quoted(true) {}
  Field(absl::string_view k, const std::string& v) : key(k), value(v), quoted(true) {}
  Field(absl::string_view k, bool v) : key(k), value(v ? "true" : "false"), quoted(false) {}
  Field(absl::string_view k, int v) : Field(k, static_cast<int64_t>(v)) {}
  Field(absl::string_view k, unsigned v) : Field(k, static_cast<int64_t>(v)) {}
  Field(absl::string_view k, int64_t v) : key(k), value(std::to_string(v)), quoted(false) {}
  Field(absl::string_view k, uint64_t v) : key(k), value(std::to_string(v)), quoted(false) {}
  Field(absl::string_view k, double v);
  Field(absl::string_view k, const absl::Status& s) : key(k), value(s.ToString()), quoted(true) {}

  std::string key;
  std::string value;
  bool quoted;
};

using Fields = std::initializer_list<Field>;

void Write(Level level, absl::string_view message, Fields fields);
inline void Debug(absl::string_view m, Fields f = {}) { Write(Level::kDebug, m, f); }
inline void Info(absl::string_view m, Fields f = {}) { Write(Level::kInfo, m, f); }
inline void Warn(absl::string_view m, Fields f = {}) { Write(Level::kWarn, m, f); }
inline void Error(absl::string_view m, Fields f = {}) { Write(Level::kError, m, f); }

// The line Write() would emit after the timestamp and level, for tests.
std::string FormatForTest(Format format, absl::string_view message, Fields fields);

}  // namespace recsys::log
