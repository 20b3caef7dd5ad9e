// Renamed flags keep their old spelling for one release:
//
//   RECSYS_FLAG_WITH_ALIAS(int64_t, feature_store_max_k, max_k, 1000, "...")
//
// defines --feature_store_max_k, a deprecated --max_k (valueless unless given), and
// feature_store_max_k_FlagValue(), which reads them: the old spelling applies, with a
// warning, when it is given and the new one is not; when both are given the new one wins
// and the old one is reported as ignored. (An empty old value, --max_k=, counts as not
// given: Abseil parses it as "no value".) Use at file scope.
#pragma once

#include <atomic>
#include <optional>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "services/common/logging.h"

namespace recsys {

// new_was_set: the new flag was given (on the command line, a flagfile or SetFlag).
template <typename T>
T ResolveFlagAlias(T value, bool new_was_set, const std::optional<T>& alias, const char* name,
                   const char* old_name) {
  if (!alias.has_value()) return value;
  if (new_was_set) {
    log::Warn(absl::StrCat("--", old_name, " is deprecated and ignored: --", name, " is set"));
    return value;
  }
  log::Warn(absl::StrCat("--", old_name, " is deprecated; use --", name,
                         " (the old spelling goes in the next release)"));
  return *alias;
}

}  // namespace recsys

// Abseil runs an OnUpdate callback once when it is installed (static initialisation), then on
// every update: more than one run means the new flag was given.
#define RECSYS_FLAG_WITH_ALIAS(type, name, old_name, default_value, help)                       \
  static std::atomic<int> name##_updates{0};                                                    \
  ABSL_FLAG(type, name, default_value, help).OnUpdate([] { ++name##_updates; });                \
  ABSL_FLAG(std::optional<type>, old_name, std::nullopt,                                        \
            "Deprecated spelling of --" #name "; removed in the next release.");                \
  static type name##_FlagValue() {                                                              \
    return ::recsys::ResolveFlagAlias<type>(absl::GetFlag(FLAGS_##name),                        \
                                            name##_updates.load() > 1,                          \
                                            absl::GetFlag(FLAGS_##old_name), #name, #old_name); \
  }
