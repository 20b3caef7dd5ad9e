// Renamed flags keep their old spelling for one release:
//
//   RECSYS_FLAG_WITH_ALIAS(int64_t, feature_store_max_k, max_k, 1000, "...");
//
// defines --feature_store_max_k, a deprecated --max_k (valueless unless given), and
// feature_store_max_k_FlagValue(), which reads them: the old spelling applies, with a
// warning, when it is given and the new flag is left at its default; when both are given
// the new one wins (and the old one is reported as ignored). Use at file scope.
#pragma once

#include <optional>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "services/common/logging.h"

namespace recsys {

template <typename T>
T ResolveFlagAlias(T value, const T& default_value, const std::optional<T>& alias, const char* name,
                   const char* old_name) {
  if (!alias.has_value()) return value;
  if (value != default_value) {
    log::Warn(absl::StrCat("--", old_name, " is deprecated and ignored: --", name, " is set"));
    return value;
  }
  log::Warn(absl::StrCat("--", old_name, " is deprecated; use --", name,
                         " (the old spelling goes in the next release)"));
  return *alias;
}

}  // namespace recsys

#define RECSYS_FLAG_WITH_ALIAS(type, name, old_name, default_value, help)                       \
  ABSL_FLAG(type, name, default_value, help);                                                   \
  ABSL_FLAG(std::optional<type>, old_name, std::nullopt,                                        \
            "Deprecated spelling of --" #name "; removed in the next release.");                \
  static type name##_FlagValue() {                                                              \
    return ::recsys::ResolveFlagAlias<type>(absl::GetFlag(FLAGS_##name), default_value,         \
                                            absl::GetFlag(FLAGS_##old_name), #name, #old_name); \
  }
