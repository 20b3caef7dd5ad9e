#include "services/common/validation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "recsys/common/v1/common.pb.h"
#include "tests/testing/status_matchers.h"

namespace recsys {
namespace {

using ::recsys::testing::IsOk;
using ::recsys::testing::StatusIs;
using ::testing::AllOf;
using ::testing::Eq;
using ::testing::HasSubstr;

constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;

TEST(FieldPath, BuildsNestedPaths) {
  EXPECT_EQ(FieldPath("queries", 3), "queries[3]");
  EXPECT_EQ(FieldPath("queries", 3, "candidates"), "queries[3].candidates");
  EXPECT_EQ(FieldPath(FieldPath("queries", 0, "user.history.behaviors"), 7, "item_id"),
            "queries[0].user.history.behaviors[7].item_id");
}

TEST(CheckCount, NamesFieldCountLimitAndFlag) {
  EXPECT_THAT(CheckCount("queries[3].candidates", 1000, 1, 1000, "--max_candidates"), IsOk());
  EXPECT_THAT(CheckCount("queries[3].candidates", 1204, 1, 1000, "--max_candidates"),
              StatusIs(kInvalid, Eq("queries[3].candidates: 1204 entries, limit is 1000 "
                                    "(--max_candidates)")));
}

TEST(CheckRequestCount, OneToMaxEntriesNamingFieldAndFlag) {
  EXPECT_THAT(CheckRequestCount("queries", 1, 8, "--seqrec_max_batch_users"), IsOk());
  EXPECT_THAT(CheckRequestCount("queries", 8, 8, "--seqrec_max_batch_users"), IsOk());
  EXPECT_THAT(
      CheckRequestCount("queries", 0, 8, "--seqrec_max_batch_users"),
      StatusIs(kInvalid, Eq("queries: 0 entries; must be 1..8 (--seqrec_max_batch_users)")));
  EXPECT_THAT(CheckRequestCount("queries[1].candidates", 9, 8, "--x"),
              StatusIs(kInvalid, Eq("queries[1].candidates: 9 entries; must be 1..8 (--x)")));
}

TEST(CheckPositiveFlags, NamesTheFirstFlagBelowOne) {
  EXPECT_THAT(CheckPositiveFlags({{"--a", 1}, {"--b", 1000}}), IsOk());
  EXPECT_THAT(CheckPositiveFlags({{"--a", 1}, {"--b", 0}, {"--c", -1}}),
              StatusIs(kInvalid, Eq("--b: 0 must be >= 1")));
}

TEST(CheckEnum, OnlyValuesTheEnumDefines) {
  EXPECT_THAT(CheckEnum<common::v1::EventType>("events[0].type", common::v1::EVENT_TYPE_CLICK),
              IsOk());
  EXPECT_THAT(
      CheckEnum<common::v1::EventType>("events[2].type", 99),
      StatusIs(kInvalid, Eq("events[2].type: 99 is not a recsys.common.v1.EventType value")));
}

TEST(CheckCount, EmptyAndBelowMinimum) {
  EXPECT_THAT(CheckCount("queries", 0, 1, 10),
              StatusIs(kInvalid, Eq("queries: must not be empty")));
  EXPECT_THAT(CheckCount("pair", 1, 2, 2),
              StatusIs(kInvalid, Eq("pair: 1 entries, at least 2 required")));
  EXPECT_THAT(CheckCount("optional_list", 0, 0, 5), IsOk());
}

TEST(CheckLength, BytesAgainstLimits) {
  EXPECT_THAT(CheckLength("user_id", "u1", 1, 128), IsOk());
  EXPECT_THAT(CheckLength("user_id", "", 1, 128),
              StatusIs(kInvalid, Eq("user_id: must not be empty")));
  EXPECT_THAT(CheckLength("query", std::string(5000, 'x'), 1, 4096, "--max_query_bytes"),
              StatusIs(kInvalid, AllOf(HasSubstr("query: 5000 bytes"), HasSubstr("4096"),
                                       HasSubstr("--max_query_bytes"))));
}

TEST(CheckRange, InclusiveBounds) {
  EXPECT_THAT(CheckRange("k", 1, 1, 1000), IsOk());
  EXPECT_THAT(CheckRange("k", 1000, 1, 1000), IsOk());
  EXPECT_THAT(CheckRange("k", 0, 1, 1000, "--max_k"),
              StatusIs(kInvalid, Eq("k: 0 is outside [1, 1000] (--max_k)")));
  EXPECT_THAT(CheckRange("k", 1001, 1, 1000), StatusIs(kInvalid, HasSubstr("1001")));
}

TEST(CheckFiniteRange, RejectsNanInfAndOutOfRange) {
  EXPECT_THAT(CheckFiniteRange("beta", 0.5, 0, 1), IsOk());
  EXPECT_THAT(CheckFiniteRange("beta", std::nan(""), 0, 1),
              StatusIs(kInvalid, HasSubstr("beta: must be finite")));
  EXPECT_THAT(CheckFiniteRange("beta", std::numeric_limits<double>::infinity(), 0, 1),
              StatusIs(kInvalid, HasSubstr("must be finite")));
  EXPECT_THAT(CheckFiniteRange("beta", 1.5, 0, 1),
              StatusIs(kInvalid, Eq("beta: 1.5 is outside [0, 1]")));
}

TEST(CheckAllFinite, NamesFirstBadIndex) {
  const std::vector<float> good = {0.f, -1.f, 3.5f};
  EXPECT_THAT(CheckAllFinite("vector.values", good), IsOk());
  EXPECT_THAT(CheckAllFinite("vector.values", {}), IsOk());
  std::vector<float> bad = good;
  bad.push_back(std::numeric_limits<float>::quiet_NaN());
  bad.push_back(std::numeric_limits<float>::infinity());
  EXPECT_THAT(CheckAllFinite("vector.values", bad),
              StatusIs(kInvalid, HasSubstr("vector.values[3]: must be finite")));
}

}  // namespace
}  // namespace recsys
