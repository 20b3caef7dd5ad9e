#include "services/common/metrics.h"

#include <google/protobuf/descriptor.h>
#include <prometheus/counter.h>

#include <array>
#include <atomic>
#include <chrono>
#include <map>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "services/common/grpc_status.h"
#include "services/common/logging.h"

namespace recsys {

const std::vector<double>& LatencyBucketsSeconds() {
  static const auto* buckets = new std::vector<double>{
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return *buckets;
}

struct RpcMetrics::Method {
  std::map<std::string, std::string> labels;
  prometheus::Counter* started = nullptr;
  prometheus::Histogram* latency = nullptr;
  prometheus::Gauge* in_flight = nullptr;
  // One handled counter per status code, created on first use.
  prometheus::Family<prometheus::Counter>* handled_family = nullptr;
  mutable absl::Mutex mu;
  mutable std::array<std::atomic<prometheus::Counter*>, 17> handled{};

  prometheus::Counter& Handled(grpc::StatusCode code) const {
    size_t i = static_cast<size_t>(code);
    if (i >= handled.size()) i = static_cast<size_t>(grpc::StatusCode::UNKNOWN);
    prometheus::Counter* c = handled[i].load(std::memory_order_acquire);
    if (c != nullptr) return *c;
    absl::MutexLock lock(&mu);
    c = handled[i].load(std::memory_order_relaxed);
    if (c == nullptr) {
      auto labels_with_code = labels;
      labels_with_code["grpc_code"] = GrpcCodeName(static_cast<grpc::StatusCode>(i));
      c = &handled_family->Add(labels_with_code);
      handled[i].store(c, std::memory_order_release);
    }
    return *c;
  }
};

namespace {

using grpc::experimental::InterceptionHookPoints;

const char* MethodType(const google::protobuf::MethodDescriptor& m) {
  if (m.client_streaming() && m.server_streaming()) return "bidi_stream";
  if (m.client_streaming()) return "client_stream";
  if (m.server_streaming()) return "server_stream";
  return "unary";
}

class MetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit MetricsInterceptor(const RpcMetrics::Method* m)
      : method_(m), start_(std::chrono::steady_clock::now()) {
    method_->started->Increment();
    method_->in_flight->Increment();
  }

  ~MetricsInterceptor() override {
    // A call torn down without sending a status was cancelled (client gone, or shutdown).
    if (!recorded_) Record(grpc::StatusCode::CANCELLED);
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      Record(methods->GetSendStatus().error_code());
    }
    methods->Proceed();
  }

 private:
  // Once per call, when its status is sent: the client may already hold the status, so the
  // call stops counting as in flight here rather than when gRPC frees it.
  void Record(grpc::StatusCode code) {
    recorded_ = true;
    method_->in_flight->Decrement();
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start_;
    method_->latency->Observe(elapsed.count());
    method_->Handled(code).Increment();
  }

  const RpcMetrics::Method* method_;
  const std::chrono::steady_clock::time_point start_;
  bool recorded_ = false;
};

class MetricsInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit MetricsInterceptorFactory(std::function<const RpcMetrics::Method*(const char*)> find)
      : find_(std::move(find)) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new MetricsInterceptor(find_(info->method()));
  }

 private:
  std::function<const RpcMetrics::Method*(const char*)> find_;
};

}  // namespace

RpcMetrics::RpcMetrics(prometheus::Registry& registry,
                       const std::vector<std::string>& grpc_services)
    : started_(prometheus::BuildCounter()
                   .Name("recsys_grpc_server_started_total")
                   .Help("RPCs started on the server.")
                   .Register(registry)),
      handled_(prometheus::BuildCounter()
                   .Name("recsys_grpc_server_handled_total")
                   .Help("RPCs completed on the server, by status code.")
                   .Register(registry)),
      latency_(prometheus::BuildHistogram()
                   .Name("recsys_grpc_server_handling_seconds")
                   .Help("Time from receiving an RPC to sending its status, in seconds.")
                   .Register(registry)),
      in_flight_(prometheus::BuildGauge()
                     .Name("recsys_grpc_server_in_flight_requests")
                     .Help("RPCs currently being handled.")
                     .Register(registry)) {
  auto make = [&](std::map<std::string, std::string> labels) {
    auto m = std::make_unique<Method>();
    m->labels = std::move(labels);
    m->started = &started_.Add(m->labels);
    m->latency = &latency_.Add(m->labels, LatencyBucketsSeconds());
    m->in_flight = &in_flight_.Add(m->labels);
    m->handled_family = &handled_;
    return m;
  };
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  for (const std::string& service_name : grpc_services) {
    const google::protobuf::ServiceDescriptor* service = pool->FindServiceByName(service_name);
    if (service == nullptr) {
      log::Warn("no descriptor for service; its calls are counted as unknown",
                {{"grpc_service", service_name}});
      continue;
    }
    for (int i = 0; i < service->method_count(); ++i) {
      const google::protobuf::MethodDescriptor& method = *service->method(i);
      methods_["/" + service_name + "/" + method.name()] =
          make({{"grpc_service", service_name},
                {"grpc_method", method.name()},
                {"grpc_type", MethodType(method)}});
    }
  }
  unknown_ =
      make({{"grpc_service", "unknown"}, {"grpc_method", "unknown"}, {"grpc_type", "unknown"}});
}

RpcMetrics::~RpcMetrics() = default;

const RpcMetrics::Method* RpcMetrics::Find(const char* path) const {
  if (path != nullptr) {
    auto it = methods_.find(path);
    if (it != methods_.end()) return it->second.get();
  }
  return unknown_.get();
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
RpcMetrics::NewInterceptorFactory() {
  return std::make_unique<MetricsInterceptorFactory>(
      [this](const char* path) { return Find(path); });
}

void RegisterProcessMetrics(prometheus::Registry& registry, const std::string& version,
                            const std::string& git_revision, bool cuda_built) {
  prometheus::BuildGauge()
      .Name("recsys_build_info")
      .Help("Build of this binary; always 1.")
      .Register(registry)
      .Add({{"version", version},
            {"git_revision", git_revision},
            {"cuda", cuda_built ? "true" : "false"}})
      .Set(1);
  prometheus::BuildGauge()
      .Name("process_start_time_seconds")
      .Help("Start time of the process since the Unix epoch, in seconds.")
      .Register(registry)
      .Add({})
      .Set(absl::ToUnixMillis(absl::Now()) / 1000.0);
}

}  // namespace recsys
