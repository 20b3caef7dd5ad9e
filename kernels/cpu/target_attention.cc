// CPU target attention with top-K: chunks of candidates are scored against blocks of history
// with small sgemms (the two-part scale is folded into a pre-scaled copy of the queries), and
// each candidate's scores go straight into its own lazily cut K-best buffer. Scratch per
// thread is O(chunk * block); nothing is O(C * L).
#include "recsys/kernels/target_attention.h"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/cpu/running_topk.h"
#include "kernels/cuda/cuda_ops.h"
#include "kernels/src/check.h"

namespace recsys::kernels {
namespace {

constexpr char kOp[] = "TargetAttentionTopK";
// A chunk of candidates against a block of history is one sgemm run inside our OpenMP
// threads (OpenBLAS itself is held to the calling thread: blas_threads.cc). sgemm packs the
// key block on every call, so the chunk is wide: with 16 candidates packing took 40% of the
// time at C = 1000, L = 10^5; 128 x 256 scores (128 KiB) still sit in L2.
constexpr int64_t kCandidateChunk = 128;
constexpr int64_t kHistoryBlock = 256;

using internal::Better;
using internal::Candidate;
using internal::RunningTopK;

absl::Status Validate(const Device& device, const TargetAttentionParams& p) {
  using internal::CheckNonNegative;
  using internal::CheckPointer;
  RECSYS_RETURN_IF_ERROR(CheckDevice(device));
  for (const auto& [name, value] :
       {std::pair<const char*, int64_t>{"num_candidates", p.num_candidates},
        {"history_len", p.history_len},
        {"att_dim", p.att_dim},
        {"value_dim", p.value_dim},
        {"split_dim", p.split_dim}}) {
    RECSYS_RETURN_IF_ERROR(CheckNonNegative(kOp, name, value));
  }
  RECSYS_RETURN_IF_ERROR(internal::CheckPositive(kOp, "top_k", p.top_k));
  if (p.split_dim > p.att_dim) {
    return internal::Invalid(kOp, "split_dim",
                             absl::StrCat("(", p.split_dim, ") exceeds att_dim (", p.att_dim, ")"));
  }
  if (!std::isfinite(p.scale0) || !std::isfinite(p.scale1) || p.scale0 < 0 || p.scale1 < 0) {
    return internal::Invalid(kOp, "scale0/scale1", "must be finite and >= 0");
  }
  const int64_t c = p.num_candidates, l = p.history_len;
  RECSYS_RETURN_IF_ERROR(CheckPointer(kOp, "queries", p.queries, c * p.att_dim));
  RECSYS_RETURN_IF_ERROR(CheckPointer(kOp, "keys", p.keys, l * p.att_dim));
  RECSYS_RETURN_IF_ERROR(CheckPointer(kOp, "values", p.values, l * p.value_dim));
  RECSYS_RETURN_IF_ERROR(CheckPointer(kOp, "out", p.out, c * p.value_dim));
  RECSYS_RETURN_IF_ERROR(CheckPointer(kOp, "selected", p.selected, c));
  RECSYS_RETURN_IF_ERROR(CheckPointer(kOp, "weights", p.weights, c));
  return absl::OkStatus();
}

// queries with each part multiplied by its scale, so one dot product gives the score.
std::vector<float> ScaledQueries(const TargetAttentionParams& p) {
  const int64_t split = p.split_dim == 0 ? p.att_dim : p.split_dim;
  const int64_t rest = p.att_dim - split;
  const float scale0 = p.scale0 > 0 ? p.scale0 : 1.0f / std::sqrt(static_cast<float>(split));
  const float scale1 =
      rest == 0 ? 0.0f : (p.scale1 > 0 ? p.scale1 : 1.0f / std::sqrt(static_cast<float>(rest)));
  std::vector<float> scaled(static_cast<size_t>(p.num_candidates * p.att_dim));
  for (int64_t c = 0; c < p.num_candidates; ++c) {
    for (int64_t d = 0; d < p.att_dim; ++d) {
      scaled[c * p.att_dim + d] = p.queries[c * p.att_dim + d] * (d < split ? scale0 : scale1);
    }
  }
  return scaled;
}

// scores[c, j] = queries[c] . keys[j0 + j] for a chunk of candidates and a block of history.
void ScoreBlock(const TargetAttentionParams& p, const float* queries, int64_t rows, int64_t j0,
                int64_t cols, float* scores) {
  if (p.att_dim == 0) {
    std::fill(scores, scores + rows * cols, 0.0f);
    return;
  }
  if (rows == 1) {  // a matrix-vector product: sgemm would pack the key block for one row
    cblas_sgemv(CblasRowMajor, CblasNoTrans, static_cast<int>(cols), static_cast<int>(p.att_dim),
                1.0f, p.keys + j0 * p.att_dim, static_cast<int>(p.att_dim), queries, 1, 0.0f,
                scores, 1);
    return;
  }
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(rows),
              static_cast<int>(cols), static_cast<int>(p.att_dim), 1.0f, queries,
              static_cast<int>(p.att_dim), p.keys + j0 * p.att_dim, static_cast<int>(p.att_dim),
              0.0f, scores, static_cast<int>(cols));
}

// Softmax over the selected scores, weighted sum of their values, padded outputs. hits: best
// first; a -inf (or NaN) score is not a pick.
void Finish(const TargetAttentionParams& p, int64_t c, const std::vector<Candidate>& hits) {
  const int64_t k = p.top_k;
  const int64_t picked = std::find_if(hits.begin(), hits.end(),
                                      [](const Candidate& h) {
                                        return h.score == -std::numeric_limits<float>::infinity();
                                      }) -
                         hits.begin();
  float* out = p.out + c * p.value_dim;
  std::fill(out, out + p.value_dim, 0.0f);
  double total = 0;
  std::vector<double> w(static_cast<size_t>(picked));
  for (int64_t i = 0; i < picked; ++i) {
    w[i] = std::exp(static_cast<double>(hits[i].score) - hits.front().score);
    total += w[i];
  }
  for (int64_t i = 0; i < k; ++i) {
    const bool real = i < picked;
    const float weight = real ? static_cast<float>(w[i] / total) : 0.0f;
    p.selected[c * k + i] = real ? hits[i].row : -1;
    p.weights[c * k + i] = weight;
    if (p.scores != nullptr) {
      p.scores[c * k + i] = real ? hits[i].score : -std::numeric_limits<float>::infinity();
    }
    if (!real) continue;
    const float* value = p.values + hits[i].row * p.value_dim;
    for (int64_t d = 0; d < p.value_dim; ++d) out[d] += weight * value[d];
  }
}

// The sorted positions whose key_valid is 0 (skipped by every candidate's search).
std::vector<int64_t> MaskedPositions(const TargetAttentionParams& p) {
  std::vector<int64_t> masked;
  if (p.key_valid == nullptr) return masked;
  for (int64_t j = 0; j < p.history_len; ++j) {
    if (p.key_valid[j] == 0) masked.push_back(j);
  }
  return masked;
}

}  // namespace

absl::Status TargetAttentionTopK(const Device& device, const TargetAttentionParams& p) {
  RECSYS_RETURN_IF_ERROR(Validate(device, p));
  const int64_t c_count = p.num_candidates, l = p.history_len;
  if (c_count == 0) return absl::OkStatus();
  if (device.backend == Backend::kCuda) return cuda::TargetAttentionTopK(device, p);
  const std::vector<float> queries = ScaledQueries(p);
  // Work items are (candidate chunk, history slice). With few candidates the history is
  // sliced too, so both cores work even for a single candidate; slices merge at the end.
  const int64_t chunks = (c_count + kCandidateChunk - 1) / kCandidateChunk;
  const int64_t blocks = std::max<int64_t>(1, (l + kHistoryBlock - 1) / kHistoryBlock);
  const int64_t threads = omp_get_max_threads();
  const int64_t slices =
      std::min(blocks, std::max<int64_t>(1, (2 * threads + chunks - 1) / chunks));
  const int64_t blocks_per_slice = (blocks + slices - 1) / slices;
  const std::vector<int64_t> masked = MaskedPositions(p);
  const std::vector<float> zeros(static_cast<size_t>(kHistoryBlock), 0.0f);  // no bias
  std::vector<RunningTopK> running(static_cast<size_t>(c_count * slices));
  for (RunningTopK& r : running) r.Reset(static_cast<size_t>(p.top_k));
#pragma omp parallel if (c_count * l > 16384)
  {
    std::vector<float> scores(static_cast<size_t>(kCandidateChunk * kHistoryBlock));
#pragma omp for schedule(dynamic, 1)
    for (int64_t item = 0; item < chunks * slices; ++item) {
      const int64_t c0 = (item / slices) * kCandidateChunk;
      const int64_t rows = std::min(kCandidateChunk, c_count - c0);
      const int64_t slice = item % slices;
      const int64_t j_end = std::min(l, (slice + 1) * blocks_per_slice * kHistoryBlock);
      for (int64_t j0 = slice * blocks_per_slice * kHistoryBlock; j0 < j_end; j0 += kHistoryBlock) {
        const int64_t cols = std::min(kHistoryBlock, j_end - j0);
        ScoreBlock(p, queries.data() + c0 * p.att_dim, rows, j0, cols, scores.data());
        for (int64_t c = 0; c < rows; ++c) {
          running[(c0 + c) * slices + slice].Merge(scores.data() + c * cols, zeros.data(), j0,
                                                   cols, masked);
        }
      }
    }
#pragma omp for schedule(static)
    for (int64_t c = 0; c < c_count; ++c) {
      std::vector<Candidate> all;
      for (int64_t s = 0; s < slices; ++s) {
        const std::vector<Candidate>& kept = running[c * slices + s].candidates();
        all.insert(all.end(), kept.begin(), kept.end());
      }
      const int64_t kept = std::min<int64_t>(p.top_k, static_cast<int64_t>(all.size()));
      std::partial_sort(all.begin(), all.begin() + kept, all.end(), Better);
      all.resize(static_cast<size_t>(kept));
      Finish(p, c, all);
    }
  }
  return absl::OkStatus();
}

}  // namespace recsys::kernels
