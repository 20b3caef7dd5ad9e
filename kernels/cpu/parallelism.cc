#include "recsys/kernels/parallelism.h"

#include <omp.h>

#include <algorithm>
#include <atomic>

namespace recsys::kernels {
namespace {

std::atomic<int> budget{0};        // 0 = the default
std::atomic<int> in_flight{0};     // open ComputeScopes, in every thread

int DefaultBudget() {
  static const int threads = std::max(1, omp_get_max_threads());  // before any scope changes it
  return threads;
}

}  // namespace

void SetIntraOpBudget(int threads) { budget = std::max(0, threads); }

int IntraOpBudget() {
  const int set = budget.load();
  return set > 0 ? set : DefaultBudget();
}

int IntraOpThreadsHere() { return omp_get_max_threads(); }

void UseIntraOpBudgetHere() { omp_set_num_threads(IntraOpBudget()); }

ComputeScope::ComputeScope(int want) {
  const int total = IntraOpBudget();
  const int sharing = in_flight.fetch_add(1) + 1;
  threads_ = std::max(1, std::min(want > 0 ? want : total, total / sharing));
  previous_ = omp_get_max_threads();
  omp_set_num_threads(threads_);  // this thread's regions only (a per-thread setting)
}

ComputeScope::~ComputeScope() {
  omp_set_num_threads(previous_);
  in_flight.fetch_sub(1);
}

}  // namespace recsys::kernels
