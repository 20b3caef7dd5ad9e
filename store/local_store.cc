// The in-process feature store on RocksDB: events with idempotent ingestion and a per-user
// cap, histories by one prefix scan per user.
#include "recsys/store/local_store.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "rocksdb/cache.h"
#include "rocksdb/db.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/options.h"
#include "rocksdb/statistics.h"
#include "rocksdb/table.h"
#include "rocksdb/utilities/checkpoint.h"
#include "rocksdb/write_batch.h"
#include "store/embedding_tables.h"
#include "store/keys.h"
#include "store/rocksdb_status.h"
#include "store/validate.h"

namespace recsys::store {
namespace {

constexpr char kEvents[] = "events";
constexpr char kEventIds[] = "event_ids";
constexpr char kUserMeta[] = "user_meta";
constexpr char kItems[] = "items";
constexpr char kEmbeddings[] = "embeddings";
constexpr char kTables[] = "tables";
// Ingestion of one user is serialised by one of these locks (check-then-write idempotency
// and cap bookkeeping); different users rarely share one.
constexpr size_t kUserLockStripes = 256;

class LocalStore final : public FeatureStore {
 public:
  LocalStore(LocalStoreOptions options, std::unique_ptr<rocksdb::DB> db,
             std::vector<rocksdb::ColumnFamilyHandle*> handles,
             std::shared_ptr<rocksdb::Statistics> statistics)
      : options_(std::move(options)),
        db_(std::move(db)),
        handles_(std::move(handles)),
        statistics_(std::move(statistics)) {
    events_ = handles_[1];
    event_ids_ = handles_[2];
    user_meta_ = handles_[3];
    items_ = handles_[4];
    tables_ = std::make_unique<EmbeddingTables>(db_.get(), handles_[5], handles_[6], items_,
                                                options_.data_dir + "/faiss", options_.limits,
                                                options_.sync_writes);
  }

  absl::Status Load() { return tables_->LoadAll(); }

  ~LocalStore() override {
    tables_.reset();
    for (rocksdb::ColumnFamilyHandle* handle : handles_) db_->DestroyColumnFamilyHandle(handle);
    db_->Close();
  }

  absl::StatusOr<IngestResult> IngestEvents(absl::Span<const Event> events) override;
  absl::StatusOr<std::vector<UserHistory>> GetHistories(absl::Span<const std::string> user_ids,
                                                        const HistoryQuery& query) override;
  absl::Status UpsertItems(absl::Span<const Item> items) override;
  absl::StatusOr<ItemLookup> GetItems(absl::Span<const int64_t> item_ids) override;
  absl::StatusOr<std::unique_ptr<EmbeddingUpload>> BeginEmbeddingUpload(
      const TableSpec& spec) override {
    return tables_->Begin(spec);
  }
  absl::StatusOr<EmbeddingRows> GetEmbeddings(const std::string& table,
                                              std::optional<int64_t> version,
                                              absl::Span<const int64_t> item_ids) override {
    return tables_->Get(table, version, item_ids);
  }
  absl::StatusOr<NeighborResults> SearchNeighbors(
      const std::string& table, std::optional<int64_t> version,
      absl::Span<const NeighborQuery> queries) override {
    return tables_->Search(table, version, queries);
  }
  absl::StatusOr<std::vector<TableInfo>> ListEmbeddingTables() override { return tables_->List(); }
  absl::StatusOr<CheckpointInfo> Checkpoint(const std::string& directory) override;

  RocksDbHealth Health() const {
    RocksDbHealth h;
    uint64_t v = 0;
    using P = rocksdb::DB::Properties;
    if (db_->GetIntProperty(P::kIsWriteStopped, &v)) h.write_stopped = v != 0;
    db_->GetIntProperty(P::kActualDelayedWriteRate, &h.delayed_write_rate);
    db_->GetAggregatedIntProperty(P::kEstimatePendingCompactionBytes,
                                  &h.pending_compaction_bytes);
    db_->GetIntProperty(P::kNumRunningCompactions, &h.running_compactions);
    db_->GetAggregatedIntProperty(P::kNumImmutableMemTable, &h.immutable_memtables);
    h.stall_micros = statistics_->getTickerCount(rocksdb::STALL_MICROS);
    return h;
  }

 private:
  // What IngestEvents read for one user before staging: its key prefix, its metadata, and
  // the id key and lookup status of each of its events (request order).
  struct UserReads {
    const std::string& prefix;
    const rocksdb::Status& meta_status;
    absl::string_view meta;
    const std::string* id_keys;
    const rocksdb::Status* id_status;
  };
  void MultiGet(rocksdb::ColumnFamilyHandle* family, const std::vector<std::string>& keys,
                rocksdb::PinnableSlice* values, rocksdb::Status* statuses) {
    std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
    db_->MultiGet(rocksdb::ReadOptions(), family, slices.size(), slices.data(), values, statuses);
  }
  // Adds the writes for one user's events (in request order) to batch.
  absl::Status StageUser(const std::string& user_id, const std::vector<const Event*>& events,
                         const UserReads& reads, rocksdb::WriteBatch* batch,
                         IngestResult* result);
  // Deletes the user's oldest events beyond the cap (with their idempotency keys).
  absl::Status StageTrim(const std::string& prefix, int64_t excess, rocksdb::WriteBatch* batch);
  absl::StatusOr<UserHistory> ReadHistory(const std::string& user_id, const HistoryQuery& query,
                                          const rocksdb::Snapshot* snapshot);

  size_t Stripe(const std::string& user_id) const {
    return std::hash<std::string>()(user_id) % kUserLockStripes;
  }

  const LocalStoreOptions options_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::shared_ptr<rocksdb::Statistics> statistics_;
  rocksdb::ColumnFamilyHandle* events_ = nullptr;
  rocksdb::ColumnFamilyHandle* event_ids_ = nullptr;
  rocksdb::ColumnFamilyHandle* user_meta_ = nullptr;
  rocksdb::ColumnFamilyHandle* items_ = nullptr;
  std::unique_ptr<EmbeddingTables> tables_;
  std::array<std::mutex, kUserLockStripes> user_locks_;
};

absl::StatusOr<IngestResult> LocalStore::IngestEvents(absl::Span<const Event> events) {
  RECSYS_RETURN_IF_ERROR(ValidateEvents(events, options_.limits.max_ingest_batch));
  // Group by user, keeping each user's events in request order.
  std::map<std::string, std::vector<const Event*>> by_user;
  for (const Event& event : events) by_user[event.user_id].push_back(&event);
  // Lock every stripe involved, in index order (no deadlock between concurrent batches).
  std::set<size_t> stripes;
  for (const auto& [user, unused] : by_user) stripes.insert(Stripe(user));
  std::vector<std::unique_lock<std::mutex>> locks;
  locks.reserve(stripes.size());
  for (size_t stripe : stripes) locks.emplace_back(user_locks_[stripe]);

  // Every user's metadata and every event id in two batched reads (MultiGet), not one Get
  // each.
  std::vector<std::string> meta_keys, id_keys;
  meta_keys.reserve(by_user.size());
  id_keys.reserve(events.size());
  for (const auto& [user, user_events] : by_user) {
    meta_keys.push_back(keys::UserPrefix(user));
    for (const Event* e : user_events) id_keys.push_back(meta_keys.back() + e->event_id);
  }
  std::vector<rocksdb::PinnableSlice> metas(meta_keys.size()), ids(id_keys.size());
  std::vector<rocksdb::Status> meta_found(meta_keys.size()), id_found(id_keys.size());
  MultiGet(user_meta_, meta_keys, metas.data(), meta_found.data());
  MultiGet(event_ids_, id_keys, ids.data(), id_found.data());

  rocksdb::WriteBatch batch;
  IngestResult result;
  size_t u = 0, first_id = 0;
  for (const auto& [user, user_events] : by_user) {
    const UserReads reads{meta_keys[u], meta_found[u], View(metas[u]), &id_keys[first_id],
                          &id_found[first_id]};
    RECSYS_RETURN_IF_ERROR(StageUser(user, user_events, reads, &batch, &result));
    ++u;
    first_id += user_events.size();
  }
  if (result.stored == 0) return result;
  rocksdb::WriteOptions write_options;
  write_options.sync = options_.sync_writes;
  RECSYS_RETURN_IF_ERROR(FromRocksDb("IngestEvents", db_->Write(write_options, &batch)));
  return result;
}

absl::Status LocalStore::StageUser(const std::string& user_id,
                                   const std::vector<const Event*>& events, const UserReads& reads,
                                   rocksdb::WriteBatch* batch, IngestResult* result) {
  const std::string& prefix = reads.prefix;
  keys::UserMeta meta;
  if (reads.meta_status.ok()) {
    if (!keys::DecodeUserMeta(reads.meta, &meta)) {
      return absl::InternalError(
          absl::StrCat("IngestEvents: corrupt metadata of user '", user_id, "'"));
    }
  } else if (!reads.meta_status.IsNotFound()) {
    return FromRocksDb("IngestEvents", reads.meta_status);
  }
  absl::flat_hash_set<std::string> seen_in_batch;
  const int64_t before = meta.event_count;
  for (size_t i = 0; i < events.size(); ++i) {
    const Event* event = events[i];
    const std::string& id_key = reads.id_keys[i];
    if (!seen_in_batch.insert(event->event_id).second) {
      ++result->duplicates;
      continue;
    }
    const rocksdb::Status& s = reads.id_status[i];
    if (s.ok()) {
      ++result->duplicates;
      continue;
    }
    if (!s.IsNotFound()) return FromRocksDb("IngestEvents", s);
    const std::string suffix = keys::EventSuffix(event->timestamp_ms, meta.next_sequence++);
    batch->Put(events_, prefix + suffix, keys::EncodeEventValue(*event));
    batch->Put(event_ids_, id_key, suffix);
    ++meta.event_count;
    ++result->stored;
  }
  if (meta.event_count == before) return absl::OkStatus();
  // Trim in steps of cap/8 so the scan over old events is amortised over many writes.
  const int64_t cap = options_.max_events_per_user;
  if (meta.event_count > cap + cap / 8) {
    // Events of this batch are not in the database yet: trim only what is stored, which
    // holds the oldest events unless the batch itself carries older timestamps (then the
    // next ingestion trims them).
    const int64_t excess = std::min(meta.event_count - cap, before);
    RECSYS_RETURN_IF_ERROR(StageTrim(prefix, excess, batch));
    meta.event_count -= excess;
  }
  batch->Put(user_meta_, prefix, keys::EncodeUserMeta(meta));
  return absl::OkStatus();
}

absl::Status LocalStore::StageTrim(const std::string& prefix, int64_t excess,
                                   rocksdb::WriteBatch* batch) {
  rocksdb::ReadOptions read_options;
  const std::string end = keys::PrefixEnd(prefix);
  rocksdb::Slice lower(prefix), upper(end);
  read_options.iterate_lower_bound = &lower;
  read_options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read_options, events_));
  std::string event_id;
  int64_t deleted = 0;
  // Oldest events sort last: walk backwards from the end of the user's range.
  for (it->SeekToLast(); it->Valid() && deleted < excess; it->Prev(), ++deleted) {
    batch->Delete(events_, it->key());
    if (keys::DecodeEventId(View(it->value()), &event_id)) {
      batch->Delete(event_ids_, prefix + event_id);
    }
  }
  return FromRocksDb("IngestEvents", it->status());
}

absl::StatusOr<std::vector<UserHistory>> LocalStore::GetHistories(
    absl::Span<const std::string> user_ids, const HistoryQuery& query) {
  RECSYS_RETURN_IF_ERROR(ValidateHistoryRequest(user_ids, query, options_.limits.max_batch_users,
                                                options_.limits.max_history_length));
  // One snapshot: counts and events of every user come from the same point in time.
  const rocksdb::Snapshot* snapshot = db_->GetSnapshot();
  std::vector<UserHistory> histories;
  histories.reserve(user_ids.size());
  absl::Status status;
  int64_t events = 0;
  for (const std::string& user_id : user_ids) {
    absl::StatusOr<UserHistory> history = ReadHistory(user_id, query, snapshot);
    if (!history.ok()) {
      status = history.status();
      break;
    }
    events += static_cast<int64_t>(history->behaviors.size());
    status = CheckReplyEvents(events, options_.limits.max_reply_events);
    if (!status.ok()) break;  // stop reading: what is held is one history beyond the budget
    histories.push_back(*std::move(history));
  }
  db_->ReleaseSnapshot(snapshot);
  if (!status.ok()) return status;
  return histories;
}

absl::StatusOr<UserHistory> LocalStore::ReadHistory(const std::string& user_id,
                                                    const HistoryQuery& query,
                                                    const rocksdb::Snapshot* snapshot) {
  const std::string prefix = keys::UserPrefix(user_id);
  UserHistory history;
  rocksdb::ReadOptions read_options;
  read_options.snapshot = snapshot;
  std::string value;
  rocksdb::Status s = db_->Get(read_options, user_meta_, prefix, &value);
  if (s.IsNotFound()) return history;  // unknown user: empty history
  if (!s.ok()) return FromRocksDb("GetHistories", s);
  keys::UserMeta meta;
  if (!keys::DecodeUserMeta(value, &meta)) {
    return absl::InternalError(
        absl::StrCat("GetHistories: corrupt metadata of user '", user_id, "'"));
  }
  // Events beyond the cap may still be stored until the next trim; never report them.
  const int64_t visible = std::min(meta.event_count, options_.max_events_per_user);
  history.total_events = visible;
  const int64_t limit = std::min(query.max_events, visible);
  const std::string end = keys::PrefixEnd(prefix);
  rocksdb::Slice upper(end);
  read_options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read_options, events_));
  history.behaviors.reserve(static_cast<size_t>(limit));
  Behavior behavior;
  for (it->Seek(prefix); it->Valid() && static_cast<int64_t>(history.behaviors.size()) < limit;
       it->Next()) {
    behavior.timestamp_ms = keys::EventTimestamp(View(it->key()), prefix.size());
    if (query.since_ms.has_value() && behavior.timestamp_ms < *query.since_ms) break;
    if (!keys::DecodeBehavior(View(it->value()), &behavior)) {
      return absl::InternalError(
          absl::StrCat("GetHistories: corrupt event of user '", user_id, "'"));
    }
    history.behaviors.push_back(behavior);
  }
  RECSYS_RETURN_IF_ERROR(FromRocksDb("GetHistories", it->status()));
  std::reverse(history.behaviors.begin(), history.behaviors.end());  // oldest first
  return history;
}

absl::Status LocalStore::UpsertItems(absl::Span<const Item> items) {
  RECSYS_RETURN_IF_ERROR(
      ValidateItems(items, options_.limits.max_ingest_batch, options_.limits.max_item_text_bytes));
  rocksdb::WriteBatch batch;
  for (const Item& item : items) {
    batch.Put(items_, keys::ItemKey(item.item_id), keys::EncodeItemValue(item));
  }
  rocksdb::WriteOptions write_options;
  write_options.sync = options_.sync_writes;
  return FromRocksDb("UpsertItems", db_->Write(write_options, &batch));
}

absl::StatusOr<ItemLookup> LocalStore::GetItems(absl::Span<const int64_t> item_ids) {
  RECSYS_RETURN_IF_ERROR(ValidateItemIds(item_ids, options_.limits.max_batch_items));
  std::vector<std::string> key_storage;
  key_storage.reserve(item_ids.size());
  for (int64_t id : item_ids) key_storage.push_back(keys::ItemKey(id));
  std::vector<rocksdb::Slice> key_slices(key_storage.begin(), key_storage.end());
  std::vector<rocksdb::ColumnFamilyHandle*> families(item_ids.size(), items_);
  std::vector<std::string> values;
  const std::vector<rocksdb::Status> statuses =
      db_->MultiGet(rocksdb::ReadOptions(), families, key_slices, &values);
  ItemLookup lookup;
  for (size_t i = 0; i < item_ids.size(); ++i) {
    if (statuses[i].IsNotFound()) {
      lookup.missing.push_back(item_ids[i]);
      continue;
    }
    RECSYS_RETURN_IF_ERROR(FromRocksDb("GetItems", statuses[i]));
    Item item;
    item.item_id = item_ids[i];
    if (!keys::DecodeItemValue(values[i], &item)) {
      return absl::InternalError(absl::StrCat("GetItems: corrupt item ", item_ids[i]));
    }
    lookup.found.push_back(std::move(item));
  }
  return lookup;
}

absl::StatusOr<CheckpointInfo> LocalStore::Checkpoint(const std::string& directory) {
  namespace fs = std::filesystem;
  std::error_code error;
  if (directory.empty()) return absl::InvalidArgumentError("directory is empty");
  const fs::path target = fs::absolute(directory, error);
  if (error || fs::exists(target, error)) {
    return absl::InvalidArgumentError(
        absl::StrCat("directory ", directory, " already exists (or cannot be resolved)"));
  }
  fs::create_directories(target.parent_path(), error);
  rocksdb::Checkpoint* raw = nullptr;
  RECSYS_RETURN_IF_ERROR(FromRocksDb("Checkpoint", rocksdb::Checkpoint::Create(db_.get(), &raw)));
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  // Flush first so the copy needs no write-ahead-log replay.
  RECSYS_RETURN_IF_ERROR(
      FromRocksDb("Checkpoint", checkpoint->CreateCheckpoint(target.string(), 0)));
  // FAISS files are immutable once written: link (or copy) the ones present now. A version
  // whose file is missing from the copy is rebuilt from its rows when the copy is opened.
  const fs::path faiss_from = fs::path(options_.data_dir) / "faiss";
  const fs::path faiss_to = target / "faiss";
  fs::create_directories(faiss_to, error);
  if (error)
    return absl::UnavailableError(
        absl::StrCat("Checkpoint: ", faiss_to.string(), ": ", error.message()));
  for (const fs::directory_entry& entry : fs::directory_iterator(faiss_from, error)) {
    if (entry.path().extension() != ".faiss") continue;
    const fs::path to = faiss_to / entry.path().filename();
    fs::create_hard_link(entry.path(), to, error);
    if (error) fs::copy_file(entry.path(), to, error);
    if (error) {
      return absl::UnavailableError(
          absl::StrCat("Checkpoint: copying ", entry.path().string(), ": ", error.message()));
    }
  }
  CheckpointInfo info;
  info.path = target.string();
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(target, error)) {
    if (entry.is_regular_file(error)) info.bytes += static_cast<int64_t>(entry.file_size(error));
  }
  return info;
}

absl::Status ValidateOptions(const LocalStoreOptions& o) {
  if (o.data_dir.empty()) return absl::InvalidArgumentError("LocalStore: data_dir is empty");
  for (const auto& [name, value] : {std::pair<const char*, int64_t>{"max_events_per_user",
                                                                    o.max_events_per_user},
                                    {"block_cache_bytes", o.block_cache_bytes}}) {
    if (value < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("LocalStore: ", name, " (", value, ") must be >= 1"));
    }
  }
  return ValidateLimits(o.limits, "LocalStore");
}

}  // namespace

absl::StatusOr<std::unique_ptr<FeatureStore>> OpenLocalStore(const LocalStoreOptions& options) {
  RECSYS_RETURN_IF_ERROR(ValidateOptions(options));
  std::error_code mkdir_error;  // RocksDB creates only the last path component
  std::filesystem::create_directories(options.data_dir, mkdir_error);
  if (mkdir_error) {
    return absl::UnavailableError(absl::StrCat("OpenLocalStore: cannot create ", options.data_dir,
                                               ": ", mkdir_error.message()));
  }
  rocksdb::Options db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.IncreaseParallelism(2);
  // Tickers only (no timers): the write-stall time for /metrics at near-zero cost.
  db_options.statistics = rocksdb::CreateDBStatistics();
  db_options.statistics->set_stats_level(rocksdb::StatsLevel::kExceptTimers);
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(static_cast<size_t>(options.block_cache_bytes));
  // Ingestion looks up every event id, and new ids are misses: a bloom filter answers most of
  // them without reading a data block.
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  rocksdb::ColumnFamilyOptions cf_options;
  cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const char* name : {rocksdb::kDefaultColumnFamilyName.c_str(), kEvents, kEventIds, kUserMeta,
                           kItems, kEmbeddings, kTables}) {
    families.emplace_back(name, cf_options);
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  const rocksdb::Status s =
      rocksdb::DB::Open(rocksdb::DBOptions(db_options), options.data_dir, families, &handles, &raw);
  if (!s.ok()) {
    if (s.IsIOError() && s.ToString().find("lock") != std::string::npos) {
      return absl::FailedPreconditionError(absl::StrCat(
          "LocalStore: ", options.data_dir, " is in use by another process: ", s.ToString()));
    }
    return FromRocksDb("OpenLocalStore", s);
  }
  auto store = std::make_unique<LocalStore>(options, std::unique_ptr<rocksdb::DB>(raw),
                                            std::move(handles), db_options.statistics);
  RECSYS_RETURN_IF_ERROR(store->Load());
  return std::unique_ptr<FeatureStore>(std::move(store));
}

absl::StatusOr<RocksDbHealth> ReadRocksDbHealth(const FeatureStore& store) {
  const auto* local = dynamic_cast<const LocalStore*>(&store);
  if (local == nullptr) {
    return absl::FailedPreconditionError("ReadRocksDbHealth: not a local store");
  }
  return local->Health();
}

}  // namespace recsys::store
