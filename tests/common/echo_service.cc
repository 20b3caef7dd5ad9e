#include "tests/common/echo_service.h"

#include <stdexcept>

#include "absl/time/clock.h"

namespace recsys::testing {

grpc::ServerUnaryReactor* EchoService::Echo(grpc::CallbackServerContext* call,
                                            const v1::EchoRequest* request,
                                            v1::EchoResponse* response) {
  return ServeUnary(call, policy_, [&](const RpcContext& ctx) -> absl::Status {
    response->set_remaining_deadline_ms(absl::ToInt64Milliseconds(ctx.Remaining()));
    if (request->throw_exception()) throw std::runtime_error("boom");
    if (request->fail_with_code() != 0) {
      return absl::Status(static_cast<absl::StatusCode>(request->fail_with_code()),
                          request->text());
    }
    if (request->work_ms() > 0) {
      if (work_started != nullptr && !work_started->HasBeenNotified()) work_started->Notify();
      const absl::Time done = absl::Now() + absl::Milliseconds(request->work_ms());
      while (absl::Now() < done) {
        if (absl::Status live = ctx.Check("echo work"); !live.ok()) {
          saw_cancellation = true;
          return live;
        }
        absl::SleepFor(absl::Milliseconds(5));
      }
    }
    response->set_text(request->text());
    return absl::OkStatus();
  });
}

}  // namespace recsys::testing
