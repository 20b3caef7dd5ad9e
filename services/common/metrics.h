// Prometheus metrics every recsys process exports (prometheus-cpp, pull model).
//
// gRPC server metrics, one series set per method, recorded by a server interceptor so no
// handler can forget them (names follow the go-grpc-prometheus convention, recsys_ prefix):
//   recsys_grpc_server_started_total{grpc_service,grpc_method,grpc_type}          counter
//   recsys_grpc_server_handled_total{grpc_service,grpc_method,grpc_type,grpc_code} counter
//   recsys_grpc_server_handling_seconds{grpc_service,grpc_method,grpc_type}        histogram
//   recsys_grpc_server_in_flight_requests{grpc_service,grpc_method,grpc_type}      gauge
// grpc_code is the upper-case canonical name ("OK", "INVALID_ARGUMENT", ...). Only methods of
// the services the server registered get their own labels; anything else a client sends is
// counted under grpc_service="unknown", grpc_method="unknown" (bounded cardinality).
// Process metrics:
//   recsys_build_info{version,git_revision,cuda}  gauge, always 1
//   recsys_service_ready{service}                 gauge, 1 while the service reports SERVING
//   process_start_time_seconds                    gauge
#pragma once

#include <grpcpp/support/server_interceptor.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace recsys {

// Latency buckets (seconds) for every recsys histogram, so series aggregate across services:
// resolution around 1-50 ms, up to 10 s.
const std::vector<double>& LatencyBucketsSeconds();

class RpcMetrics {
 public:
  // grpc_services: fully-qualified names ("recsys.seqrec.v1.SeqRecService"); their methods
  // are read from the protobuf descriptor pool.
  RpcMetrics(prometheus::Registry& registry, const std::vector<std::string>& grpc_services);
  ~RpcMetrics();

  // Pass to ServerBuilder::experimental().SetInterceptorCreators(). RpcMetrics must outlive
  // the server.
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> NewInterceptorFactory();

  struct Method;  // label-resolved series of one method

 private:
  const Method* Find(const char* path) const;

  prometheus::Family<prometheus::Counter>& started_;
  prometheus::Family<prometheus::Counter>& handled_;
  prometheus::Family<prometheus::Histogram>& latency_;
  prometheus::Family<prometheus::Gauge>& in_flight_;
  // Keyed by "/package.Service/Method"; immutable after construction.
  absl::flat_hash_map<std::string, std::unique_ptr<Method>> methods_;
  std::unique_ptr<Method> unknown_;
};

// Sets recsys_build_info and process_start_time_seconds.
void RegisterProcessMetrics(prometheus::Registry& registry, const std::string& version,
                            const std::string& git_revision, bool cuda_built);

}  // namespace recsys
