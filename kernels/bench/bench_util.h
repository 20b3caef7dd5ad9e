// Benchmarks report a ratio against a reference measured in the same run on the same machine:
// the benchmark loop times our kernel, then the reference runs on the same inputs, and both
// times plus their ratio become counters (speedup > 1 means ours is faster).
#pragma once

#include <benchmark/benchmark.h>
#include <cblas.h>
#include <omp.h>

#include <chrono>
#include <cstdlib>
#include <string>

namespace recsys::kernels::bench {

template <typename Ours, typename Reference>
void RunWithReference(benchmark::State& state, const std::string& reference_name, Ours&& ours,
                      Reference&& reference) {
  using Clock = std::chrono::steady_clock;
  const auto begin = Clock::now();
  for (auto _ : state) ours();
  const double ours_s = std::chrono::duration<double>(Clock::now() - begin).count() /
                        static_cast<double>(state.iterations());
  // The reference: at least 3 runs and at least 0.2 s, whichever is longer.
  int runs = 0;
  // References that call OpenBLAS get it as shipped, on its own thread pool; the kernels run
  // it on one thread and split over OpenMP themselves (kernels/cpu/blas_threads.cc).
  const bool own_pool = std::getenv("OPENBLAS_NUM_THREADS") == nullptr;
  if (own_pool) openblas_set_num_threads(omp_get_max_threads());
  const auto ref_begin = Clock::now();
  double ref_total = 0;
  while (runs < 3 || ref_total < 0.2) {
    reference();
    ++runs;
    ref_total = std::chrono::duration<double>(Clock::now() - ref_begin).count();
  }
  if (own_pool) openblas_set_num_threads(1);
  const double ref_s = ref_total / runs;
  state.counters["ours_us"] = ours_s * 1e6;
  state.counters[reference_name + "_us"] = ref_s * 1e6;
  state.counters["speedup_vs_" + reference_name] = ref_s / ours_s;
}

}  // namespace recsys::kernels::bench
