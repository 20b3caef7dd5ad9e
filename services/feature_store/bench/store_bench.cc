// Feature-store benchmarks, each against a reference measured in the same run:
//   History/<events>      store API GetHistories vs a raw RocksDB iterator loop on the same DB
//   HistoryGrpc/<events>  the remote store over gRPC on loopback vs the store API in process
//   Search/<index>/<nq>   store API SearchNeighbors vs raw FAISS search on the same index file
//                         (recall@10 of both against exact search, as counters)
//   Ingest/<batch>        IngestEvents with the WAL synced vs raw synced RocksDB writes of the
//                         same events (one Put each, no idempotency or cap bookkeeping)
// Run: scripts/bench-store.sh (build/default/services/feature_store/bench/store_bench).
#include <benchmark/benchmark.h>
#include <faiss/Index.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVF.h>
#include <faiss/index_io.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "recsys/store/local_store.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"
#include "services/common/executor.h"
#include "services/feature_store/feature_store_service.h"
#include "services/feature_store/remote_store.h"
#include "store/keys.h"

namespace recsys::store::bench {
namespace {

// Times ours and the reference alternately, one run of each per iteration, so both see the
// same machine (this shared VM's speed drifts by 2x within a minute); the iteration time is
// ours, and the counters are both medians and their ratio (> 1: ours is faster).
template <typename Ours, typename Reference>
void RunWithReference(benchmark::State& state, const std::string& reference_name, Ours&& ours,
                      Reference&& reference) {
  using Clock = std::chrono::steady_clock;
  std::vector<double> ours_s, reference_s;
  for (auto _ : state) {
    const auto t0 = Clock::now();
    ours();
    const auto t1 = Clock::now();
    reference();
    const auto t2 = Clock::now();
    ours_s.push_back(std::chrono::duration<double>(t1 - t0).count());
    reference_s.push_back(std::chrono::duration<double>(t2 - t1).count());
    state.SetIterationTime(ours_s.back());
  }
  auto median = [](std::vector<double> v) {
    std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
    return v[v.size() / 2];
  };
  const double o = median(ours_s), r = median(reference_s);
  state.counters["ours_us"] = o * 1e6;
  state.counters[reference_name + "_us"] = r * 1e6;
  state.counters["speedup_vs_" + reference_name] = r / o;
}

constexpr int kDim = 64;
constexpr int kItems = 50000;
constexpr int kQueries = 256;
constexpr int kRecallK = 10;
constexpr int kNprobe = 128;

void Check(const absl::Status& status, const char* what) {
  if (!status.ok()) {
    fprintf(stderr, "store_bench: %s: %s\n", what, status.ToString().c_str());
    std::exit(1);
  }
}

void Check(const rocksdb::Status& status, const char* what) {
  if (!status.ok()) {
    fprintf(stderr, "store_bench: %s: %s\n", what, status.ToString().c_str());
    std::exit(1);
  }
}

std::string UserFor(int64_t events) { return absl::StrCat("user-", events); }

LocalStoreOptions Options(const std::string& dir, bool sync_writes) {
  LocalStoreOptions o;
  o.data_dir = dir;
  o.sync_writes = sync_writes;
  return o;
}

std::unique_ptr<FeatureStore> OpenStore(const std::string& dir, bool sync_writes = true) {
  absl::StatusOr<std::unique_ptr<FeatureStore>> store = OpenLocalStore(Options(dir, sync_writes));
  Check(store.status(), "OpenLocalStore");
  return *std::move(store);
}

// The data every read benchmark shares, built once per process in a temporary directory:
// users with 10^3, 10^4 and 10^5 events, and tables flat / ivf / hnsw over the same random
// rows. Memtables are flushed, so the store and a raw read-only instance read the same files.
class Dataset {
 public:
  static Dataset& Get() {
    static Dataset* dataset = new Dataset();
    return *dataset;
  }
  const std::string& dir() const { return dir_; }
  const std::vector<float>& queries() const { return queries_; }
  // Exact top-kRecallK item ids per query (inner product).
  const std::vector<std::set<int64_t>>& truth() const { return truth_; }

 private:
  Dataset() {
    char pattern[] = "/tmp/recsys-store-bench-XXXXXX";
    dir_ = mkdtemp(pattern);
    std::atexit([] { std::filesystem::remove_all(Get().dir_); });
    std::unique_ptr<FeatureStore> store = OpenStore(dir_, /*sync_writes=*/false);
    for (int64_t events : {1000, 10000, 100000}) {
      for (int64_t first = 0; first < events; first += 10000) {
        std::vector<Event> batch;
        for (int64_t n = first; n < std::min(events, first + 10000); ++n) {
          Event e;
          e.event_id = absl::StrCat("e", n);
          e.user_id = UserFor(events);
          e.item_id = n % kItems + 1;
          e.category_id = n % 17;
          e.type = 2;
          e.timestamp_ms = 1700000000000 + n;
          batch.push_back(std::move(e));
        }
        Check(store->IngestEvents(batch).status(), "IngestEvents");
      }
    }
    std::mt19937 rng(7);
    std::normal_distribution<float> normal;
    std::vector<float> rows(static_cast<size_t>(kItems) * kDim);
    for (float& v : rows) v = normal(rng);
    queries_.resize(static_cast<size_t>(kQueries) * kDim);
    for (float& v : queries_) v = normal(rng);
    std::vector<int64_t> ids(kItems);
    for (int i = 0; i < kItems; ++i) ids[i] = i + 1;
    for (const auto& [name, type] : {std::pair<const char*, IndexType>{"flat", IndexType::kFlat},
                                     {"ivf", IndexType::kIvfFlat},
                                     {"hnsw", IndexType::kHnsw}}) {
      TableSpec spec;
      spec.name = name;
      spec.version = 1;
      spec.dim = kDim;
      spec.index.type = type;
      spec.index.nprobe = kNprobe;  // 16 (the default) recalls ~0.26 on isotropic random data
      absl::StatusOr<std::unique_ptr<EmbeddingUpload>> upload = store->BeginEmbeddingUpload(spec);
      Check(upload.status(), "BeginEmbeddingUpload");
      for (int first = 0; first < kItems; first += 10000) {
        Check((*upload)->Append(absl::MakeSpan(ids).subspan(first, 10000),
                                absl::MakeSpan(rows).subspan(size_t{1} * first * kDim,
                                                             size_t{10000} * kDim)),
              "Append");
      }
      Check((*upload)->Finish().status(), "Finish");
    }
    store.reset();
    FlushAll();
    // Ground truth by brute force in double precision.
    truth_.resize(kQueries);
    for (int q = 0; q < kQueries; ++q) {
      std::vector<std::pair<double, int64_t>> scored(kItems);
      for (int i = 0; i < kItems; ++i) {
        double dot = 0;
        for (int d = 0; d < kDim; ++d) dot += double{queries_[q * kDim + d]} * rows[i * kDim + d];
        scored[i] = {-dot, i + 1};
      }
      std::partial_sort(scored.begin(), scored.begin() + kRecallK, scored.end());
      for (int i = 0; i < kRecallK; ++i) truth_[q].insert(scored[i].second);
    }
  }

  void FlushAll() {
    std::vector<std::string> names;
    Check(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir_, &names), "ListColumnFamilies");
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const std::string& name : names) families.emplace_back(name, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    Check(rocksdb::DB::Open(rocksdb::DBOptions(), dir_, families, &handles, &raw), "DB::Open");
    Check(raw->Flush(rocksdb::FlushOptions(), handles), "Flush");
    for (auto* h : handles) raw->DestroyColumnFamilyHandle(h);
    delete raw;
  }

  std::string dir_;
  std::vector<float> queries_;
  std::vector<std::set<int64_t>> truth_;
};

// A read-only RocksDB instance on the dataset and its events column family.
struct RawDb {
  explicit RawDb(const std::string& dir) {
    std::vector<std::string> names;
    Check(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir, &names), "ListColumnFamilies");
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const std::string& name : names) families.emplace_back(name, rocksdb::ColumnFamilyOptions());
    rocksdb::DB* raw = nullptr;
    Check(rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), dir, families, &handles, &raw),
          "OpenForReadOnly");
    db.reset(raw);
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] == "events") events = handles[i];
    }
  }
  ~RawDb() {
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  }
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::ColumnFamilyHandle* events = nullptr;
};

// The most recent n events of a user the plain way: seek to the user's prefix, decode n
// entries, reverse to oldest first.
std::vector<Behavior> RawHistory(const RawDb& raw, const std::string& user, int64_t n) {
  const std::string prefix = keys::UserPrefix(user);
  const std::string end = keys::PrefixEnd(prefix);
  rocksdb::Slice upper(end);
  rocksdb::ReadOptions options;
  options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(raw.db->NewIterator(options, raw.events));
  std::vector<Behavior> out;
  out.reserve(static_cast<size_t>(n));
  Behavior b;
  for (it->Seek(prefix); it->Valid() && static_cast<int64_t>(out.size()) < n; it->Next()) {
    const rocksdb::Slice key = it->key(), value = it->value();
    b.timestamp_ms =
        keys::EventTimestamp(absl::string_view(key.data(), key.size()), prefix.size());
    keys::DecodeBehavior(absl::string_view(value.data(), value.size()), &b);
    out.push_back(b);
  }
  std::reverse(out.begin(), out.end());
  return out;
}

void BM_History(benchmark::State& state) {
  const int64_t events = state.range(0);
  Dataset& data = Dataset::Get();
  std::unique_ptr<FeatureStore> store = OpenStore(data.dir());
  RawDb raw(data.dir());
  const std::vector<std::string> users = {UserFor(events)};
  RunWithReference(
      state, "raw_rocksdb",
      [&] {
        auto h = store->GetHistories(users, HistoryQuery{events, std::nullopt});
        if (!h.ok() || static_cast<int64_t>((*h)[0].behaviors.size()) != events) std::abort();
        benchmark::DoNotOptimize(h);
      },
      [&] {
        auto h = RawHistory(raw, users[0], events);
        if (static_cast<int64_t>(h.size()) != events) std::abort();
        benchmark::DoNotOptimize(h);
      });
  state.counters["events_per_s"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_History)->Arg(1000)->Arg(10000)->Arg(100000)->UseManualTime()->Unit(benchmark::kMicrosecond);

void BM_HistoryGrpc(benchmark::State& state) {
  const int64_t events = state.range(0);
  Dataset& data = Dataset::Get();
  std::unique_ptr<FeatureStore> store = OpenStore(data.dir());
  Executor executor(4);
  CallPolicy policy;
  policy.executor = &executor;
  feature_store::FeatureStoreService service(policy, "");
  service.set_store(store.get());
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  feature_store::RemoteStoreOptions options;
  options.shards = feature_store::InsecureShardChannels({absl::StrCat("127.0.0.1:", port)});
  absl::StatusOr<std::unique_ptr<FeatureStore>> remote = feature_store::OpenRemoteStore(options);
  Check(remote.status(), "OpenRemoteStore");
  const std::vector<std::string> users = {UserFor(events)};
  RunWithReference(
      state, "in_process",
      [&] {
        auto h = (*remote)->GetHistories(users, HistoryQuery{events, std::nullopt});
        if (!h.ok() || static_cast<int64_t>((*h)[0].behaviors.size()) != events) std::abort();
        benchmark::DoNotOptimize(h);
      },
      [&] {
        auto h = store->GetHistories(users, HistoryQuery{events, std::nullopt});
        benchmark::DoNotOptimize(h);
      });
  state.counters["events_per_s"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsIterationInvariantRate);
  server->Shutdown();
  executor.Stop();
}
BENCHMARK(BM_HistoryGrpc)->Arg(1000)->Arg(10000)->Arg(100000)->UseManualTime()->Unit(benchmark::kMicrosecond);

double Recall(const std::vector<std::vector<int64_t>>& found) {
  const auto& truth = Dataset::Get().truth();
  double hits = 0;
  for (size_t q = 0; q < found.size(); ++q) {
    for (int64_t id : found[q]) hits += truth[q].count(id);
  }
  return hits / (static_cast<double>(found.size()) * kRecallK);
}

// Search/<table>/<queries per call>: kQueries queries per iteration, in calls of nq.
void BM_Search(benchmark::State& state, const char* table) {
  const int nq = static_cast<int>(state.range(0));
  Dataset& data = Dataset::Get();
  std::unique_ptr<FeatureStore> store = OpenStore(data.dir());
  std::unique_ptr<faiss::Index> raw(
      faiss::read_index(absl::StrCat(data.dir(), "/faiss/", table, ".1.faiss").c_str()));
  // The same knobs the store searches with.
  faiss::SearchParametersIVF ivf;
  ivf.nprobe = kNprobe;
  faiss::SearchParametersHNSW hnsw;
  hnsw.efSearch = 64;
  if (auto* h = dynamic_cast<faiss::IndexHNSW*>(raw.get())) h->hnsw.efSearch = 64;
  faiss::SearchParameters* params = nullptr;
  if (std::string(table) == "ivf") params = &ivf;
  if (std::string(table) == "hnsw") params = &hnsw;
  const std::vector<float>& queries = data.queries();
  std::vector<NeighborQuery> store_queries(kQueries);
  for (int q = 0; q < kQueries; ++q) {
    store_queries[q].vector.assign(queries.begin() + q * kDim, queries.begin() + (q + 1) * kDim);
    store_queries[q].k = kRecallK;
  }
  std::vector<std::vector<int64_t>> ours(kQueries), theirs(kQueries);
  std::vector<float> distances(static_cast<size_t>(nq) * kRecallK);
  std::vector<faiss::Index::idx_t> labels(static_cast<size_t>(nq) * kRecallK);
  RunWithReference(
      state, "raw_faiss",
      [&] {
        for (int first = 0; first < kQueries; first += nq) {
          absl::StatusOr<NeighborResults> r = store->SearchNeighbors(
              table, std::nullopt, absl::MakeConstSpan(store_queries).subspan(first, nq));
          if (!r.ok()) std::abort();
          for (int q = 0; q < nq; ++q) {
            ours[first + q].clear();
            for (const Neighbor& n : r->results[q]) ours[first + q].push_back(n.item_id);
          }
        }
      },
      [&] {
        for (int first = 0; first < kQueries; first += nq) {
          raw->search(nq, queries.data() + size_t{1} * first * kDim, kRecallK, distances.data(),
                      labels.data(), params);
          for (int q = 0; q < nq; ++q) {
            theirs[first + q].clear();
            for (int i = 0; i < kRecallK; ++i) {
              theirs[first + q].push_back(labels[q * kRecallK + i] + 1);  // row r is item r + 1
            }
          }
        }
      });
  state.counters["queries_per_s"] =
      benchmark::Counter(kQueries, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["recall_at_10"] = Recall(ours);
  state.counters["raw_recall_at_10"] = Recall(theirs);
}
BENCHMARK_CAPTURE(BM_Search, flat, "flat")->Arg(1)->Arg(256)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Search, ivf, "ivf")->Arg(1)->Arg(256)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Search, hnsw, "hnsw")->Arg(1)->Arg(256)->UseManualTime()->Unit(benchmark::kMicrosecond);

// Ingest/<batch>: batches of fresh events (unique ids) over 1000 users, the WAL synced on
// every call in both the store and the raw reference.
void BM_Ingest(benchmark::State& state) {
  const int64_t batch = state.range(0);
  char pattern[] = "/tmp/recsys-ingest-bench-XXXXXX";
  const std::string dir = mkdtemp(pattern);
  std::unique_ptr<FeatureStore> store = OpenStore(dir + "/store", /*sync_writes=*/true);
  rocksdb::Options raw_options;
  raw_options.create_if_missing = true;
  rocksdb::DB* raw_db = nullptr;
  Check(rocksdb::DB::Open(raw_options, dir + "/raw", &raw_db), "DB::Open raw");
  std::unique_ptr<rocksdb::DB> raw(raw_db);
  int64_t next = 0;
  auto make_batch = [&] {
    std::vector<Event> events(static_cast<size_t>(batch));
    for (Event& e : events) {
      const int64_t n = next++;
      e.event_id = absl::StrCat("ev-", n);
      e.user_id = absl::StrCat("user-", n % 1000);
      e.item_id = n % kItems + 1;
      e.type = 1;
      e.timestamp_ms = 1700000000000 + n;
    }
    return events;
  };
  rocksdb::WriteOptions synced;
  synced.sync = true;
  RunWithReference(
      state, "raw_rocksdb",
      [&] {
        const std::vector<Event> events = make_batch();  // built in both loops alike
        if (!store->IngestEvents(events).ok()) std::abort();
      },
      [&] {
        const std::vector<Event> events = make_batch();
        rocksdb::WriteBatch wb;
        for (const Event& e : events) {
          std::string key = keys::UserPrefix(e.user_id);
          key += keys::EventSuffix(e.timestamp_ms, static_cast<uint64_t>(next));
          wb.Put(key, keys::EncodeEventValue(e));
        }
        if (!raw->Write(synced, &wb).ok()) std::abort();
      });
  state.counters["events_per_s"] =
      benchmark::Counter(static_cast<double>(batch), benchmark::Counter::kIsIterationInvariantRate);
  store.reset();
  raw.reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_Ingest)->Arg(1)->Arg(100)->Arg(1000)->UseManualTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace recsys::store::bench

BENCHMARK_MAIN();
