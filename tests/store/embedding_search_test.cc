// Local-store embedding search: recall of the approximate indexes against Flat, reopening
// persisted indexes, and atomic version swaps under concurrent searches.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <random>
#include <thread>
#include <vector>

#include "recsys/store/local_store.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace recsys::store {
namespace {

using ::recsys::testing::IsOk;

std::unique_ptr<FeatureStore> Open(const std::string& dir) {
  LocalStoreOptions options;
  options.data_dir = dir;
  options.block_cache_bytes = 8 << 20;
  absl::StatusOr<std::unique_ptr<FeatureStore>> store = OpenLocalStore(options);
  EXPECT_THAT(store.status(), IsOk());
  return store.ok() ? *std::move(store) : nullptr;
}

std::vector<float> RandomRows(int64_t rows, int32_t dim, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<float> values(rows * dim);
  for (float& v : values) v = normal(rng);
  return values;
}

absl::Status Upload(FeatureStore& store, const TableSpec& spec, const std::vector<float>& values) {
  absl::StatusOr<std::unique_ptr<EmbeddingUpload>> upload = store.BeginEmbeddingUpload(spec);
  if (!upload.ok()) return upload.status();
  const int64_t rows = static_cast<int64_t>(values.size()) / spec.dim;
  for (int64_t first = 0; first < rows; first += 1000) {
    const int64_t n = std::min<int64_t>(1000, rows - first);
    std::vector<int64_t> ids(n);
    for (int64_t i = 0; i < n; ++i) ids[i] = first + i + 1;
    const absl::Status s =
        (*upload)->Append(ids, absl::MakeConstSpan(values.data() + first * spec.dim, n * spec.dim));
    if (!s.ok()) return s;
  }
  return (*upload)->Finish().status();
}

TableSpec Spec(const std::string& name, int32_t dim, IndexType type, Metric metric) {
  TableSpec spec;
  spec.name = name;
  spec.version = 1;
  spec.dim = dim;
  spec.index.type = type;
  spec.index.metric = metric;
  return spec;
}

// Mean recall@10 of `type` against Flat over 100 random queries.
double RecallAt10(FeatureStore& store, IndexType type, Metric metric, const std::string& name) {
  const int32_t dim = 32;
  const std::vector<float> rows = RandomRows(5000, dim, 7);
  EXPECT_THAT(Upload(store, Spec(name + "-flat", dim, IndexType::kFlat, metric), rows), IsOk());
  // Unstructured Gaussian data is the hardest case for approximate search: probe a third of
  // the 282 IVF lists and search HNSW wide (with the defaults, 16 probes and ef 64, IVF
  // reaches about 0.57 here).
  TableSpec spec = Spec(name, dim, type, metric);
  spec.index.nprobe = 96;
  spec.index.ef_search = 200;
  EXPECT_THAT(Upload(store, spec, rows), IsOk());
  const std::vector<float> queries = RandomRows(100, dim, 8);
  std::vector<NeighborQuery> batch(100);
  for (int q = 0; q < 100; ++q) {
    batch[q].vector.assign(queries.begin() + q * dim, queries.begin() + (q + 1) * dim);
    batch[q].k = 10;
  }
  absl::StatusOr<NeighborResults> exact = store.SearchNeighbors(name + "-flat", 1, batch);
  absl::StatusOr<NeighborResults> approx = store.SearchNeighbors(name, 1, batch);
  EXPECT_THAT(exact.status(), IsOk());
  EXPECT_THAT(approx.status(), IsOk());
  if (!exact.ok() || !approx.ok()) return 0;
  int hits = 0;
  for (int q = 0; q < 100; ++q) {
    for (const Neighbor& a : approx->results[q]) {
      for (const Neighbor& e : exact->results[q]) hits += a.item_id == e.item_id;
    }
  }
  return hits / 1000.0;
}

TEST(EmbeddingSearchTest, ApproximateIndexesRecallTheExactNeighbours) {
  recsys::testing::TempDir dir;
  std::unique_ptr<FeatureStore> store = Open(dir.path());
  for (Metric metric : {Metric::kInnerProduct, Metric::kL2}) {
    const std::string suffix = metric == Metric::kL2 ? "l2" : "ip";
    const double ivf = RecallAt10(*store, IndexType::kIvfFlat, metric, "ivf-" + suffix);
    const double hnsw = RecallAt10(*store, IndexType::kHnsw, metric, "hnsw-" + suffix);
    RecordProperty("recall_ivf_" + suffix, std::to_string(ivf));
    RecordProperty("recall_hnsw_" + suffix, std::to_string(hnsw));
    EXPECT_GE(ivf, 0.9) << suffix;
    EXPECT_GE(hnsw, 0.95) << suffix;
    std::printf("recall@10 vs Flat (%s): IVF %.3f, HNSW %.3f\n", suffix.c_str(), ivf, hnsw);
  }
}

TEST(EmbeddingSearchTest, IndexesAreReopenedAndRebuiltWhenTheirFileIsGone) {
  recsys::testing::TempDir dir;
  const std::vector<float> rows = RandomRows(500, 8, 3);
  NeighborQuery q;
  q.vector.assign(rows.begin(), rows.begin() + 8);  // row of item 1
  q.k = 5;
  std::vector<int64_t> before;
  {
    std::unique_ptr<FeatureStore> store = Open(dir.path());
    ASSERT_THAT(Upload(*store, Spec("h", 8, IndexType::kHnsw, Metric::kL2), rows), IsOk());
    absl::StatusOr<NeighborResults> r = store->SearchNeighbors("h", std::nullopt, {q});
    ASSERT_THAT(r.status(), IsOk());
    for (const Neighbor& n : r->results[0]) before.push_back(n.item_id);
    EXPECT_EQ(before.front(), 1);
  }
  for (bool remove_file : {false, true}) {
    if (remove_file) std::filesystem::remove(dir.path() + "/faiss/h.1.faiss");
    std::unique_ptr<FeatureStore> store = Open(dir.path());
    absl::StatusOr<NeighborResults> r = store->SearchNeighbors("h", std::nullopt, {q});
    ASSERT_THAT(r.status(), IsOk());
    ASSERT_EQ(r->results[0].size(), 5u);
    EXPECT_EQ(r->results[0][0].item_id, 1) << "remove_file=" << remove_file;
    // Exclusions and category filters reach inside the HNSW search too.
    NeighborQuery excluding = q;
    excluding.exclude_item_ids = {1, before[1]};
    r = store->SearchNeighbors("h", std::nullopt, {excluding});
    ASSERT_THAT(r.status(), IsOk());
    ASSERT_EQ(r->results[0].size(), 5u);
    for (const Neighbor& n : r->results[0]) {
      EXPECT_NE(n.item_id, 1);
      EXPECT_NE(n.item_id, before[1]);
    }
    EXPECT_EQ(r->results[0][0].item_id, before[2]);
  }
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/faiss/h.1.faiss"));
}

TEST(EmbeddingSearchTest, SearchesContinueWhileANewVersionIsPublished) {
  recsys::testing::TempDir dir;
  std::unique_ptr<FeatureStore> store = Open(dir.path());
  const std::vector<float> rows = RandomRows(2000, 16, 5);
  ASSERT_THAT(Upload(*store, Spec("s", 16, IndexType::kFlat, Metric::kInnerProduct), rows), IsOk());
  std::atomic<bool> stop{false};
  std::atomic<int64_t> failures{0}, searches{0}, saw_v2{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&] {
      NeighborQuery q;
      q.vector.assign(rows.begin(), rows.begin() + 16);
      q.k = 10;
      while (!stop) {
        absl::StatusOr<NeighborResults> r = store->SearchNeighbors("s", std::nullopt, {q});
        if (!r.ok() || r->results[0].size() != 10) ++failures;
        if (r.ok() && r->version == 2) ++saw_v2;
        ++searches;
      }
    });
  }
  TableSpec v2 = Spec("s", 16, IndexType::kHnsw, Metric::kInnerProduct);
  v2.version = 2;
  ASSERT_THAT(Upload(*store, v2, RandomRows(2000, 16, 6)), IsOk());
  while (saw_v2 == 0) std::this_thread::yield();
  stop = true;
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(searches.load(), 0);
}

}  // namespace
}  // namespace recsys::store
