// CUDA kernels against the CPU path on the same shapes, in the same run (speedup_vs_cpu).
// Each GPU iteration includes a stream synchronise, so times are end to end per call. Every
// case skips with a message where no CUDA device is visible.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "kernels/bench/bench_util.h"
#include "recsys/kernels/attention.h"
#include "recsys/kernels/attention_mass.h"
#include "recsys/kernels/device.h"
#include "recsys/kernels/gemm.h"
#include "recsys/kernels/memory.h"
#include "recsys/kernels/target_attention.h"
#include "recsys/kernels/topk.h"

namespace recsys::kernels::bench {
namespace {

const Device kGpu = Device::Cuda(0);
const Device kCpu = Device::Cpu();

std::vector<float> Normal(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist;
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// A host tensor and its device twin.
template <typename T>
struct Mirror {
  explicit Mirror(std::vector<T> values) : host(std::move(values)) {
    auto buffer = DeviceBuffer::Allocate(kGpu, static_cast<int64_t>(host.size() * sizeof(T)));
    if (!buffer.ok()) return;
    device = std::move(*buffer);
    (void)CopyToDevice(kGpu, device.data(), host.data(), device.size_bytes());
  }
  T* h() { return host.data(); }
  T* d() { return device.as<T>(); }
  std::vector<T> host;
  DeviceBuffer device;
};

bool NoGpu(benchmark::State& state) {
  if (CudaDeviceCount() > 0) return false;
  state.SkipWithError("no CUDA device");
  return true;
}

template <typename Params, typename Op>
void GpuVsCpu(benchmark::State& state, Op op, const Params& gpu, const Params& cpu) {
  RunWithReference(
      state, "cpu",
      [&] {
        if (!op(kGpu, gpu).ok() || !Synchronize(kGpu).ok()) state.SkipWithError("gpu failed");
      },
      [&] {
        if (!op(kCpu, cpu).ok()) state.SkipWithError("cpu failed");
      });
}

void BM_GpuAttention(benchmark::State& state) {
  if (NoGpu(state)) return;
  const int64_t b = state.range(0), s = state.range(1), h = state.range(2), d = state.range(3);
  Mirror<float> q(Normal(b * s * h * d, 1)), k(Normal(b * s * h * d, 2)),
      v(Normal(b * s * h * d, 3)), out{std::vector<float>(b * s * h * d)};
  AttentionParams p;
  p.batch = b, p.q_len = s, p.kv_len = s, p.num_heads = h, p.num_kv_heads = h, p.head_dim = d;
  p.mask = state.range(4) ? AttentionMask::kCausal : AttentionMask::kBidirectional;
  AttentionParams g = p;
  p.q = q.h(), p.k = k.h(), p.v = v.h(), p.out = out.h();
  g.q = q.d(), g.k = k.d(), g.v = v.d(), g.out = out.d();
  GpuVsCpu(
      state, [](const Device& dev, const AttentionParams& x) { return Attention(dev, x); }, g, p);
}
BENCHMARK(BM_GpuAttention)
    ->ArgNames({"B", "S", "H", "D", "causal"})
    ->Args({256, 50, 1, 50, 1})
    ->Args({256, 200, 1, 50, 1})
    ->Args({1024, 50, 2, 32, 0})
    ->Args({1, 2048, 8, 64, 1})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

void BM_GpuTargetAttention(benchmark::State& state) {
  if (NoGpu(state)) return;
  const int64_t c = state.range(0), l = state.range(1), da = state.range(2), dv = 48, k = 20;
  Mirror<float> q(Normal(c * da, 4)), keys(Normal(l * da, 5)), values(Normal(l * dv, 6)),
      out{std::vector<float>(c * dv)}, w{std::vector<float>(c * k)};
  Mirror<int64_t> sel{std::vector<int64_t>(c * k)};
  TargetAttentionParams p;
  p.num_candidates = c, p.history_len = l, p.att_dim = da, p.value_dim = dv, p.top_k = k;
  TargetAttentionParams g = p;
  p.queries = q.h(), p.keys = keys.h(), p.values = values.h();
  p.out = out.h(), p.selected = sel.h(), p.weights = w.h();
  g.queries = q.d(), g.keys = keys.d(), g.values = values.d();
  g.out = out.d(), g.selected = sel.d(), g.weights = w.d();
  GpuVsCpu(
      state,
      [](const Device& dev, const TargetAttentionParams& x) { return TargetAttentionTopK(dev, x); },
      g, p);
}
BENCHMARK(BM_GpuTargetAttention)
    ->ArgNames({"C", "L", "d_att"})
    ->Args({100, 10000, 48})
    ->Args({100, 100000, 48})
    ->Args({100, 100000, 24})
    ->Args({1000, 100000, 48})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

void BM_GpuAttentionMass(benchmark::State& state) {
  if (NoGpu(state)) return;
  const int64_t q_len = 32, kv = state.range(0), h = 8, d = 64;
  Mirror<float> q(Normal(q_len * h * d, 7)), k(Normal(kv * h * d, 8)), mass{std::vector<float>(kv)};
  AttentionMassParams p;
  p.q_len = q_len, p.kv_len = kv, p.num_heads = h, p.num_kv_heads = h, p.head_dim = d;
  p.q_position = kv - q_len;
  AttentionMassParams g = p;
  p.q = q.h(), p.k = k.h(), p.mass = mass.h();
  g.q = q.d(), g.k = k.d(), g.mass = mass.d();
  GpuVsCpu(
      state, [](const Device& dev, const AttentionMassParams& x) { return AttentionMass(dev, x); },
      g, p);
}
BENCHMARK(BM_GpuAttentionMass)
    ->ArgNames({"kv_len"})
    ->Arg(4096)
    ->Arg(32768)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

void BM_GpuCatalogTopK(benchmark::State& state) {
  if (NoGpu(state)) return;
  const int64_t b = state.range(0), n = state.range(1), d = 64, k = 100;
  Mirror<float> users(Normal(b * d, 9)), items(Normal(n * d, 10)),
      scores{std::vector<float>(b * k)};
  Mirror<int64_t> ids{std::vector<int64_t>(b * k)};
  CatalogTopKParams p;
  p.batch = b, p.num_items = n, p.dim = d, p.k = k;
  CatalogTopKParams g = p;
  p.users = users.h(), p.items = items.h(), p.out_ids = ids.h(), p.out_scores = scores.h();
  g.users = users.d(), g.items = items.d(), g.out_ids = ids.d(), g.out_scores = scores.d();
  GpuVsCpu(
      state, [](const Device& dev, const CatalogTopKParams& x) { return CatalogTopK(dev, x); }, g,
      p);
}
BENCHMARK(BM_GpuCatalogTopK)
    ->ArgNames({"batch", "items"})
    ->Args({1, 1000000})
    ->Args({64, 1000000})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

void BM_GpuGemm(benchmark::State& state) {
  if (NoGpu(state)) return;
  const int64_t n = state.range(0);
  Mirror<float> a(Normal(n * n, 11)), b(Normal(n * n, 12)), c{std::vector<float>(n * n)};
  GemmParams p;
  p.m = p.n = p.k = n;
  GemmParams g = p;
  p.a = a.h(), p.b = b.h(), p.c = c.h();
  g.a = a.d(), g.b = b.d(), g.c = c.d();
  GpuVsCpu(
      state, [](const Device& dev, const GemmParams& x) { return Gemm(dev, x); }, g, p);
  state.counters["gpu_TFLOPs"] =
      benchmark::Counter(2.0 * n * n * n * 1e-12, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_GpuGemm)
    ->ArgNames({"n"})
    ->Arg(1024)
    ->Arg(4096)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

}  // namespace
}  // namespace recsys::kernels::bench
BENCHMARK_MAIN();
