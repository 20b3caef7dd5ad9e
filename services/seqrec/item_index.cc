#include "services/seqrec/item_index.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "services/common/logging.h"

namespace recsys::seqrec {
namespace {

// Rows appended per upload call: well under the store's max_batch_items (10,000).
constexpr int64_t kUploadRows = 4096;

int32_t TableDim(const SeqRecModel& model) {
  return static_cast<int32_t>(model.hidden() + (model.bias() != nullptr ? 1 : 0));
}

}  // namespace

std::string ItemIndex::TableName(const std::string& model) {
  std::string name = "seqrec-";
  for (char c : model) {
    const char lower = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    const bool ok = (lower >= 'a' && lower <= 'z') || (lower >= '0' && lower <= '9') ||
                    lower == '_' || lower == '-';
    name.push_back(ok ? lower : '-');
  }
  return name.substr(0, 64);
}

absl::Status ItemIndex::CheckPublished(store::FeatureStore& store, const std::string& table,
                                       int64_t version, const SeqRecModel& model) {
  // A few rows spread over the catalogue: a rewritten version directory (other weights under
  // the same version number) must not be served from the stale index.
  std::vector<int64_t> rows, ids;
  for (int64_t i = 0; i < 8; ++i) rows.push_back(1 + i * (model.num_items() - 1) / 7);
  for (int64_t r : rows) ids.push_back(model.ItemId(r));
  RECSYS_ASSIGN_OR_RETURN(store::EmbeddingRows stored, store.GetEmbeddings(table, version, ids));
  const int64_t d = model.hidden(), dim = TableDim(model);
  if (stored.dim != dim || !stored.missing.empty() || stored.item_ids.size() != ids.size()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the feature store's table '", table, "' version ", version, " does not match the "
        "loaded model (dim ", stored.dim, ", expected ", dim, ", or items missing)"));
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    const float* got = stored.values.data() + static_cast<int64_t>(i) * dim;
    const float* want = model.table().data() + rows[i] * d;
    bool same = std::equal(want, want + d, got);
    if (dim > d) same = same && got[d] == model.bias()[rows[i]];  // the bias column
    if (!same) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the feature store's table '", table, "' version ", version,
          " holds other embeddings than the loaded model (was the version directory "
          "rewritten? model versions are immutable; export a new version)"));
    }
  }
  return absl::OkStatus();
}

absl::Status ItemIndex::Publish(store::FeatureStore& store, const std::string& table,
                                int64_t version, const SeqRecModel& model) {
  store::TableSpec spec;
  spec.name = table;
  spec.version = version;
  spec.dim = TableDim(model);
  spec.index = spec_;
  absl::StatusOr<std::unique_ptr<store::EmbeddingUpload>> upload = store.BeginEmbeddingUpload(spec);
  // An earlier run of this server, or another replica, published this version already.
  if (upload.status().code() == absl::StatusCode::kAlreadyExists) {
    return CheckPublished(store, table, version, model);
  }
  if (!upload.ok()) return upload.status();
  const int64_t d = model.hidden(), dim = spec.dim;
  std::vector<int64_t> ids;
  std::vector<float> rows;
  for (int64_t first = 1; first <= model.num_items(); first += kUploadRows) {
    const int64_t last = std::min(model.num_items(), first + kUploadRows - 1);
    ids.clear();
    rows.clear();
    for (int64_t r = first; r <= last; ++r) {
      ids.push_back(model.ItemId(r));
      const float* e = model.table().data() + r * d;
      rows.insert(rows.end(), e, e + d);
      if (dim > d) rows.push_back(model.bias()[r]);
    }
    RECSYS_RETURN_IF_ERROR((*upload)->Append(ids, rows));
  }
  RECSYS_ASSIGN_OR_RETURN(store::TableInfo info, (*upload)->Finish());
  log::Info("published item table", {{"table", table}, {"version", absl::StrCat(version)},
                                     {"rows", absl::StrCat(model.num_items())}});
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::vector<std::pair<int64_t, float>>>> ItemIndex::Search(
    store::FeatureStore& store, const std::string& model_name, int64_t version,
    const SeqRecModel& model, const std::vector<float>& user_vectors,
    const std::vector<IndexQuery>& queries) {
  const std::string table = TableName(model_name);
  std::shared_ptr<Publication> publication;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::shared_ptr<Publication>& slot = published_[{table, version}];
    if (slot == nullptr) slot = std::make_shared<Publication>();
    publication = slot;
  }
  {
    std::lock_guard<std::mutex> lock(publication->mu);  // later callers wait for the upload
    if (!publication->done) {
      absl::Status published = Publish(store, table, version, model);
      if (!published.ok()) {
        return absl::Status(published.code(),
                            absl::StrCat("publishing the item table '", table, "' version ",
                                         version, " to the feature store: ",
                                         published.message()));
      }
      publication->done = true;
    }
  }
  const int64_t d = model.hidden(), dim = TableDim(model);
  std::vector<store::NeighborQuery> neighbor_queries(queries.size());
  for (size_t q = 0; q < queries.size(); ++q) {
    store::NeighborQuery& n = neighbor_queries[q];
    n.vector.assign(user_vectors.begin() + static_cast<int64_t>(q) * d,
                    user_vectors.begin() + static_cast<int64_t>(q + 1) * d);
    if (dim > d) n.vector.push_back(1.0f);  // picks up the bias column
    n.k = queries[q].k;
    n.exclude_item_ids = queries[q].exclude_item_ids;
    n.include_category_ids = queries[q].include_category_ids;
  }
  RECSYS_ASSIGN_OR_RETURN(store::NeighborResults found,
                          store.SearchNeighbors(table, version, neighbor_queries));
  std::vector<std::vector<std::pair<int64_t, float>>> out(queries.size());
  for (size_t q = 0; q < queries.size() && q < found.results.size(); ++q) {
    for (const store::Neighbor& n : found.results[q]) out[q].emplace_back(n.item_id, n.score);
  }
  return out;
}

}  // namespace recsys::seqrec
