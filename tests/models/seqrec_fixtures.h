// The committed SASRec / BERT4Rec golden fixtures (tests/models/testdata/<name>/), as gtest
// parameters with names gtest accepts, for every test that runs over all of them.
#pragma once

#include <string>

#include <gtest/gtest.h>

namespace recsys::models::testing {

inline auto SeqRecFixtures() {
  return ::testing::Values("sasrec-tiny", "sasrec-tiny-pre-ln", "sasrec-tiny-post-ln",
                           "bert4rec-tiny");
}

inline bool IsBert4RecFixture(const std::string& name) { return name.rfind("bert4rec", 0) == 0; }

// "sasrec-tiny-pre-ln" -> "sasrec_tiny_pre_ln".
inline std::string FixtureTestName(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  for (char& c : name) c = c == '-' ? '_' : c;
  return name;
}

}  // namespace recsys::models::testing
