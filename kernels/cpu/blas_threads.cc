// One CPU thread pool per process. The Debian OpenBLAS is the pthread build: it keeps its own
// pool beside the OpenMP team the kernels (and FAISS) run on, and on a small machine the two
// spin against each other (SASRec at batch 256 spent a third of its time in libgomp's spin
// loop). So OpenBLAS runs on its caller's thread, and large GEMMs are split over the OpenMP
// team by the kernels themselves (cpu/gemm.cc).
#include <cblas.h>

#include <cstdlib>
#include <mutex>

#include "recsys/kernels/context.h"

namespace recsys::kernels {

void UseOneThreadPool() {
  static std::once_flag once;
  std::call_once(once, [] {
    // An explicit OPENBLAS_NUM_THREADS is the operator's choice; keep it.
    if (std::getenv("OPENBLAS_NUM_THREADS") == nullptr) openblas_set_num_threads(1);
  });
}

}  // namespace recsys::kernels
