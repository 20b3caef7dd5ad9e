// The deprecated spelling of a renamed flag: real Abseil flags defined by the macro and parsed
// from a command line, as recsys-server parses them.
#include "services/common/deprecated_flag.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"

RECSYS_FLAG_WITH_ALIAS(int64_t, test_service_max_k, test_max_k, 1000, "test: neighbours.")
RECSYS_FLAG_WITH_ALIAS(std::string, test_service_root, test_root, "", "test: a directory.")

namespace recsys {
namespace {

void Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "deprecated_flag_test");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  absl::ParseCommandLine(static_cast<int>(argv.size()), argv.data());
}

class DeprecatedFlagTest : public ::testing::Test {
  absl::FlagSaver saver_;  // every test starts from the defaults
};

TEST_F(DeprecatedFlagTest, TheNewSpellingAloneIsUsed) {
  Parse({"--test_service_max_k=7", "--test_service_root=/d"});
  EXPECT_EQ(test_service_max_k_FlagValue(), 7);
  EXPECT_EQ(test_service_root_FlagValue(), "/d");
}

TEST_F(DeprecatedFlagTest, TheOldSpellingStillWorks) {
  Parse({"--test_max_k=9", "--test_root=/old"});
  EXPECT_EQ(test_service_max_k_FlagValue(), 9);
  EXPECT_EQ(test_service_root_FlagValue(), "/old");
}

TEST_F(DeprecatedFlagTest, TheNewSpellingWinsOverTheOld) {
  Parse({"--test_max_k=9", "--test_service_max_k=7"});
  EXPECT_EQ(test_service_max_k_FlagValue(), 7);
}

TEST_F(DeprecatedFlagTest, NeitherGivesTheDefault) {
  EXPECT_EQ(test_service_max_k_FlagValue(), 1000);
  EXPECT_EQ(test_service_root_FlagValue(), "");
}

}  // namespace
}  // namespace recsys
