// The feature store in the real recsys-server binary: acknowledged events survive kill -9
// mid-ingestion and client retries store nothing twice; a write that the disk refuses is
// UNAVAILABLE with its cause while the process stays up and keeps serving reads.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/feature_store/remote_store.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/server_process.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace recsys {
namespace {

using ::recsys::testing::IsOk;
using ::recsys::testing::StatusIs;
using ::recsys::testing::Subprocess;
using ::testing::HasSubstr;

constexpr int kUsers = 16;
constexpr int kBatchSize = 40;

// Batch b holds events b * kBatchSize + i for i < kBatchSize; event n belongs to user n % kUsers
// and has item id n + 1, so a history tells exactly which events it holds.
std::vector<store::Event> Batch(int b) {
  std::vector<store::Event> events;
  for (int i = 0; i < kBatchSize; ++i) {
    const int n = b * kBatchSize + i;
    store::Event e;
    e.event_id = absl::StrCat("ev-", n);
    e.user_id = absl::StrCat("user-", n % kUsers);
    e.item_id = n + 1;
    e.category_id = n % 5;
    e.type = 2;
    e.timestamp_ms = 1700000000000 + n;
    events.push_back(e);
  }
  return events;
}

std::vector<std::string> AllUsers() {
  std::vector<std::string> users;
  for (int u = 0; u < kUsers; ++u) users.push_back(absl::StrCat("user-", u));
  return users;
}

class FeatureStoreBinaryTest : public ::testing::Test {
 protected:
  // Starts recsys-server --services=feature_store on data_dir (optionally under a wrapper
  // such as prlimit) and connects a one-shard remote store to it.
  void StartServer(std::vector<std::string> prefix = {}) {
    std::vector<std::string> argv = std::move(prefix);
    const std::vector<std::string> server = {
        RECSYS_SERVER_BINARY,
        "--services=feature_store",
        "--bind_address=127.0.0.1",
        "--grpc_port=0",
        "--metrics_port=0",
        absl::StrCat("--data_dir=", dir_.File("data")),
        absl::StrCat("--ports_file=", dir_.File("ports.json")),
        "--drain_timeout=2s"};
    argv.insert(argv.end(), server.begin(), server.end());
    absl::StatusOr<recsys::testing::ServerPorts> ports = recsys::testing::StartServerProcess(
        argv, dir_.path(), dir_.File("ports.json"), &server_);
    ASSERT_THAT(ports, IsOk());
    port_ = ports->grpc_port;
    feature_store::RemoteStoreOptions options;
    options.shards = feature_store::InsecureShardChannels({absl::StrCat("127.0.0.1:", port_)});
    options.max_attempts = 1;  // the test retries by itself, to count what was acknowledged
    options.timeout = absl::Seconds(10);
    absl::StatusOr<std::unique_ptr<store::FeatureStore>> remote =
        feature_store::OpenRemoteStore(options);
    ASSERT_THAT(remote.status(), IsOk());
    store_ = *std::move(remote);
  }

  // Every user's item ids, oldest first.
  std::map<std::string, std::vector<int64_t>> Histories() {
    std::map<std::string, std::vector<int64_t>> out;
    absl::StatusOr<std::vector<store::UserHistory>> h =
        store_->GetHistories(AllUsers(), store::HistoryQuery{100000, std::nullopt});
    EXPECT_THAT(h.status(), IsOk());
    if (!h.ok()) return out;
    for (int u = 0; u < kUsers; ++u) {
      for (const store::Behavior& b : (*h)[u].behaviors) {
        out[absl::StrCat("user-", u)].push_back(b.item_id);
      }
    }
    return out;
  }

  recsys::testing::RunResult Cli(std::vector<std::string> args) {
    args.insert(args.begin(), RECSYS_CLI_BINARY);
    args.push_back(absl::StrCat("--target=127.0.0.1:", port_));
    absl::StatusOr<recsys::testing::RunResult> result =
        recsys::testing::RunToCompletion(args, dir_.path());
    EXPECT_THAT(result, IsOk());
    return result.ok() ? *result : recsys::testing::RunResult{};
  }

  recsys::testing::TempDir dir_;
  int port_ = 0;
  std::optional<Subprocess> server_;
  std::unique_ptr<store::FeatureStore> store_;
};

TEST_F(FeatureStoreBinaryTest, AcknowledgedEventsSurviveKillNineAndRetriesStoreNothingTwice) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  // A client ingests batches as fast as it can; once 25 are acknowledged the server is killed
  // with SIGKILL while the client keeps sending.
  std::vector<int> acknowledged;
  std::atomic<int> acked_count{0};
  int attempted = 0;
  std::thread client([&] {
    for (int b = 0; b < 10000; ++b) {
      attempted = b + 1;
      if (store_->IngestEvents(Batch(b)).ok()) {
        acknowledged.push_back(b);
        ++acked_count;
      } else if (acked_count.load() >= 25) {
        return;  // the server is gone
      }
    }
  });
  while (acked_count.load() < 25) absl::SleepFor(absl::Milliseconds(1));
  ASSERT_TRUE(server_->Signal(SIGKILL));
  client.join();
  ASSERT_EQ(server_->Wait(absl::Seconds(10)), 128 + SIGKILL);
  ASSERT_GE(static_cast<int>(acknowledged.size()), 25);

  ASSERT_NO_FATAL_FAILURE(StartServer());
  // Every acknowledged event is there, each once; an unacknowledged batch is all or nothing.
  std::map<std::string, std::vector<int64_t>> histories = Histories();
  std::set<int64_t> stored;
  for (const auto& [user, items] : histories) {
    for (int64_t item : items) EXPECT_TRUE(stored.insert(item).second) << "item " << item << " twice";
  }
  for (int b : acknowledged) {
    for (const store::Event& e : Batch(b)) {
      EXPECT_TRUE(stored.count(e.item_id)) << "acknowledged event " << e.event_id << " lost";
    }
  }
  for (int b = 0; b < attempted; ++b) {
    int present = 0;
    for (const store::Event& e : Batch(b)) present += stored.count(e.item_id) ? 1 : 0;
    EXPECT_TRUE(present == 0 || present == kBatchSize) << "batch " << b << " half stored";
  }

  // The client retries everything it sent: what was stored is acknowledged as a duplicate,
  // the rest is stored once.
  int64_t newly = 0, duplicates = 0;
  for (int b = 0; b < attempted; ++b) {
    absl::StatusOr<store::IngestResult> r = store_->IngestEvents(Batch(b));
    ASSERT_THAT(r.status(), IsOk());
    newly += r->stored;
    duplicates += r->duplicates;
  }
  EXPECT_EQ(duplicates, static_cast<int64_t>(stored.size()));
  EXPECT_EQ(newly + duplicates, int64_t{attempted} * kBatchSize);
  histories = Histories();
  for (int u = 0; u < kUsers; ++u) {
    const std::vector<int64_t>& items = histories[absl::StrCat("user-", u)];
    std::vector<int64_t> expected;
    for (int n = u; n < attempted * kBatchSize; n += kUsers) expected.push_back(n + 1);
    EXPECT_EQ(items, expected) << "user-" << u;  // every event once, oldest first
  }
}

TEST_F(FeatureStoreBinaryTest, AWriteTheDiskRefusesIsUnavailableAndTheServerStaysUp) {
  // A file-size limit of 4 MiB on the server (prlimit, from util-linux): once the write-ahead
  // log reaches it, RocksDB's writes fail with EFBIG as they would on a full disk.
  ASSERT_NO_FATAL_FAILURE(StartServer({"/usr/bin/prlimit", "--fsize=4194304", "--"}));
  absl::Status failure;
  int b = 0;
  for (; b < 5000 && failure.ok(); ++b) {
    std::vector<store::Event> events = Batch(b);
    for (store::Event& e : events) e.values = {{"padding_to_fill_the_log", 1.0}};
    absl::StatusOr<store::IngestResult> r = store_->IngestEvents(events);
    failure = r.status();
  }
  ASSERT_FALSE(failure.ok()) << "4 MiB of log never filled after " << b << " batches";
  EXPECT_THAT(failure, StatusIs(absl::StatusCode::kUnavailable, HasSubstr("IO error")));
  // The process is up: reads answer, and further writes fail the same way instead of crashing.
  EXPECT_FALSE(server_->Wait(absl::Milliseconds(200)).has_value()) << server_->Stderr();
  absl::StatusOr<std::vector<store::UserHistory>> h =
      store_->GetHistories({"user-0"}, store::HistoryQuery{10, std::nullopt});
  ASSERT_THAT(h.status(), IsOk());
  EXPECT_EQ((*h)[0].behaviors.size(), 10u);
  EXPECT_THAT(store_->IngestEvents(Batch(b + 1)).status(),
              StatusIs(absl::StatusCode::kUnavailable, ::testing::_));
  EXPECT_FALSE(server_->Wait(absl::Milliseconds(100)).has_value());
}

TEST_F(FeatureStoreBinaryTest, CliIngestsAFileShowsHistoriesSearchesAndCheckpoints) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  {
    std::ofstream out(dir_.File("events.jsonl"));
    out << "# user, item, type, time\n"
        << R"({"event_id":"a1","user_id":"alice","item_id":"3","type":"EVENT_TYPE_CLICK","timestamp_ms":"1000"})"
        << "\n\n"
        << R"({"user_id":"alice","item_id":5,"category_id":2,"type":"EVENT_TYPE_PURCHASE","timestamp_ms":2000})"
        << "\n"
        << R"({"event_id":"b1","user_id":"bob","item_id":7,"timestamp_ms":1500,"values":{"rating":4.5}})"
        << "\n";
  }
  recsys::testing::RunResult r = Cli({"ingest", "--file=" + dir_.File("events.jsonl")});
  EXPECT_EQ(r.exit_status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("3 stored, 0 duplicates"));
  // The same file again (the id-less line gets the same derived id): nothing new.
  r = Cli({"ingest", "--json", "--file=" + dir_.File("events.jsonl")});
  EXPECT_EQ(r.exit_status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(R"("duplicate_count":"3")"));

  r = Cli({"history", "--user=alice,bob,nobody"});
  EXPECT_EQ(r.exit_status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("user alice: 2 of 2 events"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("item 3 .*\n.*item 5 .*EVENT_TYPE_PURCHASE"));
  EXPECT_THAT(r.out, HasSubstr("user nobody: 0 of 0 events"));

  store::TableSpec spec;
  spec.name = "items";
  spec.version = 1;
  spec.dim = 2;
  absl::StatusOr<std::unique_ptr<store::EmbeddingUpload>> upload =
      store_->BeginEmbeddingUpload(spec);
  ASSERT_THAT(upload.status(), IsOk());
  ASSERT_THAT((*upload)->Append({1, 2, 3}, {1, 0, 0.9f, 0.1f, 0, 1}), IsOk());
  ASSERT_THAT((*upload)->Finish().status(), IsOk());
  r = Cli({"search", "--table=items", "--vector=1,0", "--k=2"});
  EXPECT_EQ(r.exit_status, 0) << r.err;
  EXPECT_THAT(r.out, ::testing::ContainsRegex("1  item 1 .*\n.*2  item 2 "));
  r = Cli({"search", "--table=items", "--item=1", "--k=1", "--json"});
  EXPECT_EQ(r.exit_status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(R"("item_id":"2")"));

  r = Cli({"checkpoint", "--directory=first"});
  EXPECT_EQ(r.exit_status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("checkpoints/first"));

  // Errors: the server's message reaches the user, and a bad file sends nothing.
  r = Cli({"search", "--table=nope", "--vector=1,0"});
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_THAT(r.err, HasSubstr("NOT_FOUND"));
  r = Cli({"history", "--user=alice", "--max_events=0"});
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_THAT(r.err, HasSubstr("INVALID_ARGUMENT: max_events"));
  {
    std::ofstream out(dir_.File("bad.jsonl"));
    out << R"({"event_id":"c1","user_id":"carol","item_id":1})" << "\n" << "{not json\n";
  }
  r = Cli({"ingest", "--file=" + dir_.File("bad.jsonl")});
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_THAT(r.err, HasSubstr("bad.jsonl:2"));
  r = Cli({"history", "--user=carol"});
  EXPECT_THAT(r.out, HasSubstr("user carol: 0 of 0 events"));
  r = Cli({"search", "--table=items"});
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_THAT(r.err, HasSubstr("exactly one of --item and --vector"));
}

}  // namespace
}  // namespace recsys
