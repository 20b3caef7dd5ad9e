#include "services/seqrec/recommend_batch.h"

#include <algorithm>

#include "recsys/kernels/topk.h"

namespace recsys::seqrec {
namespace {

// Requests [first, end) share one model version: one forward, one top-K at their largest k.
void ComputeGroup(absl::Span<const TopKRequest* const> group,
                  std::vector<absl::StatusOr<TopKResult>>* out) {
  const SeqRecModel& model = *group.front()->model;
  std::vector<std::vector<int64_t>> histories;
  std::vector<int64_t> offsets = {0}, excluded;
  int64_t k = 0;
  for (const TopKRequest* r : group) {
    histories.insert(histories.end(), r->histories.begin(), r->histories.end());
    for (size_t u = 0; u + 1 < r->exclude_offsets.size(); ++u) {
      excluded.insert(excluded.end(), r->exclude_rows.begin() + r->exclude_offsets[u],
                      r->exclude_rows.begin() + r->exclude_offsets[u + 1]);
      offsets.push_back(static_cast<int64_t>(excluded.size()));
    }
    k = std::max(k, r->k);
  }
  absl::StatusOr<std::vector<float>> users = model.UserVectors(histories);
  const int64_t batch = static_cast<int64_t>(histories.size());
  std::vector<int64_t> rows(static_cast<size_t>(batch * k));
  std::vector<float> scores(rows.size());
  absl::Status status = users.status();
  if (status.ok()) {
    kernels::CatalogTopKParams top;
    top.users = users->data();
    top.items = model.table().data();
    top.batch = batch;
    top.num_items = model.table_rows();
    top.dim = model.hidden();
    top.k = k;
    top.item_bias = model.bias();
    top.exclude_offsets = offsets.data();
    top.exclude_ids = excluded.data();
    top.out_ids = rows.data();
    top.out_scores = scores.data();
    status = kernels::CatalogTopK(kernels::Device::Cpu(), top);
  }
  int64_t user = 0;
  for (const TopKRequest* r : group) {
    if (!status.ok()) {
      out->emplace_back(status);
      continue;
    }
    TopKResult result;
    for (size_t u = 0; u < r->histories.size(); ++u, ++user) {
      // The first r->k of the user's top k are its top r->k.
      result.rows.insert(result.rows.end(), rows.begin() + user * k,
                         rows.begin() + user * k + r->k);
      result.scores.insert(result.scores.end(), scores.begin() + user * k,
                           scores.begin() + user * k + r->k);
    }
    out->emplace_back(std::move(result));
  }
}

}  // namespace

std::vector<absl::StatusOr<TopKResult>> ComputeTopK(absl::Span<const TopKRequest* const> batch) {
  std::vector<absl::StatusOr<TopKResult>> out;
  for (size_t first = 0; first < batch.size();) {
    size_t end = first + 1;
    while (end < batch.size() && batch[end]->model == batch[first]->model) ++end;
    ComputeGroup(batch.subspan(first, end - first), &out);
    first = end;
  }
  return out;
}

}  // namespace recsys::seqrec
