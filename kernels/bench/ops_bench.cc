// GEMM against a direct OpenBLAS sgemm call (our wrapper's overhead), memory-bound ops in GB/s
// against a copy of the same bytes measured in the same run, and catalogue top-K against the
// naive way (materialise [batch, items] with sgemm, then partial_sort each row).
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <algorithm>
#include <cstring>
#include <numeric>
#include <random>
#include <vector>

#include "kernels/bench/bench_util.h"
#include "recsys/kernels/elementwise.h"
#include "recsys/kernels/gemm.h"
#include "recsys/kernels/topk.h"

namespace recsys::kernels::bench {
namespace {

std::vector<float> Random(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist;
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

void BM_Gemm(benchmark::State& state) {
  const int64_t m = state.range(0), n = state.range(1), k = state.range(2);
  const auto a = Random(m * k, 1), b = Random(k * n, 2);
  std::vector<float> c(m * n);
  GemmParams p;
  p.m = m;
  p.n = n;
  p.k = k;
  p.a = a.data();
  p.b = b.data();
  p.c = c.data();
  RunWithReference(
      state, "openblas", [&] { benchmark::DoNotOptimize(Gemm(Device::Cpu(), p).ok()); },
      [&] {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a.data(), k, b.data(),
                    n, 0.0f, c.data(), n);
      });
  state.counters["GFLOPs"] =
      benchmark::Counter(2.0 * m * n * k, benchmark::Counter::kIsIterationInvariantRate);
}
// {m, n, k}: SASRec/BERT4Rec projections (batch*seq x d x d) and item scoring.
BENCHMARK(BM_Gemm)
    ->ArgNames({"m", "n", "k"})
    ->Args({50, 50, 50})
    ->Args({12800, 64, 64})
    ->Args({256, 4096, 64})
    ->Args({1024, 1024, 1024})
    ->UseRealTime();

// Memory-bound ops: ours vs memcpy of the same read + write traffic.
template <typename Op>
void RunBandwidth(benchmark::State& state, int64_t bytes_moved, std::vector<float>& src,
                  std::vector<float>& dst, Op op) {
  RunWithReference(state, "memcpy", op, [&] {
    std::memcpy(dst.data(), src.data(), src.size() * sizeof(float));
    benchmark::DoNotOptimize(dst.data());
  });
  state.counters["GBps"] =
      benchmark::Counter(double(bytes_moved), benchmark::Counter::kIsIterationInvariantRate,
                         benchmark::Counter::kIs1000);
}

void BM_LayerNorm(benchmark::State& state) {
  const int64_t rows = state.range(0), cols = state.range(1);
  auto x = Random(rows * cols, 3), gamma = Random(cols, 4), beta = Random(cols, 5);
  std::vector<float> y(rows * cols);
  LayerNormParams p{x.data(), gamma.data(), beta.data(), y.data(), rows, cols, 1e-5f};
  RunBandwidth(state, 2 * rows * cols * 4, x, y,
               [&] { benchmark::DoNotOptimize(LayerNorm(Device::Cpu(), p).ok()); });
}
void BM_RmsNorm(benchmark::State& state) {
  const int64_t rows = state.range(0), cols = state.range(1);
  auto x = Random(rows * cols, 3), gamma = Random(cols, 4);
  std::vector<float> y(rows * cols);
  RmsNormParams p{x.data(), gamma.data(), y.data(), rows, cols, 1e-6f};
  RunBandwidth(state, 2 * rows * cols * 4, x, y,
               [&] { benchmark::DoNotOptimize(RmsNorm(Device::Cpu(), p).ok()); });
}
void BM_Softmax(benchmark::State& state) {
  const int64_t rows = state.range(0), cols = state.range(1);
  auto x = Random(rows * cols, 6);
  std::vector<float> y(rows * cols);
  SoftmaxParams p{x.data(), y.data(), rows, cols};
  RunBandwidth(state, 2 * rows * cols * 4, x, y,
               [&] { benchmark::DoNotOptimize(Softmax(Device::Cpu(), p).ok()); });
}
void RunActivation(benchmark::State& state, Activation activation) {
  const int64_t n = state.range(0) * state.range(1);
  auto x = Random(n, 7);
  std::vector<float> y(n);
  RunBandwidth(state, 2 * n * 4, x, y, [&] {
    benchmark::DoNotOptimize(Activate(Device::Cpu(), activation, x.data(), y.data(), n).ok());
  });
}
void BM_GeluErf(benchmark::State& state) { RunActivation(state, Activation::kGeluErf); }
void BM_GeluTanh(benchmark::State& state) { RunActivation(state, Activation::kGeluTanh); }
void BM_Silu(benchmark::State& state) { RunActivation(state, Activation::kSilu); }
void BM_Sigmoid(benchmark::State& state) { RunActivation(state, Activation::kSigmoid); }
void BM_SwiGlu(benchmark::State& state) {
  const int64_t n = state.range(0) * state.range(1);
  auto gate = Random(n, 8), up = Random(n, 9);
  std::vector<float> out(n);
  // Reads two arrays and writes one: the reference copies 1.5 n floats, the same traffic.
  std::vector<float> copy_src(n + n / 2), copy_dst(n + n / 2);
  RunBandwidth(state, 3 * n * 4, copy_src, copy_dst, [&] {
    benchmark::DoNotOptimize(SwiGlu(Device::Cpu(), gate.data(), up.data(), out.data(), n).ok());
  });
}
void BM_Rope(benchmark::State& state) {
  const int64_t tokens = state.range(0), heads = 8, head_dim = state.range(1);
  auto x = Random(tokens * heads * head_dim, 8);
  std::vector<float> y(x.size());
  std::vector<int64_t> positions(tokens);
  std::iota(positions.begin(), positions.end(), 0);
  RopeParams p{x.data(), positions.data(), tokens, heads, head_dim, 10000.0f, false};
  RunBandwidth(state, 2 * int64_t(x.size()) * 4, x, y,
               [&] { benchmark::DoNotOptimize(Rope(Device::Cpu(), p).ok()); });
}
// {rows, cols}: 256 users x 200 positions x d=64 activations, and 4k-token LLM rows.
BENCHMARK(BM_LayerNorm)
    ->ArgNames({"rows", "cols"})
    ->Args({51200, 64})
    ->Args({4096, 2048})
    ->UseRealTime();
BENCHMARK(BM_RmsNorm)
    ->ArgNames({"rows", "cols"})
    ->Args({51200, 64})
    ->Args({4096, 2048})
    ->UseRealTime();
BENCHMARK(BM_Softmax)
    ->ArgNames({"rows", "cols"})
    ->Args({51200, 200})
    ->Args({4096, 4096})
    ->UseRealTime();
BENCHMARK(BM_GeluErf)->ArgNames({"rows", "cols"})->Args({51200, 256})->UseRealTime();
BENCHMARK(BM_GeluTanh)->ArgNames({"rows", "cols"})->Args({51200, 256})->UseRealTime();
BENCHMARK(BM_Silu)->ArgNames({"rows", "cols"})->Args({51200, 256})->UseRealTime();
BENCHMARK(BM_Sigmoid)->ArgNames({"rows", "cols"})->Args({51200, 256})->UseRealTime();
BENCHMARK(BM_SwiGlu)->ArgNames({"rows", "cols"})->Args({51200, 256})->UseRealTime();
BENCHMARK(BM_Rope)->ArgNames({"tokens", "head_dim"})->Args({4096, 64})->UseRealTime();

void NaiveTopK(const std::vector<float>& users, const std::vector<float>& items, int64_t batch,
               int64_t num_items, int64_t dim, int64_t k, std::vector<float>& scores,
               std::vector<int64_t>& ids) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, batch, num_items, dim, 1.0f, users.data(),
              dim, items.data(), dim, 0.0f, scores.data(), num_items);
  std::vector<int64_t> order(num_items);
  for (int64_t b = 0; b < batch; ++b) {
    const float* row = scores.data() + b * num_items;
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + k, order.end(),
                      [row](int64_t x, int64_t y) { return row[x] > row[y]; });
    std::copy(order.begin(), order.begin() + k, ids.begin() + b * k);
  }
}

void BM_CatalogTopK(benchmark::State& state) {
  const int64_t batch = state.range(0), num_items = state.range(1), dim = 64, k = 100;
  const auto users = Random(batch * dim, 9), items = Random(num_items * dim, 10);
  std::vector<int64_t> ids(batch * k);
  std::vector<float> out_scores(batch * k), all_scores(batch * num_items);
  CatalogTopKParams p;
  p.users = users.data();
  p.items = items.data();
  p.batch = batch;
  p.num_items = num_items;
  p.dim = dim;
  p.k = k;
  p.out_ids = ids.data();
  p.out_scores = out_scores.data();
  RunWithReference(
      state, "naive", [&] { benchmark::DoNotOptimize(CatalogTopK(Device::Cpu(), p).ok()); },
      [&] { NaiveTopK(users, items, batch, num_items, dim, k, all_scores, ids); });
}
// {users, catalogue size}: top-100 over 64-d item embeddings.
BENCHMARK(BM_CatalogTopK)
    ->ArgNames({"batch", "items"})
    ->Args({1, 100000})
    ->Args({64, 100000})
    ->Args({1, 1000000})
    ->Args({64, 1000000})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace recsys::kernels::bench

BENCHMARK_MAIN();
