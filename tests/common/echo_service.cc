#include "tests/common/echo_service.h"

#include <stdexcept>

#include "absl/time/clock.h"

namespace recsys::testing {

grpc::ServerUnaryReactor* EchoService::Echo(grpc::CallbackServerContext* call,
                                            const v1::EchoRequest* request,
                                            v1::EchoResponse* response) {
  return ServeUnary(call, policy_, request, response,
                    [this](const RpcContext& ctx, const v1::EchoRequest& req,
                           v1::EchoResponse* resp) -> absl::Status {
                      resp->set_remaining_deadline_ms(absl::ToInt64Milliseconds(ctx.Remaining()));
                      if (req.throw_exception()) throw std::runtime_error("boom");
                      if (req.fail_with_code() != 0) {
                        return absl::Status(static_cast<absl::StatusCode>(req.fail_with_code()),
                                            req.text());
                      }
                      if (req.work_ms() > 0) {
                        const int now = ++working;
                        for (int seen = max_working.load(); now > seen;) {
                          if (max_working.compare_exchange_weak(seen, now)) break;
                        }
                        if (work_started != nullptr && !work_started->HasBeenNotified()) {
                          work_started->Notify();
                        }
                        absl::Status status = absl::OkStatus();
                        const absl::Time done = absl::Now() + absl::Milliseconds(req.work_ms());
                        while (status.ok() && absl::Now() < done) {
                          status = ctx.Check("echo work");
                          if (!status.ok()) saw_cancellation = true;
                          absl::SleepFor(absl::Milliseconds(5));
                        }
                        --working;
                        if (!status.ok()) return status;
                      }
                      resp->set_text(req.text());
                      return absl::OkStatus();
                    });
}

}  // namespace recsys::testing
