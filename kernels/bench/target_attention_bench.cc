// Target attention with top-K (DARE search) against the naive way: materialise the [C, L]
// score matrix, fully sort each row, softmax the top K, weighted sum.
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "kernels/bench/bench_util.h"
#include "recsys/kernels/target_attention.h"

namespace recsys::kernels::bench {
namespace {

struct Inputs {
  int64_t c, l, att_dim, value_dim, k;
  std::vector<float> q, keys, values, out, weights;
  std::vector<int64_t> selected;
};

Inputs MakeInputs(int64_t c, int64_t l, int64_t att_dim, int64_t value_dim, int64_t k) {
  std::mt19937 rng(42);
  std::normal_distribution<float> dist;
  auto fill = [&](size_t n) {
    std::vector<float> v(n);
    for (float& x : v) x = dist(rng);
    return v;
  };
  return {c,
          l,
          att_dim,
          value_dim,
          k,
          fill(c * att_dim),
          fill(l * att_dim),
          fill(l * value_dim),
          std::vector<float>(c * value_dim),
          std::vector<float>(c * k),
          std::vector<int64_t>(c * k)};
}

void Naive(Inputs& in) {
  std::vector<float> scores(in.c * in.l);  // the O(C * L) matrix the kernel avoids
  const float scale = 1.0f / std::sqrt(static_cast<float>(in.att_dim));
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, in.c, in.l, in.att_dim, scale, in.q.data(),
              in.att_dim, in.keys.data(), in.att_dim, 0.0f, scores.data(), in.l);
  std::vector<int64_t> order(in.l);
  for (int64_t c = 0; c < in.c; ++c) {
    const float* row = scores.data() + c * in.l;
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [row](int64_t a, int64_t b) { return row[a] > row[b]; });
    double total = 0;
    for (int64_t i = 0; i < in.k; ++i) total += std::exp(row[order[i]] - row[order[0]]);
    float* out = in.out.data() + c * in.value_dim;
    std::fill(out, out + in.value_dim, 0.0f);
    for (int64_t i = 0; i < in.k; ++i) {
      const float w = static_cast<float>(std::exp(row[order[i]] - row[order[0]]) / total);
      for (int64_t d = 0; d < in.value_dim; ++d) {
        out[d] += w * in.values[order[i] * in.value_dim + d];
      }
    }
  }
  benchmark::DoNotOptimize(in.out.data());
}

void BM_TargetAttentionTopK(benchmark::State& state) {
  Inputs in = MakeInputs(state.range(0), state.range(1), state.range(2), 48, 20);
  TargetAttentionParams p;
  p.queries = in.q.data();
  p.keys = in.keys.data();
  p.values = in.values.data();
  p.num_candidates = in.c;
  p.history_len = in.l;
  p.att_dim = in.att_dim;
  p.value_dim = in.value_dim;
  p.top_k = in.k;
  p.out = in.out.data();
  p.selected = in.selected.data();
  p.weights = in.weights.data();
  RunWithReference(
      state, "naive",
      [&] {
        if (!TargetAttentionTopK(Device::Cpu(), p).ok()) state.SkipWithError("kernel failed");
        benchmark::DoNotOptimize(in.out.data());
      },
      [&] { Naive(in); });
  state.counters["behaviours_per_s"] =
      benchmark::Counter(double(in.c * in.l), benchmark::Counter::kIsIterationInvariantRate);
}

// {candidates, history length, attention dim}; value dim 48 and K = 20 as in DARE.
BENCHMARK(BM_TargetAttentionTopK)
    ->ArgNames({"C", "L", "d_att"})
    ->Args({1, 1000, 48})
    ->Args({100, 1000, 48})
    ->Args({100, 10000, 48})
    ->Args({100, 100000, 48})
    ->Args({100, 100000, 24})
    ->Args({1000, 100000, 48})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace recsys::kernels::bench

BENCHMARK_MAIN();
