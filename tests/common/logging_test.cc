#include "services/common/logging.h"

#include <gtest/gtest.h>

#include <limits>

namespace recsys::log {
namespace {

TEST(Logging, TextQuotesOnlyWhatNeedsIt) {
  EXPECT_EQ(FormatForTest(
                Format::kText, "model loaded",
                {{"model", "sasrec"}, {"version", int64_t{3}}, {"warm", true}, {"path", "/a b/c"}}),
            R"(model loaded model=sasrec version=3 warm=true path="/a b/c")");
}

TEST(Logging, JsonIsOneObjectBodyWithTypedValues) {
  EXPECT_EQ(FormatForTest(Format::kJson, "say \"hi\"\n",
                          {{"n", 7}, {"ratio", 0.25}, {"ok", false}, {"who", "a\\b"}}),
            R"("msg":"say \"hi\"\n","n":7,"ratio":0.25,"ok":false,"who":"a\\b")");
}

TEST(Logging, NonFiniteNumbersStayValidJson) {
  EXPECT_EQ(FormatForTest(Format::kJson, "m", {{"x", std::numeric_limits<double>::infinity()}}),
            R"("msg":"m","x":"inf")");
}

TEST(Logging, StatusFieldCarriesCodeAndMessage) {
  EXPECT_EQ(FormatForTest(Format::kJson, "failed", {{"error", absl::NotFoundError("no model")}}),
            R"("msg":"failed","error":"NOT_FOUND: no model")");
}

TEST(Logging, ParseNames) {
  EXPECT_EQ(*ParseFormat("JSON"), Format::kJson);
  EXPECT_EQ(*ParseLevel("warning"), Level::kWarn);
  EXPECT_FALSE(ParseLevel("verbose").ok());
}

}  // namespace
}  // namespace recsys::log
