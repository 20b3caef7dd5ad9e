// The LLM forward pass on CUDA against the CPU path, on the reference fixtures; skips without
// a device (or a build without CUDA).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "models/llm/model/llm_model.h"
#include "recsys/kernels/device.h"

namespace recsys::llm {
namespace {

class LlmGpuTest : public ::testing::TestWithParam<std::string> {};

TEST_P(LlmGpuTest, ForwardMatchesTheCpu) {
  if (kernels::CudaDeviceCount() == 0) GTEST_SKIP() << "no CUDA device (or built without CUDA)";
  const char* dir = std::getenv("RECSYS_LLM_FIXTURES");
  const std::string path = std::string(dir != nullptr ? dir : "") + "/" + GetParam() + ".gguf";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "no fixtures";
  auto cpu = LlmModel::Load(path, kernels::Device::Cpu());
  auto gpu = LlmModel::Load(path, kernels::Device::Cuda(0));
  ASSERT_TRUE(cpu.ok()) << cpu.status();
  ASSERT_TRUE(gpu.ok()) << gpu.status();
  LlmInput in;
  in.tokens = {1, 260, 270, 280, 290, 12, 30, 45};
  LlmOutputs out;
  out.logits_at = {0, 7};
  out.hidden_at = {7};
  out.mass_begin = 5;
  out.mass_end = 8;
  out.mass_layers = {0, 1};
  std::vector<LlmResult> results;
  for (const auto* model : {&*cpu, &*gpu}) {
    auto cache = (*model)->NewCache(16);
    ASSERT_TRUE(cache.ok()) << cache.status();
    auto r = (*model)->Forward(in, out, &*cache);
    ASSERT_TRUE(r.ok()) << r.status();
    // Decode one more token on the cache the prefill filled.
    LlmInput next;
    next.tokens = {77};
    LlmOutputs last;
    last.logits_at = {0};
    auto step = (*model)->Forward(next, last, &*cache);
    ASSERT_TRUE(step.ok()) << step.status();
    r->logits.insert(r->logits.end(), step->logits.begin(), step->logits.end());
    results.push_back(std::move(*r));
  }
  auto close = [](const std::vector<float>& a, const std::vector<float>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (std::abs(a[i] - b[i]) > 1e-3f * (1.0f + std::abs(b[i]))) return false;
    }
    return true;
  };
  EXPECT_TRUE(close(results[1].logits, results[0].logits));
  EXPECT_TRUE(close(results[1].hidden, results[0].hidden));
  EXPECT_TRUE(close(results[1].mass, results[0].mass));
}

INSTANTIATE_TEST_SUITE_P(Families, LlmGpuTest,
                         ::testing::Values("llama3-f32", "mistral-q8_0", "qwen2-q4_k"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name) c = c == '-' ? '_' : c;
                           return name;
                         });

}  // namespace
}  // namespace recsys::llm
