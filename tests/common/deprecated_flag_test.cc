// The deprecated spelling of a renamed flag: real Abseil flags defined by the macro and parsed
// from a command line, as recsys-server parses them. Each test has its own pair of flags (a
// flag once given stays given for the process).
#include "services/common/deprecated_flag.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/flags/parse.h"

RECSYS_FLAG_WITH_ALIAS(int64_t, a_service_max_k, a_max_k, 1000, "test: the new spelling alone.")
RECSYS_FLAG_WITH_ALIAS(int64_t, b_service_max_k, b_max_k, 1000, "test: the old spelling alone.")
RECSYS_FLAG_WITH_ALIAS(std::string, b_service_root, b_root, "", "test: the old spelling alone.")
RECSYS_FLAG_WITH_ALIAS(int64_t, c_service_max_k, c_max_k, 1000, "test: both spellings.")
RECSYS_FLAG_WITH_ALIAS(int64_t, d_service_max_k, d_max_k, 1000, "test: both, new at default.")
RECSYS_FLAG_WITH_ALIAS(int64_t, e_service_max_k, e_max_k, 1000, "test: neither.")

namespace recsys {
namespace {

void Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "deprecated_flag_test");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  absl::ParseCommandLine(static_cast<int>(argv.size()), argv.data());
}

TEST(DeprecatedFlagTest, TheNewSpellingAloneIsUsed) {
  Parse({"--a_service_max_k=7"});
  EXPECT_EQ(a_service_max_k_FlagValue(), 7);
}

TEST(DeprecatedFlagTest, TheOldSpellingStillWorks) {
  Parse({"--b_max_k=9", "--b_root=/old"});
  EXPECT_EQ(b_service_max_k_FlagValue(), 9);
  EXPECT_EQ(b_service_root_FlagValue(), "/old");
}

TEST(DeprecatedFlagTest, TheNewSpellingWinsOverTheOld) {
  Parse({"--c_max_k=9", "--c_service_max_k=7"});
  EXPECT_EQ(c_service_max_k_FlagValue(), 7);
}

TEST(DeprecatedFlagTest, TheNewSpellingWinsEvenAtItsDefault) {
  Parse({"--d_service_max_k=1000", "--d_max_k=9"});
  EXPECT_EQ(d_service_max_k_FlagValue(), 1000);
}

TEST(DeprecatedFlagTest, NeitherGivesTheDefault) {
  Parse({});
  EXPECT_EQ(e_service_max_k_FlagValue(), 1000);
}

}  // namespace
}  // namespace recsys
