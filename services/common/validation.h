// Request-validation helpers. Each returns OK or INVALID_ARGUMENT whose message names the
// field path and the limit, e.g.
//   "queries[3].candidate_item_ids: 1204 entries, limit is 1000 (--seqrec_max_candidates)".
// Validate at the RPC boundary, then pass plain structs down: request input must never reach
// an assert or abort.
#pragma once

#include <google/protobuf/descriptor.h>
#include <google/protobuf/generated_enum_reflection.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace recsys {

// "parent[index].child", or "parent[index]" when child is empty.
std::string FieldPath(absl::string_view parent, size_t index, absl::string_view child = {});

// A repeated field's size is within [min, max]. limit_flag names the server flag that sets
// max ("--seqrec_max_candidates"); pass "" for a fixed API limit.
absl::Status CheckCount(absl::string_view field, size_t count, size_t min, size_t max,
                        absl::string_view limit_flag = {});

// A request's repeated field holds 1..max entries, else "<field>: <count> entries; must be
// 1..<max> (<limit_flag>)": the form model services use for queries and candidates.
absl::Status CheckRequestCount(absl::string_view field, size_t count, size_t max,
                               absl::string_view limit_flag);

// Server flags that must be positive: the first that is not gives INVALID_ARGUMENT
// "<flag>: <value> must be >= 1".
absl::Status CheckPositiveFlags(std::initializer_list<std::pair<absl::string_view, int64_t>> flags);

// A proto enum field holds one of the enum's values: open enums let any number through, and
// a value the server does not know must not reach a store or a model as if it were one.
// INVALID_ARGUMENT "<field>: 99 is not a recsys.feature_store.v1.Metric value".
template <typename Enum>
absl::Status CheckEnum(absl::string_view field, int value) {
  const google::protobuf::EnumDescriptor* d = google::protobuf::GetEnumDescriptor<Enum>();
  if (d->FindValueByNumber(value) != nullptr) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(field, ": ", value, " is not a ", d->full_name(), " value"));
}

// A string's length in bytes is within [min_bytes, max_bytes].
absl::Status CheckLength(absl::string_view field, absl::string_view value, size_t min_bytes,
                         size_t max_bytes, absl::string_view limit_flag = {});

// An integer is within [min, max].
absl::Status CheckRange(absl::string_view field, int64_t value, int64_t min, int64_t max,
                        absl::string_view limit_flag = {});

// A floating-point value is finite and within [min, max].
absl::Status CheckFiniteRange(absl::string_view field, double value, double min, double max);

// Every value is finite (no NaN or Inf); names the first offending index.
absl::Status CheckAllFinite(absl::string_view field, absl::Span<const float> values);

}  // namespace recsys
