#include "base/quote.h"

#include <gtest/gtest.h>

#include <string>

namespace recsys {
namespace {

TEST(Quote, ShortValuesWhole) {
  EXPECT_EQ(Quote("sasrec"), "'sasrec'");
  EXPECT_EQ(Quote(""), "''");
  EXPECT_EQ(Quote(std::string(64, 'x')), "'" + std::string(64, 'x') + "'");
}

TEST(Quote, LongValuesCutWithTheirLength) {
  const std::string big(10 << 20, 'x');
  const std::string q = Quote(big);
  EXPECT_EQ(q, "'" + std::string(64, 'x') + "'... (10485760 bytes)");
  EXPECT_EQ(Quote(big, 4), "'xxxx'... (10485760 bytes)");
}

TEST(Quote, NeverCutsInsideAUtf8Character) {
  const std::string value =
      "ab\xC3\xA9"
      "cdef";  // "abécdef": é is 2 bytes at 2..3
  EXPECT_EQ(Quote(value, 3), "'ab'... (8 bytes)");
  EXPECT_EQ(Quote(value, 4), "'ab\xC3\xA9'... (8 bytes)");
}

}  // namespace
}  // namespace recsys
