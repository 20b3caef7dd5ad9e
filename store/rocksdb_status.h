// RocksDB status -> absl::Status, and the return-on-error macro of the store library.
#pragma once

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "rocksdb/slice.h"
#include "rocksdb/status.h"

#define RECSYS_STORE_RETURN_IF_ERROR(expr)                       \
  do {                                                           \
    ::absl::Status recsys_store_status_ = (expr);                \
    if (!recsys_store_status_.ok()) return recsys_store_status_; \
  } while (false)

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
