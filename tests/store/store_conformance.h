// One conformance test body for every FeatureStore implementation. An implementation's test
// file provides a factory and instantiates the suite:
//
//   INSTANTIATE_TEST_SUITE_P(Local, FeatureStoreConformance,
//                            ::testing::Values(StoreFactory{"local", &MakeLocal}));
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "recsys/store/feature_store.h"
#include "recsys/store/local_store.h"

namespace recsys::store::testing {

// Limits every store under test is configured with, so the conformance checks agree.
struct ConformanceLimits {
  int64_t max_events_per_user = 200;
  int64_t max_ingest_batch = 1000;
  int64_t max_batch_users = 16;
  int64_t max_history_length = 1000;
  int64_t max_batch_items = 100;
  int64_t max_item_text_bytes = 1000;
  int64_t max_reply_events = 400000;
};

// The request limits of ConformanceLimits (the rest at their defaults).
StoreLimits StoreLimitsFor(const ConformanceLimits& limits);
// Options of a local store on data_dir with ConformanceLimits.
LocalStoreOptions LocalOptionsFor(const std::string& data_dir, const ConformanceLimits& limits);

struct StoreFactory {
  std::string name;
  // Opens a store on an empty data directory with ConformanceLimits. Shared, so that a store
  // can keep what it runs on (servers, for the remote store) alive with it.
  std::function<std::shared_ptr<FeatureStore>(const std::string& data_dir,
                                              const ConformanceLimits& limits)>
      open;
};

inline void PrintTo(const StoreFactory& factory, std::ostream* os) { *os << factory.name; }

class FeatureStoreConformance : public ::testing::TestWithParam<StoreFactory> {};

}  // namespace recsys::store::testing
