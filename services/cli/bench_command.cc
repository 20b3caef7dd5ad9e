#include "services/cli/bench_command.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "recsys/seqrec/v1/seqrec.grpc.pb.h"
#include "services/cli/command_util.h"

namespace recsys::cli {
namespace {

namespace sr = ::recsys::seqrec::v1;

struct LoadResult {
  int64_t ok = 0, errors = 0, shed = 0;  // shed: RESOURCE_EXHAUSTED / UNAVAILABLE (of errors)
  double seconds = 0, p50_ms = 0, p90_ms = 0, p99_ms = 0;
  std::string first_error;
};

bool IsShed(const grpc::Status& s) {
  return s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED ||
         s.error_code() == grpc::StatusCode::UNAVAILABLE;
}

// Runs `call` from `concurrency` threads for `duration`; each call returns its status. A caller
// whose call is shed waits before its next one, as gRPC's retry policy does: a jittered
// exponential backoff from `shed_backoff` (doubling up to 64x, reset by a success). Zero retries
// at once, a retry storm that spends the server's cores on refusals.
LoadResult Load(int concurrency, absl::Duration duration, absl::Duration shed_backoff,
                const std::function<grpc::Status()>& call) {
  using Clock = std::chrono::steady_clock;
  std::mutex mu;
  std::vector<double> latencies_ms;
  LoadResult result;
  const absl::Time end = absl::Now() + duration;
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < concurrency; ++t) {
    threads.emplace_back([&, t] {
      std::vector<double> mine;
      int64_t errors = 0, shed = 0;
      std::string error;
      std::minstd_rand jitter(static_cast<uint32_t>(t) + 1);
      absl::Duration backoff = shed_backoff;
      while (absl::Now() < end) {
        const auto t0 = Clock::now();
        const grpc::Status s = call();
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        if (s.ok()) {
          mine.push_back(ms);
          backoff = shed_backoff;
          continue;
        }
        ++errors;
        if (error.empty()) error = s.error_message();
        if (IsShed(s)) {
          ++shed;
          // Sleep a uniform fraction in [0.5, 1) of the current backoff, then double it.
          absl::SleepFor(backoff * (0.5 + 0.5 * (jitter() % 1000) / 1000.0));
          backoff = std::min(backoff * 2, shed_backoff * 64);
        }
      }
      std::lock_guard<std::mutex> lock(mu);
      latencies_ms.insert(latencies_ms.end(), mine.begin(), mine.end());
      result.errors += errors;
      result.shed += shed;
      if (result.first_error.empty()) result.first_error = error;
    });
  }
  for (std::thread& t : threads) t.join();
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  result.ok = static_cast<int64_t>(latencies_ms.size());
  std::sort(latencies_ms.begin(), latencies_ms.end());
  auto at = [&](double q) {
    return latencies_ms.empty() ? 0.0
                                : latencies_ms[std::min(latencies_ms.size() - 1,
                                                        static_cast<size_t>(q * latencies_ms.size()))];
  };
  result.p50_ms = at(0.50);
  result.p90_ms = at(0.90);
  result.p99_ms = at(0.99);
  return result;
}

void Print(const CommandContext& ctx, const std::string& what, const LoadResult& r) {
  *ctx.out << absl::StrFormat("%-22s %9.0f calls/s  p50 %8.3f ms  p90 %8.3f ms  p99 %8.3f ms  "
                              "(%d ok, %d errors, %d of them shed)\n",
                              what, r.ok / r.seconds, r.p50_ms, r.p90_ms, r.p99_ms, r.ok, r.errors,
                              r.shed);
  if (!r.first_error.empty()) *ctx.out << "  first error: " << r.first_error << "\n";
}

}  // namespace

int RunBench(const CommandContext& ctx, const BenchArgs& args) {
  auto seqrec = sr::SeqRecService::NewStub(ctx.channel);
  auto health = grpc::health::v1::Health::NewStub(ctx.channel);
  std::function<grpc::Status()> call;
  common::v1::UserRef user;
  if (!args.seqrec.user_ids.empty()) user.set_user_id(args.seqrec.user_ids[0]);
  for (int64_t item : args.seqrec.history) user.mutable_history()->add_behaviors()->set_item_id(item);
  if (args.rpc == "score") {
    sr::ScoreRequest request;
    request.mutable_model()->set_name(args.seqrec.model);
    *request.add_queries()->mutable_user() = user;
    request.mutable_queries(0)->mutable_candidate_item_ids()->Add(args.seqrec.candidates.begin(),
                                                                  args.seqrec.candidates.end());
    call = [&, request] {
      grpc::ClientContext c;
      SetDeadline(ctx, &c);
      sr::ScoreResponse response;
      return seqrec->Score(&c, request, &response);
    };
  } else {
    sr::RecommendRequest request;
    request.mutable_model()->set_name(args.seqrec.model);
    *request.add_queries()->mutable_user() = user;
    request.mutable_queries(0)->set_k(args.seqrec.k);
    request.set_retrieval(args.seqrec.index ? sr::RETRIEVAL_INDEX : sr::RETRIEVAL_EXACT);
    call = [&, request] {
      grpc::ClientContext c;
      SetDeadline(ctx, &c);
      sr::RecommendResponse response;
      return seqrec->Recommend(&c, request, &response);
    };
  }
  *ctx.out << "target " << ctx.target << ", " << args.concurrency << " concurrent callers, "
           << absl::FormatDuration(args.duration) << " each\n";
  const LoadResult ours = Load(args.concurrency, args.duration, args.shed_backoff, call);
  Print(ctx, args.rpc + " " + args.seqrec.model, ours);
  const LoadResult noop = Load(args.concurrency, args.duration, args.shed_backoff, [&] {
    grpc::ClientContext c;
    SetDeadline(ctx, &c);
    grpc::health::v1::HealthCheckResponse response;
    return health->Check(&c, grpc::health::v1::HealthCheckRequest(), &response);
  });
  Print(ctx, "no-op (health Check)", noop);
  if (ours.ok > 0 && noop.ok > 0) {
    *ctx.out << absl::StrFormat("throughput vs no-op: %.3f; p50 latency over no-op: +%.3f ms\n",
                                (ours.ok / ours.seconds) / (noop.ok / noop.seconds),
                                ours.p50_ms - noop.p50_ms);
  }
  return ours.errors == 0 ? kExitOk : kExitFailure;
}

}  // namespace recsys::cli
