// The LLM reference fixtures (recsys_train.llm.fixtures, written by the llm_reference_fixtures
// test into the build tree) and the helpers the tests read them with.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "models/llm/gguf/dequantize.h"
#include "models/llm/gguf/gguf_file.h"

namespace recsys::llm::fixtures {

// $RECSYS_LLM_FIXTURES, else the build tree's fixture directory.
inline std::string FixtureDir() {
  const char* dir = std::getenv("RECSYS_LLM_FIXTURES");
  return dir != nullptr ? dir : RECSYS_LLM_FIXTURES_DEFAULT;
}

inline std::vector<float> TensorFloats(const GgufFile& f, const std::string& name) {
  const GgufTensor* t = f.FindTensor(name);
  EXPECT_NE(t, nullptr) << name;
  if (t == nullptr) return {};
  std::vector<float> out(t->elements);
  EXPECT_TRUE(DequantizeRow(t->type, t->data, t->elements, out.data()).ok());
  return out;
}

// max |a - b| over max(1, max |b|): the error relative to the values' scale.
template <typename A>
double ScaledError(const std::vector<A>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double err = 0, scale = 1;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    err = std::max(err, std::abs(static_cast<double>(a[i]) - b[i]));
    scale = std::max(scale, static_cast<double>(std::abs(b[i])));
  }
  return err / scale;
}

}  // namespace recsys::llm::fixtures
