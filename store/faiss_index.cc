#include "store/faiss_index.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/impl/AuxIndexStructures.h>
#include <faiss/impl/FaissException.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/index_io.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

namespace recsys::store {
namespace {

faiss::MetricType FaissMetric(Metric metric) {
  return metric == Metric::kL2 ? faiss::METRIC_L2 : faiss::METRIC_INNER_PRODUCT;
}

int32_t OrDefault(int32_t value, int32_t fallback) { return value > 0 ? value : fallback; }

// Rows a search may return: not excluded, and of an included category when any are given.
class RowFilter : public faiss::IDSelector {
 public:
  RowFilter(absl::flat_hash_set<int64_t> excluded_rows, absl::flat_hash_set<int64_t> categories,
            const std::vector<int64_t>* row_categories)
      : excluded_rows_(std::move(excluded_rows)),
        categories_(std::move(categories)),
        row_categories_(row_categories) {}
  bool is_member(faiss::Index::idx_t row) const override {
    if (excluded_rows_.contains(row)) return false;
    return categories_.empty() || categories_.contains((*row_categories_)[row]);
  }

 private:
  absl::flat_hash_set<int64_t> excluded_rows_;
  absl::flat_hash_set<int64_t> categories_;
  const std::vector<int64_t>* row_categories_;
};

// The per-search knobs of the index type (nprobe, efSearch), as FAISS search parameters.
class SearchKnobs {
 public:
  SearchKnobs(const TableSpec& spec, int32_t k) {
    if (spec.index.type == IndexType::kIvfFlat) {
      ivf_.nprobe = OrDefault(spec.index.nprobe, 16);
      params_ = &ivf_;
    } else if (spec.index.type == IndexType::kHnsw) {
      hnsw_.efSearch = std::max(OrDefault(spec.index.ef_search, 64), k);
      params_ = &hnsw_;
    }
  }
  faiss::SearchParameters* params() { return params_; }

 private:
  faiss::SearchParametersIVF ivf_;
  faiss::SearchParametersHNSW hnsw_;
  faiss::SearchParameters flat_;
  faiss::SearchParameters* params_ = &flat_;
};

}  // namespace

FaissIndex::FaissIndex(const TableSpec& spec, std::unique_ptr<faiss::Index> index,
                       std::vector<int64_t> item_ids, std::vector<int64_t> categories)
    : spec_(spec),
      index_(std::move(index)),
      item_ids_(std::move(item_ids)),
      categories_(std::move(categories)) {
  // This FAISS version's HNSW search reads efSearch from the index, not from the per-call
  // SearchParametersHNSW; set it once here (searches only read it).
  if (auto* hnsw = dynamic_cast<faiss::IndexHNSW*>(index_.get())) {
    hnsw->hnsw.efSearch = OrDefault(spec_.index.ef_search, 64);
  }
  row_of_.reserve(item_ids_.size());
  for (size_t row = 0; row < item_ids_.size(); ++row) row_of_[item_ids_[row]] = row;
}

FaissIndex::~FaissIndex() = default;

absl::StatusOr<std::unique_ptr<FaissIndex>> FaissIndex::Build(const TableSpec& spec,
                                                              std::vector<int64_t> item_ids,
                                                              const std::vector<float>& rows,
                                                              std::vector<int64_t> categories) {
  const int64_t n = static_cast<int64_t>(item_ids.size());
  const faiss::MetricType metric = FaissMetric(spec.index.metric);
  std::unique_ptr<faiss::Index> index;
  try {
    switch (spec.index.type) {
      case IndexType::kFlat:
        index = std::make_unique<faiss::IndexFlat>(spec.dim, metric);
        break;
      case IndexType::kIvfFlat: {
        const int64_t nlist = std::clamp<int64_t>(
            spec.index.nlist > 0 ? spec.index.nlist
                                 : static_cast<int64_t>(4 * std::sqrt(static_cast<double>(n))),
            1, std::max<int64_t>(1, n));
        auto quantizer = std::make_unique<faiss::IndexFlat>(spec.dim, metric);
        auto ivf =
            std::make_unique<faiss::IndexIVFFlat>(quantizer.release(), spec.dim, nlist, metric);
        ivf->own_fields = true;
        ivf->cp.min_points_per_centroid = 1;  // small tables train without a warning storm
        if (n > 0) ivf->train(n, rows.data());
        index = std::move(ivf);
        break;
      }
      case IndexType::kHnsw: {
        auto hnsw = std::make_unique<faiss::IndexHNSWFlat>(
            spec.dim, OrDefault(spec.index.hnsw_m, 32), metric);
        hnsw->hnsw.efConstruction = 128;  // FAISS's 40 caps recall well below 0.95
        index = std::move(hnsw);
        break;
      }
    }
    if (n > 0) index->add(n, rows.data());
  } catch (const faiss::FaissException& e) {
    return absl::InternalError(absl::StrCat("building the FAISS index of ", spec.name, " v",
                                            spec.version, ": ", e.what()));
  }
  return std::unique_ptr<FaissIndex>(
      new FaissIndex(spec, std::move(index), std::move(item_ids), std::move(categories)));
}

absl::StatusOr<std::unique_ptr<FaissIndex>> FaissIndex::Load(const TableSpec& spec,
                                                             const std::string& path,
                                                             std::vector<int64_t> item_ids,
                                                             std::vector<int64_t> categories) {
  std::unique_ptr<faiss::Index> index;
  try {
    index.reset(faiss::read_index(path.c_str()));
  } catch (const faiss::FaissException& e) {
    return absl::DataLossError(absl::StrCat("reading FAISS index ", path, ": ", e.what()));
  }
  if (index->ntotal != static_cast<faiss::Index::idx_t>(item_ids.size()) || index->d != spec.dim) {
    return absl::DataLossError(absl::StrCat("FAISS index ", path, " has ", index->ntotal,
                                            " rows of dim ", index->d, "; the store has ",
                                            item_ids.size(), " of dim ", spec.dim));
  }
  return std::unique_ptr<FaissIndex>(
      new FaissIndex(spec, std::move(index), std::move(item_ids), std::move(categories)));
}

absl::Status FaissIndex::Save(const std::string& path) const {
  const std::string temporary = path + ".tmp";
  try {
    faiss::write_index(index_.get(), temporary.c_str());
  } catch (const faiss::FaissException& e) {
    return absl::UnavailableError(absl::StrCat("writing FAISS index ", temporary, ": ", e.what()));
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    return absl::UnavailableError(absl::StrCat("renaming ", temporary, " to ", path));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::vector<Neighbor>>> FaissIndex::SearchBatch(const float* queries,
                                                                           int64_t n,
                                                                           int32_t k) const {
  SearchKnobs knobs(spec_, k);
  std::vector<float> distances(static_cast<size_t>(n) * k);
  std::vector<faiss::Index::idx_t> labels(static_cast<size_t>(n) * k);
  try {
    index_->search(n, queries, k, distances.data(), labels.data(), knobs.params());
  } catch (const faiss::FaissException& e) {
    return absl::InternalError(absl::StrCat("FAISS search of ", spec_.name, ": ", e.what()));
  }
  std::vector<std::vector<Neighbor>> out(static_cast<size_t>(n));
  for (int64_t q = 0; q < n; ++q) {
    out[q].reserve(k);
    for (int32_t i = 0; i < k; ++i) {
      const faiss::Index::idx_t label = labels[q * k + i];
      if (label < 0) break;
      out[q].push_back({item_ids_[label], distances[q * k + i]});
    }
  }
  return out;
}

int64_t FaissIndex::RowOf(int64_t item_id) const {
  const auto it = row_of_.find(item_id);
  return it == row_of_.end() ? -1 : it->second;
}

absl::StatusOr<std::vector<Neighbor>> FaissIndex::Search(
    const float* query, int32_t k, const std::vector<int64_t>& exclude_item_ids,
    const std::vector<int64_t>& include_categories, int64_t exclude_row) const {
  absl::flat_hash_set<int64_t> excluded_rows;
  if (exclude_row >= 0) excluded_rows.insert(exclude_row);
  for (int64_t id : exclude_item_ids) {
    if (const int64_t row = RowOf(id); row >= 0) excluded_rows.insert(row);
  }
  const bool filtered = !excluded_rows.empty() || !include_categories.empty();
  RowFilter filter(
      std::move(excluded_rows),
      absl::flat_hash_set<int64_t>(include_categories.begin(), include_categories.end()),
      &categories_);
  SearchKnobs knobs(spec_, k);
  faiss::SearchParameters* params = knobs.params();
  if (filtered) params->sel = &filter;
  std::vector<float> distances(k);
  std::vector<faiss::Index::idx_t> labels(k);
  try {
    index_->search(1, query, k, distances.data(), labels.data(), params);
  } catch (const faiss::FaissException& e) {
    return absl::InternalError(absl::StrCat("FAISS search of ", spec_.name, ": ", e.what()));
  }
  std::vector<Neighbor> neighbors;
  for (int32_t i = 0; i < k; ++i) {
    if (labels[i] < 0) break;  // fewer eligible rows than k
    neighbors.push_back({item_ids_[labels[i]], distances[i]});
  }
  return neighbors;
}

}  // namespace recsys::store
