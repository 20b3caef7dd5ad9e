// The committed model fixtures (tests/models/testdata/<fixture>/1, made by the training code)
// placed into a model repository the way an exporter leaves a version.
#pragma once

#include <filesystem>
#include <string>

#include "absl/strings/str_cat.h"

namespace recsys::testing {

// Copies version 1 of a fixture to <repo>/<name>/<version>.
inline void CopyModelFixture(const std::string& fixture, const std::string& repo,
                             const std::string& name, int version = 1,
                             const std::string& fixture_dir = RECSYS_TESTDATA_DIR) {
  namespace fs = std::filesystem;
  fs::create_directories(absl::StrCat(repo, "/", name));
  fs::copy(absl::StrCat(fixture_dir, "/", fixture, "/1"),
           absl::StrCat(repo, "/", name, "/", version), fs::copy_options::recursive);
}

}  // namespace recsys::testing
