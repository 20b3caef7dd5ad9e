// EchoService and a ServiceModule hosting it, for runtime tests.
#pragma once

#include <atomic>

#include "absl/synchronization/notification.h"
#include "services/common/service_module.h"
#include "testdata/echo.grpc.pb.h"

namespace recsys::testing {

class EchoService final : public recsys::testing::v1::EchoService::CallbackService {
 public:
  explicit EchoService(CallPolicy policy) : policy_(policy) {}

  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* call, const v1::EchoRequest* request,
                                 v1::EchoResponse* response) override;

  // Notified when a handler with work_ms > 0 starts working.
  absl::Notification* work_started = nullptr;
  // Set when a working handler saw its call cancelled.
  std::atomic<bool> saw_cancellation{false};
  // Handlers working now, and the most ever working at once.
  std::atomic<int> working{0};
  std::atomic<int> max_working{0};

 private:
  CallPolicy policy_;
};

class EchoModule final : public ServiceModule {
 public:
  // on_start runs as the module's Start() (it may block, to test start-up).
  EchoModule(const ServiceEnv& env, std::function<absl::Status()> on_start)
      : service_(env.call_policy), on_start_(std::move(on_start)) {}

  std::string name() const override { return "echo"; }
  std::vector<GrpcServiceEntry> grpc_services() override {
    return {{&service_, v1::EchoService::service_full_name()}};
  }
  absl::Status Start() override { return on_start_(); }
  void Stop() override { stopped = true; }

  EchoService& service() { return service_; }
  std::atomic<bool> stopped{false};

 private:
  EchoService service_;
  std::function<absl::Status()> on_start_;
};

}  // namespace recsys::testing
