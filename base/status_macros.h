// RECSYS_RETURN_IF_ERROR / RECSYS_ASSIGN_OR_RETURN: Abseil 20220623 ships neither.
//
//   RECSYS_RETURN_IF_ERROR(store.Put(key, value));
//   RECSYS_ASSIGN_OR_RETURN(Model model, LoadModel(path));
//   RECSYS_ASSIGN_OR_RETURN(auto rows, ReadRows(file));
//
// Both evaluate their argument exactly once and return the absl::Status unchanged.
#pragma once

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define RECSYS_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    ::absl::Status recsys_status_ = (expr);          \
    if (!recsys_status_.ok()) return recsys_status_; \
  } while (false)

#define RECSYS_STATUS_CONCAT_INNER_(a, b) a##b
#define RECSYS_STATUS_CONCAT_(a, b) RECSYS_STATUS_CONCAT_INNER_(a, b)

#define RECSYS_ASSIGN_OR_RETURN(lhs, rexpr) \
  RECSYS_ASSIGN_OR_RETURN_IMPL_(RECSYS_STATUS_CONCAT_(recsys_statusor_, __LINE__), lhs, rexpr)

#define RECSYS_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                  \
  if (!statusor.ok()) return std::move(statusor).status();  \
  lhs = std::move(statusor).value()
