#include "recsys/kernels/topk.h"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "kernels/cpu/running_topk.h"
#include "kernels/cuda/cuda_ops.h"
#include "kernels/src/check.h"

namespace recsys::kernels {
namespace {

using internal::CheckNonNegative;
using internal::CheckPointer;
using internal::CheckPositive;
using internal::Invalid;

constexpr char kOp[] = "CatalogTopK";
using internal::Better;
using internal::Candidate;
using internal::RunningTopK;
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// Threads split the catalogue and each scores its item ranges with its own small sgemm calls.
// OpenBLAS (pthread build) runs an sgemm with m*n*k <= 2^18 on the calling thread; larger
// calls wake its own pool, whose spinning threads then compete with ours for the cores
// (alternating one big sgemm with an OpenMP merge measured 15-60x slower), so every call
// stays under that size.
constexpr int64_t kSingleThreadGemmWork = int64_t{1} << 18;
constexpr int64_t kMaxUsersPerPass = 64;
constexpr int64_t kMinItemsPerGemm = 16;
constexpr int64_t kMaxItemsPerGemm = 4096;
// Items per OpenMP task: large enough to amortise scheduling, small enough to balance.
constexpr int64_t kMaxItemsPerTask = 8192;
// Bound on the candidates held per pass (16 bytes each, per thread and user), so a large k
// shrinks the pass instead of memory growing with threads * batch * k.
constexpr int64_t kMaxHeldCandidates = int64_t{1} << 22;
// Below this many scores per pass, threads cost more than they save.
constexpr int64_t kMinParallelScores = int64_t{1} << 15;

// How one call is cut up; see the constants above.
struct Plan {
  size_t capacity = 0;         // candidates kept per user and thread: min(k, num_items)
  int64_t users_per_pass = 0;  // users scored together (the sgemm m)
  int64_t items_per_gemm = 0;  // the sgemm n
  int64_t items_per_task = 0;  // a multiple of items_per_gemm
  int threads = 1;
};

Plan MakePlan(const CatalogTopKParams& p) {
  Plan plan;
  plan.capacity = static_cast<size_t>(std::min(p.k, p.num_items));
  plan.threads = std::max(1, omp_get_max_threads());
  const int64_t dim = std::max<int64_t>(p.dim, 1);
  const int64_t held = (2 * static_cast<int64_t>(plan.capacity) + 16) * plan.threads;
  plan.users_per_pass = std::clamp<int64_t>(
      std::min(kSingleThreadGemmWork / (kMinItemsPerGemm * dim), kMaxHeldCandidates / held), 1,
      std::min(kMaxUsersPerPass, p.batch));
  plan.items_per_gemm = std::clamp<int64_t>(kSingleThreadGemmWork / (plan.users_per_pass * dim),
                                            kMinItemsPerGemm, kMaxItemsPerGemm);
  // Enough tasks for every thread to get a few, even for a small catalogue.
  const int64_t per_task =
      std::clamp<int64_t>(p.num_items / (4 * plan.threads), plan.items_per_gemm, kMaxItemsPerTask);
  plan.items_per_task = per_task / plan.items_per_gemm * plan.items_per_gemm;
  return plan;
}

// scratch[u, j] = users[u0 + u] . items[j0 + j] for nu users and nb items.
void ScoreBlock(const CatalogTopKParams& p, int64_t u0, int64_t nu, int64_t j0, int64_t nb,
                float* scratch) {
  if (p.dim == 0) {
    std::fill(scratch, scratch + nu * nb, 0.0f);
    return;
  }
  const blasint dim = static_cast<blasint>(p.dim);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<blasint>(nu),
              static_cast<blasint>(nb), dim, 1.0f, p.users + u0 * p.dim, dim, p.items + j0 * p.dim,
              dim, 0.0f, scratch, static_cast<blasint>(nb));
}

// Users [u0, u0 + nu) against the whole catalogue, written to the outputs.
class Pass {
 public:
  Pass(const CatalogTopKParams& p, const Plan& plan, int64_t u0, int64_t nu)
      : p_(p), plan_(plan), u0_(u0), nu_(nu), excluded_(nu), running_(plan.threads) {}

  void Run() {
    const bool parallel = nu_ * p_.num_items >= kMinParallelScores;
#pragma omp parallel num_threads(plan_.threads) if (parallel)
    {
      std::vector<RunningTopK>& mine = running_[omp_get_thread_num()];
      mine.resize(nu_);
      for (RunningTopK& r : mine) r.Reset(plan_.capacity);
      std::vector<float> scratch(nu_ * plan_.items_per_gemm);
#pragma omp for schedule(static)
      for (int64_t u = 0; u < nu_; ++u) CollectExclusions(u);
      const int64_t tasks = (p_.num_items + plan_.items_per_task - 1) / plan_.items_per_task;
#pragma omp for schedule(dynamic, 1)
      for (int64_t t = 0; t < tasks; ++t) {
        const int64_t begin = t * plan_.items_per_task;
        ScanItems(begin, std::min(begin + plan_.items_per_task, p_.num_items), scratch, mine);
      }
#pragma omp for schedule(static)
      for (int64_t u = 0; u < nu_; ++u) Finish(u);
    }
  }

 private:
  // Sorted, unique, in-range excluded rows of user u0 + u.
  void CollectExclusions(int64_t u) {
    std::vector<int64_t>& out = excluded_[u];
    if (p_.exclude_offsets == nullptr) return;
    const int64_t b = u0_ + u;
    for (int64_t e = p_.exclude_offsets[b]; e < p_.exclude_offsets[b + 1]; ++e) {
      const int64_t id = p_.exclude_ids[e];
      if (id >= 0 && id < p_.num_items) out.push_back(id);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
  }

  void ScanItems(int64_t begin, int64_t end, std::vector<float>& scratch,
                 std::vector<RunningTopK>& mine) {
    for (int64_t j0 = begin; j0 < end; j0 += plan_.items_per_gemm) {
      const int64_t nb = std::min(plan_.items_per_gemm, end - j0);
      ScoreBlock(p_, u0_, nu_, j0, nb, scratch.data());
      const float* bias = p_.item_bias != nullptr ? p_.item_bias + j0 : zeros_.data();
      for (int64_t u = 0; u < nu_; ++u) {
        mine[u].Merge(scratch.data() + u * nb, bias, j0, nb, excluded_[u]);
      }
    }
  }

  // Merges every thread's candidates for user u0 + u and writes them best first, padded.
  void Finish(int64_t u) {
    std::vector<Candidate> all;
    for (std::vector<RunningTopK>& per_user : running_) {
      if (per_user.empty()) continue;  // a thread that ran no part of the region
      const std::vector<Candidate>& c = per_user[u].candidates();
      all.insert(all.end(), c.begin(), c.end());
    }
    const int64_t kept = std::min<int64_t>(p_.k, static_cast<int64_t>(all.size()));
    std::partial_sort(all.begin(), all.begin() + kept, all.end(), Better);
    int64_t* ids = p_.out_ids + (u0_ + u) * p_.k;
    float* scores = p_.out_scores + (u0_ + u) * p_.k;
    for (int64_t i = 0; i < p_.k; ++i) {
      ids[i] = i < kept ? all[i].row : -1;
      scores[i] = i < kept ? all[i].score : kNegInf;
    }
  }

  const CatalogTopKParams& p_;
  const Plan& plan_;
  const int64_t u0_, nu_;
  std::vector<std::vector<int64_t>> excluded_;                                   // [user]
  std::vector<std::vector<RunningTopK>> running_;                                // [thread][user]
  const std::vector<float> zeros_ = std::vector<float>(kMaxItemsPerGemm, 0.0f);  // no bias
};

// a * b for non-negative a and b, saturating so an absurd shape cannot wrap past a pointer
// check.
int64_t Elements(int64_t a, int64_t b) {
  int64_t out;
  return __builtin_mul_overflow(a, b, &out) ? std::numeric_limits<int64_t>::max() : out;
}

absl::Status CheckExclusions(const CatalogTopKParams& p) {
  if (p.exclude_offsets == nullptr) {
    if (p.exclude_ids != nullptr) {
      return Invalid(kOp, "exclude_offsets", "is null but exclude_ids is set");
    }
    return absl::OkStatus();
  }
  if (p.exclude_offsets[0] != 0) {
    return Invalid(kOp, "exclude_offsets[0]",
                   absl::StrCat("(", p.exclude_offsets[0], ") must be 0"));
  }
  for (int64_t b = 0; b < p.batch; ++b) {
    if (p.exclude_offsets[b + 1] < p.exclude_offsets[b]) {
      const std::string field = absl::StrCat("exclude_offsets[", b + 1, "]");
      return Invalid(kOp, field.c_str(),
                     absl::StrCat("(", p.exclude_offsets[b + 1], ") must be >= exclude_offsets[", b,
                                  "] (", p.exclude_offsets[b], ")"));
    }
  }
  return CheckPointer(kOp, "exclude_ids", p.exclude_ids, p.exclude_offsets[p.batch]);
}

absl::Status CheckParams(const Device& device, const CatalogTopKParams& p) {
  RECSYS_RETURN_IF_ERROR(CheckDevice(device));
  RECSYS_RETURN_IF_ERROR(CheckNonNegative(kOp, "batch", p.batch));
  RECSYS_RETURN_IF_ERROR(CheckNonNegative(kOp, "num_items", p.num_items));
  RECSYS_RETURN_IF_ERROR(CheckNonNegative(kOp, "dim", p.dim));
  RECSYS_RETURN_IF_ERROR(CheckPositive(kOp, "k", p.k));
  if (p.dim > std::numeric_limits<blasint>::max()) {
    return Invalid(kOp, "dim", absl::StrCat("(", p.dim, ") exceeds the BLAS int range"));
  }
  const struct {
    const char* name;
    const void* ptr;
    int64_t elements;
  } tensors[] = {{"users", p.users, Elements(p.batch, p.dim)},
                 {"items", p.items, Elements(p.num_items, p.dim)},
                 {"out_ids", p.out_ids, Elements(p.batch, p.k)},
                 {"out_scores", p.out_scores, Elements(p.batch, p.k)}};
  for (const auto& t : tensors) {
    RECSYS_RETURN_IF_ERROR(CheckPointer(kOp, t.name, t.ptr, t.elements));
  }
  // CUDA offsets live in device memory: CatalogTopKOnCuda checks a host copy of them.
  return device.backend == Backend::kCpu ? CheckExclusions(p) : absl::OkStatus();
}

absl::Status CatalogTopKOnCuda(const Device& device, const CatalogTopKParams& p) {
  if (p.exclude_offsets != nullptr) {
    RECSYS_RETURN_IF_ERROR(
        cuda::CheckDeviceMemory(kOp, "exclude_offsets", device, p.exclude_offsets));
    std::vector<int64_t> offsets(static_cast<size_t>(p.batch + 1));
    RECSYS_RETURN_IF_ERROR(cuda::CopyToHost(device, offsets.data(), p.exclude_offsets,
                                            sizeof(int64_t) * (p.batch + 1)));
    CatalogTopKParams host_view = p;
    host_view.exclude_offsets = offsets.data();
    RECSYS_RETURN_IF_ERROR(CheckExclusions(host_view));
  } else if (p.exclude_ids != nullptr) {
    return Invalid(kOp, "exclude_offsets", "is null but exclude_ids is set");
  }
  return cuda::CatalogTopK(device, p);
}

}  // namespace

absl::Status CatalogTopK(const Device& device, const CatalogTopKParams& params) {
  RECSYS_RETURN_IF_ERROR(CheckParams(device, params));
  if (params.batch == 0) return absl::OkStatus();
  if (device.backend == Backend::kCuda) return CatalogTopKOnCuda(device, params);
  const Plan plan = MakePlan(params);
  for (int64_t u0 = 0; u0 < params.batch; u0 += plan.users_per_pass) {
    Pass(params, plan, u0, std::min(plan.users_per_pass, params.batch - u0)).Run();
  }
  return absl::OkStatus();
}

}  // namespace recsys::kernels
