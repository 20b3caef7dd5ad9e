// Fused attention against a naive implementation that materialises the [S, S] score matrix
// per (batch, head) with sgemm, applies the mask, softmaxes and multiplies by V.
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "kernels/bench/bench_util.h"
#include "recsys/kernels/attention.h"

namespace recsys::kernels::bench {
namespace {

struct Inputs {
  int64_t b, s, h, d;
  bool causal;
  // [b, s, h, d] as the kernel takes them.
  std::vector<float> q, k, v, out;
};

Inputs MakeInputs(int64_t b, int64_t s, int64_t h, int64_t d, bool causal) {
  std::mt19937 rng(7);
  std::normal_distribution<float> dist;
  auto fill = [&] {
    std::vector<float> x(b * s * h * d);
    for (float& e : x) e = dist(rng);
    return x;
  };
  return {b, s, h, d, causal, fill(), fill(), fill(), std::vector<float>(b * s * h * d)};
}

void Naive(Inputs& in) {
  const int64_t row = in.h * in.d;  // stride between tokens
  const float scale = 1.0f / std::sqrt(static_cast<float>(in.d));
  std::vector<float> scores(in.s * in.s);
  for (int64_t b = 0; b < in.b; ++b) {
    for (int64_t h = 0; h < in.h; ++h) {
      const int64_t base = b * in.s * row + h * in.d;
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, in.s, in.s, in.d, scale,
                  in.q.data() + base, row, in.k.data() + base, row, 0.0f, scores.data(), in.s);
      for (int64_t i = 0; i < in.s; ++i) {
        float* r = scores.data() + i * in.s;
        const int64_t visible = in.causal ? i + 1 : in.s;
        std::fill(r + visible, r + in.s, -std::numeric_limits<float>::infinity());
        const float max = *std::max_element(r, r + visible);
        float total = 0;
        for (int64_t j = 0; j < in.s; ++j) total += (r[j] = std::exp(r[j] - max));
        for (int64_t j = 0; j < in.s; ++j) r[j] /= total;
      }
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, in.s, in.d, in.s, 1.0f, scores.data(),
                  in.s, in.v.data() + base, row, 0.0f, in.out.data() + base, row);
    }
  }
  benchmark::DoNotOptimize(in.out.data());
}

void BM_Attention(benchmark::State& state) {
  Inputs in = MakeInputs(state.range(0), state.range(1), state.range(2), state.range(3),
                         state.range(4) != 0);
  AttentionParams p;
  p.q = in.q.data();
  p.k = in.k.data();
  p.v = in.v.data();
  p.out = in.out.data();
  p.batch = in.b;
  p.q_len = p.kv_len = in.s;
  p.num_heads = p.num_kv_heads = in.h;
  p.head_dim = in.d;
  p.mask = in.causal ? AttentionMask::kCausal : AttentionMask::kBidirectional;
  RunWithReference(
      state, "naive",
      [&] {
        if (!Attention(Device::Cpu(), p).ok()) state.SkipWithError("kernel failed");
        benchmark::DoNotOptimize(in.out.data());
      },
      [&] { Naive(in); });
}

// {batch, sequence, heads, head dim, causal}: recommendation shapes (SASRec d=50 one head,
// BERT4Rec d=64 two heads, lengths 50-200) and one long LLM-prefill shape.
BENCHMARK(BM_Attention)
    ->ArgNames({"B", "S", "H", "D", "causal"})
    ->Args({1, 50, 1, 50, 1})
    ->Args({256, 50, 1, 50, 1})
    ->Args({256, 200, 1, 50, 1})
    ->Args({1, 200, 2, 64, 0})
    ->Args({256, 100, 2, 64, 0})
    ->Args({1024, 50, 2, 32, 0})
    ->Args({1, 2048, 8, 64, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace recsys::kernels::bench

BENCHMARK_MAIN();
