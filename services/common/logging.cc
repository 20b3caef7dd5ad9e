#include "services/common/logging.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cmath>
#include <memory>
#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace recsys::log {
namespace {

std::atomic<Format> g_format{Format::kText};
std::once_flag g_default_init;

spdlog::level::level_enum ToSpdlog(Level level) {
  switch (level) {
    case Level::kDebug:
      return spdlog::level::debug;
    case Level::kInfo:
      return spdlog::level::info;
    case Level::kWarn:
      return spdlog::level::warn;
    case Level::kError:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

void AppendJsonString(std::string* out, absl::string_view s) {
  out->push_back('"');
  for (const char c : s) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppendFormat(out, "\\u%04x", static_cast<int>(c));
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

// Text values are quoted only when they would not read back as one token.
void AppendTextValue(std::string* out, const Field& f) {
  const bool plain = !f.value.empty() && f.value.find_first_of(" \"=\t\n") == std::string::npos;
  if (!f.quoted || plain) {
    out->append(f.value);
  } else {
    AppendJsonString(out, f.value);
  }
}

std::string FormatLine(Format format, absl::string_view message, Fields fields) {
  std::string line;
  if (format == Format::kJson) {
    line.append("\"msg\":");
    AppendJsonString(&line, message);
    for (const Field& f : fields) {
      line.push_back(',');
      AppendJsonString(&line, f.key);
      line.push_back(':');
      if (f.quoted) {
        AppendJsonString(&line, f.value);
      } else {
        line.append(f.value);
      }
    }
  } else {
    line.append(message.data(), message.size());
    for (const Field& f : fields) {
      absl::StrAppend(&line, " ", f.key, "=");
      AppendTextValue(&line, f);
    }
  }
  return line;
}

}  // namespace

Field::Field(absl::string_view k, double v) : key(k), quoted(false) {
  // JSON has no NaN/Inf literals: write those quoted.
  if (std::isfinite(v)) {
    value = absl::StrFormat("%.6g", v);
  } else {
    value = absl::StrCat(v);
    quoted = true;
  }
}

absl::StatusOr<Format> ParseFormat(absl::string_view name) {
  const std::string n = absl::AsciiStrToLower(name);
  if (n == "text") return Format::kText;
  if (n == "json") return Format::kJson;
  return absl::InvalidArgumentError(
      absl::StrCat("--log_format: '", name, "' is not one of text, json"));
}

absl::StatusOr<Level> ParseLevel(absl::string_view name) {
  const std::string n = absl::AsciiStrToLower(name);
  if (n == "debug") return Level::kDebug;
  if (n == "info") return Level::kInfo;
  if (n == "warn" || n == "warning") return Level::kWarn;
  if (n == "error") return Level::kError;
  return absl::InvalidArgumentError(
      absl::StrCat("--log_level: '", name, "' is not one of debug, info, warn, error"));
}

namespace {

void InstallLogger(Format format, Level level) {
  g_format.store(format);
  // Built directly (not through the registry helpers) so that Init can run again.
  auto logger =
      std::make_shared<spdlog::logger>("recsys", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  if (format == Format::kJson) {
    logger->set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l",%v})",
                        spdlog::pattern_time_type::utc);
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  }
  logger->set_level(ToSpdlog(level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(std::move(logger));
}

}  // namespace

void Init(Format format, Level level) {
  std::call_once(g_default_init, [] {});  // an explicit Init replaces the lazy default
  InstallLogger(format, level);
}

void Write(Level level, absl::string_view message, Fields fields) {
  std::call_once(g_default_init, [] { InstallLogger(Format::kText, Level::kInfo); });
  const auto spd_level = ToSpdlog(level);
  auto* logger = spdlog::default_logger_raw();
  if (!logger->should_log(spd_level)) return;
  logger->log(spd_level, "{}", FormatLine(g_format.load(), message, fields));
}

std::string FormatForTest(Format format, absl::string_view message, Fields fields) {
  return FormatLine(format, message, fields);
}

}  // namespace recsys::log
