// How many threads the CPU kernels' parallel regions use, decided in one place.
//
// The process has an intra-op budget: the threads all kernel computations in flight may use
// together (default: OpenMP's team size, i.e. OMP_NUM_THREADS or the cores this process may
// run on). A computation (one batch's forward pass, say) opens a ComputeScope on its thread;
// while it lives, the OpenMP regions started on that thread use its share: what it asks for,
// at most the budget divided by the computations in flight, at least 1. So concurrent
// batches share the cores instead of each starting a full team, and a lone large batch still
// uses them all.
//
//   kernels::ComputeScope scope(kernels::IntraOpBudget());  // or less, when the caller knows
//   model.Forward(...);                                     // better (a batcher under load)
#pragma once

namespace recsys::kernels {

// Sets the budget; threads <= 0 restores the default. Scopes opened later use it.
void SetIntraOpBudget(int threads);
int IntraOpBudget();

// The team size a parallel region started on this thread would get now.
int IntraOpThreadsHere();

// Caps this thread's OpenMP teams at the budget outside any ComputeScope: for the threads of
// a pool (a server's handler threads) whose calls reach OpenMP code (FAISS, the kernels)
// without a scope. Call once, first thing on the thread.
void UseIntraOpBudgetHere();

class ComputeScope {
 public:
  // want: threads this computation would use alone (<= 0: the whole budget).
  explicit ComputeScope(int want = 0);
  ~ComputeScope();
  ComputeScope(const ComputeScope&) = delete;
  ComputeScope& operator=(const ComputeScope&) = delete;

  // The threads its parallel regions use (fixed when the scope opens).
  int threads() const { return threads_; }

 private:
  int threads_ = 1;
  int previous_ = 1;  // the thread's team size before, restored on close
};

}  // namespace recsys::kernels
