// A JSON object from a file (golden outputs of the PyTorch reference, fixtures' configs).
#pragma once

#include <google/protobuf/struct.pb.h>

#include <string>

namespace recsys::testing {

// The object in the file at path; a test failure naming path (and an empty object) when it
// is missing or not JSON.
google::protobuf::Struct ReadJsonFile(const std::string& path);

// golden.json of a committed fixture, tests/models/testdata/<fixture>/golden.json: inputs
// and the PyTorch module's outputs.
google::protobuf::Struct ReadGolden(const std::string& fixture);

// Where golden fixtures are read from: $RECSYS_GOLDEN_DIR when set (the fresh-parity tests
// point it at models trained now), else `committed`.
std::string GoldenDir(const std::string& committed);

}  // namespace recsys::testing
