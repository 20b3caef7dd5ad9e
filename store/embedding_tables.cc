#include "store/embedding_tables.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <iterator>
#include <limits>

#include "absl/strings/str_cat.h"
#include "base/quote.h"
#include "rocksdb/write_batch.h"
#include "store/keys.h"
#include "store/rocksdb_status.h"
#include "store/validate.h"

namespace recsys::store {
namespace {

absl::Status Invalid(const std::string& field, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(field, " ", what));
}

std::string EncodeInfo(const TableInfo& info) {
  std::string v;
  const TableSpec& s = info.spec;
  keys::PutBigEndian64(&v, static_cast<uint64_t>(s.dim));
  keys::PutBigEndian64(&v, static_cast<uint64_t>(s.index.type));
  keys::PutBigEndian64(&v, static_cast<uint64_t>(s.index.metric));
  for (int32_t knob : {s.index.nlist, s.index.nprobe, s.index.hnsw_m, s.index.ef_search}) {
    keys::PutBigEndian64(&v, static_cast<uint64_t>(knob));
  }
  keys::PutBigEndian64(&v, static_cast<uint64_t>(info.rows));
  keys::PutBigEndian64(&v, info.ready ? 1 : 0);
  uint64_t bits;
  std::memcpy(&bits, &info.index_build_seconds, sizeof(bits));
  keys::PutBigEndian64(&v, bits);
  return v;
}

bool DecodeInfo(absl::string_view key, absl::string_view value, TableInfo* info) {
  if (value.size() != 10 * 8 || key.empty()) return false;
  const size_t name_size = static_cast<uint8_t>(key[0]);
  if (key.size() != 1 + name_size + 8) return false;
  TableSpec& s = info->spec;
  s.name.assign(key.data() + 1, name_size);
  s.version = static_cast<int64_t>(keys::GetBigEndian64(key.data() + 1 + name_size));
  auto field = [&](int i) { return keys::GetBigEndian64(value.data() + 8 * i); };
  s.dim = static_cast<int32_t>(field(0));
  s.index.type = static_cast<IndexType>(field(1));
  s.index.metric = static_cast<Metric>(field(2));
  s.index.nlist = static_cast<int32_t>(field(3));
  s.index.nprobe = static_cast<int32_t>(field(4));
  s.index.hnsw_m = static_cast<int32_t>(field(5));
  s.index.ef_search = static_cast<int32_t>(field(6));
  info->rows = static_cast<int64_t>(field(7));
  info->ready = field(8) != 0;
  const uint64_t bits = field(9);
  std::memcpy(&info->index_build_seconds, &bits, sizeof(bits));
  return true;
}

class LocalUpload final : public EmbeddingUpload {
 public:
  LocalUpload(EmbeddingTables* tables, TableSpec spec, std::function<void()> on_end)
      : tables_(tables), spec_(std::move(spec)), on_end_(std::move(on_end)) {}
  ~LocalUpload() override {
    if (!finished_) {  // abandoned: drop the rows written so far
      const std::string begin = EmbeddingTables::VersionKey(spec_.name, spec_.version);
      tables_->db()->DeleteRange(rocksdb::WriteOptions(), tables_->embeddings(), begin,
                                 keys::PrefixEnd(begin));
    }
    on_end_();
  }

  absl::Status Append(absl::Span<const int64_t> item_ids, absl::Span<const float> values) override {
    if (finished_) return absl::FailedPreconditionError("Append after Finish");
    RECSYS_RETURN_IF_ERROR(
        ValidateEmbeddingChunk(spec_.dim, item_ids, values, tables_->limits().max_batch_items));
    rocksdb::WriteBatch batch;
    const std::string prefix = EmbeddingTables::VersionKey(spec_.name, spec_.version);
    for (size_t i = 0; i < item_ids.size(); ++i) {
      const float* row = values.data() + i * spec_.dim;
      std::string key = prefix;
      keys::PutBigEndian64(&key, static_cast<uint64_t>(item_ids[i]));
      batch.Put(tables_->embeddings(), key,
                rocksdb::Slice(reinterpret_cast<const char*>(row), sizeof(float) * spec_.dim));
    }
    // Not synced: Finish syncs the table record, which makes every earlier write durable.
    return FromRocksDb("UploadEmbeddings", tables_->db()->Write(rocksdb::WriteOptions(), &batch));
  }

  absl::StatusOr<TableInfo> Finish() override {
    if (finished_) return absl::FailedPreconditionError("Finish called twice");
    absl::StatusOr<TableInfo> info = tables_->Publish(spec_);
    if (info.ok()) finished_ = true;
    return info;
  }

 private:
  EmbeddingTables* tables_;
  const TableSpec spec_;
  std::function<void()> on_end_;
  bool finished_ = false;
};

// The plain queries (positions `plain`, vectors in `vectors`) as one FAISS batch of k =
// plain_k, each result cut to its own k.
absl::Status SearchPlain(const FaissIndex& index, absl::Span<const NeighborQuery> queries,
                         const std::vector<size_t>& plain, int32_t plain_k,
                         const std::vector<float>& vectors,
                         std::vector<std::vector<Neighbor>>* results) {
  const int32_t dim = index.spec().dim;
  std::vector<float> batch;
  const float* batch_vectors = vectors.data();
  if (plain.size() != queries.size()) {  // gather the plain queries' vectors
    batch.resize(plain.size() * dim);
    for (size_t i = 0; i < plain.size(); ++i) {
      std::memcpy(batch.data() + i * dim, vectors.data() + plain[i] * dim, sizeof(float) * dim);
    }
    batch_vectors = batch.data();
  }
  absl::StatusOr<std::vector<std::vector<Neighbor>>> found =
      index.SearchBatch(batch_vectors, static_cast<int64_t>(plain.size()), plain_k);
  if (!found.ok()) return found.status();
  for (size_t i = 0; i < plain.size(); ++i) {
    std::vector<Neighbor>& result = (*found)[i];
    if (static_cast<int32_t>(result.size()) > queries[plain[i]].k) {
      result.resize(queries[plain[i]].k);
    }
    (*results)[plain[i]] = std::move(result);
  }
  return absl::OkStatus();
}

}  // namespace

EmbeddingTables::EmbeddingTables(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* embeddings,
                                 rocksdb::ColumnFamilyHandle* tables,
                                 rocksdb::ColumnFamilyHandle* items, std::string faiss_dir,
                                 StoreLimits limits, bool sync_writes)
    : db_(db),
      embeddings_(embeddings),
      tables_(tables),
      items_(items),
      faiss_dir_(std::move(faiss_dir)),
      limits_(limits),
      sync_writes_(sync_writes) {}

std::string EmbeddingTables::VersionKey(const std::string& name, int64_t version) {
  std::string key = keys::UserPrefix(name);  // same shape: length byte + bytes
  keys::PutBigEndian64(&key, static_cast<uint64_t>(version));
  return key;
}

std::string EmbeddingTables::IndexPath(const TableSpec& spec) const {
  return absl::StrCat(faiss_dir_, "/", spec.name, ".", spec.version, ".faiss");
}

std::vector<int64_t> EmbeddingTables::Categories(const std::vector<int64_t>& item_ids) const {
  std::vector<int64_t> categories(item_ids.size(), 0);
  std::vector<std::string> key_storage;
  for (int64_t id : item_ids) key_storage.push_back(keys::ItemKey(id));
  std::vector<rocksdb::Slice> slices(key_storage.begin(), key_storage.end());
  std::vector<rocksdb::ColumnFamilyHandle*> families(item_ids.size(), items_);
  std::vector<std::string> values;
  const std::vector<rocksdb::Status> statuses =
      db_->MultiGet(rocksdb::ReadOptions(), families, slices, &values);
  Item item;
  for (size_t i = 0; i < item_ids.size(); ++i) {
    if (statuses[i].ok() && keys::DecodeItemValue(values[i], &item)) {
      categories[i] = item.category_id;
    }
  }
  return categories;
}

absl::StatusOr<std::unique_ptr<EmbeddingUpload>> EmbeddingTables::Begin(const TableSpec& spec) {
  RECSYS_RETURN_IF_ERROR(ValidateTableSpec(spec, limits_.max_embedding_dim));
  std::string existing;
  const rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), tables_, VersionKey(spec.name, spec.version), &existing);
  if (!s.IsNotFound()) {
    RECSYS_RETURN_IF_ERROR(FromRocksDb("UploadEmbeddings", s));
    return absl::AlreadyExistsError(absl::StrCat("table ", spec.name, " version ", spec.version,
                                                 " exists; versions are immutable"));
  }
  const auto key = std::make_pair(spec.name, spec.version);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!uploading_.emplace(key, true).second) {
      return absl::AlreadyExistsError(
          absl::StrCat("table ", spec.name, " version ", spec.version, " is being uploaded"));
    }
  }
  return std::unique_ptr<EmbeddingUpload>(new LocalUpload(this, spec, [this, key] {
    std::lock_guard<std::mutex> lock(mu_);
    uploading_.erase(key);
  }));
}

absl::StatusOr<TableInfo> EmbeddingTables::Publish(const TableSpec& spec) {
  const auto start = std::chrono::steady_clock::now();
  const std::string prefix = VersionKey(spec.name, spec.version);
  const std::string end = keys::PrefixEnd(prefix);
  rocksdb::ReadOptions read_options;
  rocksdb::Slice upper(end);
  read_options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read_options, embeddings_));
  std::vector<int64_t> ids;
  std::vector<float> rows;
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    ids.push_back(static_cast<int64_t>(keys::GetBigEndian64(it->key().data() + prefix.size())));
    const size_t old = rows.size();
    rows.resize(old + spec.dim);
    std::memcpy(rows.data() + old, it->value().data(), sizeof(float) * spec.dim);
  }
  RECSYS_RETURN_IF_ERROR(FromRocksDb("UploadEmbeddings", it->status()));
  std::vector<int64_t> categories = Categories(ids);
  absl::StatusOr<std::unique_ptr<FaissIndex>> index =
      FaissIndex::Build(spec, std::move(ids), rows, std::move(categories));
  if (!index.ok()) return index.status();
  std::error_code error;
  std::filesystem::create_directories(faiss_dir_, error);
  RECSYS_RETURN_IF_ERROR((*index)->Save(IndexPath(spec)));
  TableInfo info;
  info.spec = spec;
  info.rows = (*index)->rows();
  info.ready = true;
  info.index_build_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  rocksdb::WriteOptions sync;
  sync.sync = sync_writes_;
  RECSYS_RETURN_IF_ERROR(
      FromRocksDb("UploadEmbeddings", db_->Put(sync, tables_, prefix, EncodeInfo(info))));
  std::lock_guard<std::mutex> lock(mu_);
  published_[{spec.name, spec.version}] = std::shared_ptr<const FaissIndex>(std::move(*index));
  return info;
}

absl::Status EmbeddingTables::LoadAll() {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), tables_));
  std::vector<TableInfo> ready;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    TableInfo info;
    if (!DecodeInfo(View(it->key()), View(it->value()), &info)) {
      return absl::InternalError("LocalStore: corrupt embedding table record");
    }
    if (info.ready) ready.push_back(info);
  }
  RECSYS_RETURN_IF_ERROR(FromRocksDb("LocalStore", it->status()));
  for (const TableInfo& info : ready) {
    // Row order is key order, as when the index was built.
    const std::string prefix = VersionKey(info.spec.name, info.spec.version);
    const std::string end = keys::PrefixEnd(prefix);
    rocksdb::ReadOptions read_options;
    rocksdb::Slice upper(end);
    read_options.iterate_upper_bound = &upper;
    std::unique_ptr<rocksdb::Iterator> rows(db_->NewIterator(read_options, embeddings_));
    std::vector<int64_t> ids;
    for (rows->Seek(prefix); rows->Valid(); rows->Next()) {
      ids.push_back(static_cast<int64_t>(keys::GetBigEndian64(rows->key().data() + prefix.size())));
    }
    RECSYS_RETURN_IF_ERROR(FromRocksDb("LocalStore", rows->status()));
    std::vector<int64_t> categories = Categories(ids);
    absl::StatusOr<std::unique_ptr<FaissIndex>> index =
        FaissIndex::Load(info.spec, IndexPath(info.spec), std::move(ids), std::move(categories));
    if (!index.ok()) {  // missing or damaged file: rebuild it from the stored rows
      absl::StatusOr<TableInfo> rebuilt = Publish(info.spec);
      if (!rebuilt.ok()) return rebuilt.status();
      continue;
    }
    std::lock_guard<std::mutex> lock(mu_);
    published_[{info.spec.name, info.spec.version}] =
        std::shared_ptr<const FaissIndex>(std::move(*index));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const FaissIndex>> EmbeddingTables::Find(
    const std::string& table, std::optional<int64_t> version) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (version.has_value()) {
    const auto it = published_.find({table, *version});
    if (it == published_.end()) {
      return absl::NotFoundError(
          absl::StrCat("table ", Quote(table), " has no ready version ", *version));
    }
    return it->second;
  }
  // The newest version: the last key with this name.
  auto it = published_.upper_bound({table, std::numeric_limits<int64_t>::max()});
  if (it == published_.begin() || std::prev(it)->first.first != table) {
    return absl::NotFoundError(absl::StrCat("no ready embedding table named ", Quote(table)));
  }
  return std::prev(it)->second;
}

absl::StatusOr<EmbeddingRows> EmbeddingTables::Get(const std::string& table,
                                                   std::optional<int64_t> version,
                                                   absl::Span<const int64_t> item_ids) {
  if (item_ids.empty() || static_cast<int64_t>(item_ids.size()) > limits_.max_batch_items) {
    return Invalid("item_ids",
                   absl::StrCat("must hold 1..", limits_.max_batch_items,
                                " ids (--feature_store_max_batch_items); got ", item_ids.size()));
  }
  absl::StatusOr<std::shared_ptr<const FaissIndex>> index = Find(table, version);
  if (!index.ok()) return index.status();
  const TableSpec& spec = (*index)->spec();
  EmbeddingRows out;
  out.version = spec.version;
  out.dim = spec.dim;
  const std::string prefix = VersionKey(spec.name, spec.version);
  std::string value;
  for (int64_t id : item_ids) {
    std::string key = prefix;
    keys::PutBigEndian64(&key, static_cast<uint64_t>(id));
    const rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), embeddings_, key, &value);
    if (s.IsNotFound()) {
      out.missing.push_back(id);
      continue;
    }
    RECSYS_RETURN_IF_ERROR(FromRocksDb("GetEmbeddings", s));
    out.item_ids.push_back(id);
    const size_t old = out.values.size();
    out.values.resize(old + spec.dim);
    std::memcpy(out.values.data() + old, value.data(), sizeof(float) * spec.dim);
  }
  return out;
}

absl::StatusOr<NeighborResults> EmbeddingTables::Search(const std::string& table,
                                                        std::optional<int64_t> version,
                                                        absl::Span<const NeighborQuery> queries) {
  if (queries.empty() || static_cast<int64_t>(queries.size()) > limits_.max_batch_queries) {
    return Invalid("queries", absl::StrCat("must hold 1..", limits_.max_batch_queries,
                                           " queries (--feature_store_max_batch_queries); got ",
                                           queries.size()));
  }
  absl::StatusOr<std::shared_ptr<const FaissIndex>> found = Find(table, version);
  if (!found.ok()) return found.status();
  const FaissIndex& index = **found;  // kept alive by `found` even if a new version lands
  const int32_t dim = index.spec().dim;
  NeighborResults out;
  out.version = index.spec().version;
  // First every query is checked and its vector placed in one buffer, then the plain ones
  // (no exclusions, no category filter, given as a vector) go to FAISS in one batch and the
  // rest one by one, each with its own filter.
  std::vector<float> vectors(queries.size() * dim);
  std::vector<int64_t> self_rows(queries.size(), -1);
  std::vector<size_t> plain;
  int32_t plain_k = 0;
  for (size_t q = 0; q < queries.size(); ++q) {
    const NeighborQuery& query = queries[q];
    const std::string at = absl::StrCat("queries[", q, "].");
    if (query.k < 1 || query.k > limits_.max_k) {
      return Invalid(at + "k", absl::StrCat("(", query.k, ") must be 1..", limits_.max_k,
                                            " (--feature_store_max_k)"));
    }
    float* vector = vectors.data() + q * dim;
    if (query.vector.empty()) {
      if (query.item_id < 1) {
        return Invalid(at + "vector", "or item_id (>= 1) is required");
      }
      self_rows[q] = index.RowOf(query.item_id);
      if (self_rows[q] < 0) {
        return absl::NotFoundError(absl::StrCat(at, "item_id ", query.item_id, " has no row in ",
                                                table, " version ", out.version));
      }
      absl::StatusOr<EmbeddingRows> row = Get(table, out.version, {query.item_id});
      if (!row.ok()) return row.status();
      std::memcpy(vector, row->values.data(), sizeof(float) * dim);
    } else {
      if (static_cast<int32_t>(query.vector.size()) != dim) {
        return Invalid(at + "vector", absl::StrCat("has ", query.vector.size(),
                                                   " values; the table's dim is ", dim));
      }
      for (float v : query.vector) {
        if (!std::isfinite(v)) return Invalid(at + "vector", "must be finite");
      }
      std::memcpy(vector, query.vector.data(), sizeof(float) * dim);
    }
    if (self_rows[q] < 0 && query.exclude_item_ids.empty() && query.include_category_ids.empty()) {
      plain.push_back(q);
      plain_k = std::max(plain_k, query.k);
    }
  }
  out.results.resize(queries.size());
  if (!plain.empty()) {
    RECSYS_RETURN_IF_ERROR(SearchPlain(index, queries, plain, plain_k, vectors, &out.results));
  }
  for (size_t q = 0, p = 0; q < queries.size(); ++q) {
    if (p < plain.size() && plain[p] == q) {
      ++p;
      continue;
    }
    const NeighborQuery& query = queries[q];
    absl::StatusOr<std::vector<Neighbor>> neighbors =
        index.Search(vectors.data() + q * dim, query.k, query.exclude_item_ids,
                     query.include_category_ids, self_rows[q]);
    if (!neighbors.ok()) return neighbors.status();
    out.results[q] = *std::move(neighbors);
  }
  return out;
}

absl::StatusOr<std::vector<TableInfo>> EmbeddingTables::List() {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), tables_));
  std::vector<TableInfo> tables;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    TableInfo info;
    if (DecodeInfo(View(it->key()), View(it->value()), &info)) tables.push_back(info);
  }
  RECSYS_RETURN_IF_ERROR(FromRocksDb("ListEmbeddingTables", it->status()));
  return tables;
}

}  // namespace recsys::store
