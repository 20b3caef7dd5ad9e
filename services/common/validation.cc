#include "services/common/validation.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace recsys {
namespace {

std::string LimitSuffix(absl::string_view limit_flag) {
  return limit_flag.empty() ? std::string() : absl::StrCat(" (", limit_flag, ")");
}

}  // namespace

std::string FieldPath(absl::string_view parent, size_t index, absl::string_view child) {
  std::string path = absl::StrCat(parent, "[", index, "]");
  if (!child.empty()) absl::StrAppend(&path, ".", child);
  return path;
}

absl::Status CheckCount(absl::string_view field, size_t count, size_t min, size_t max,
                        absl::string_view limit_flag) {
  if (count < min) {
    return absl::InvalidArgumentError(
        count == 0 ? absl::StrCat(field, ": must not be empty")
                   : absl::StrCat(field, ": ", count, " entries, at least ", min, " required"));
  }
  if (count > max) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", count, " entries, limit is ", max, LimitSuffix(limit_flag)));
  }
  return absl::OkStatus();
}

absl::Status CheckRequestCount(absl::string_view field, size_t count, size_t max,
                               absl::string_view limit_flag) {
  if (count < 1 || count > max) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", count, " entries; must be 1..", max, LimitSuffix(limit_flag)));
  }
  return absl::OkStatus();
}

absl::Status CheckPositiveFlags(
    std::initializer_list<std::pair<absl::string_view, int64_t>> flags) {
  for (const auto& [flag, value] : flags) {
    if (value < 1) {
      return absl::InvalidArgumentError(absl::StrCat(flag, ": ", value, " must be >= 1"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckLength(absl::string_view field, absl::string_view value, size_t min_bytes,
                         size_t max_bytes, absl::string_view limit_flag) {
  if (value.size() < min_bytes) {
    return absl::InvalidArgumentError(
        value.empty()
            ? absl::StrCat(field, ": must not be empty")
            : absl::StrCat(field, ": ", value.size(), " bytes, at least ", min_bytes, " required"));
  }
  if (value.size() > max_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", value.size(), " bytes, limit is ",
                                                   max_bytes, LimitSuffix(limit_flag)));
  }
  return absl::OkStatus();
}

absl::Status CheckRange(absl::string_view field, int64_t value, int64_t min, int64_t max,
                        absl::string_view limit_flag) {
  if (value < min || value > max) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", value, " is outside [", min, ", ",
                                                   max, "]", LimitSuffix(limit_flag)));
  }
  return absl::OkStatus();
}

absl::Status CheckFiniteRange(absl::string_view field, double value, double min, double max) {
  if (!std::isfinite(value)) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": must be finite, got ", value));
  }
  if (value < min || value > max) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", value, " is outside [", min, ", ", max, "]"));
  }
  return absl::OkStatus();
}

absl::Status CheckAllFinite(absl::string_view field, absl::Span<const float> values) {
  for (size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat(FieldPath(field, i), ": must be finite, got ", values[i]));
    }
  }
  return absl::OkStatus();
}

}  // namespace recsys
