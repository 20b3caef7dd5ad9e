#include "tests/testing/json_file.h"

#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace recsys::testing {

google::protobuf::Struct ReadJsonFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  google::protobuf::Struct root;
  EXPECT_TRUE(in.good() || in.eof()) << path << ": cannot read";
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(text.str(), &root).ok())
      << path << ": not JSON";
  return root;
}

google::protobuf::Struct ReadGolden(const std::string& fixture) {
  return ReadJsonFile(std::string(RECSYS_TESTDATA_DIR) + "/" + fixture + "/golden.json");
}

std::string GoldenDir(const std::string& committed) {
  const char* dir = std::getenv("RECSYS_GOLDEN_DIR");
  return dir != nullptr ? dir : committed;
}

}  // namespace recsys::testing
