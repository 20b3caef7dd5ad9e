// RocksDB status -> absl::Status.
#pragma once

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "base/status_macros.h"
#include "rocksdb/slice.h"
#include "rocksdb/status.h"

namespace recsys::store {

// Debian's Abseil has its own string_view type, distinct from the std one RocksDB returns.
inline absl::string_view View(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

// I/O errors and a full disk are UNAVAILABLE (retryable elsewhere or later), corruption and
// anything unexpected INTERNAL; the message names the operation and RocksDB's cause.
inline absl::Status FromRocksDb(const char* op, const rocksdb::Status& s) {
  if (s.ok()) return absl::OkStatus();
  const std::string message = absl::StrCat(op, ": RocksDB: ", s.ToString());
  if (s.IsNoSpace() || s.IsIOError() || s.IsBusy() || s.IsTimedOut() || s.IsTryAgain()) {
    return absl::UnavailableError(message);
  }
  if (s.IsInvalidArgument()) return absl::InvalidArgumentError(message);
  return absl::InternalError(message);
}

}  // namespace recsys::store
