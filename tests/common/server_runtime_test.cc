// The server runtime in-process, over real gRPC on loopback: health per service, status and
// deadline handling, admission control, metrics, graceful drain and TLS.
#include <gmock/gmock.h>
#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "recsys/admin/v1/admin.grpc.pb.h"
#include "services/cli/channel.h"
#include "services/common/server.h"
#include "tests/common/echo_service.h"
#include "tests/testing/free_port.h"
#include "tests/testing/http_get.h"
#include "tests/testing/raw_call.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace recsys {
namespace {

using ::recsys::testing::EchoModule;
using ::recsys::testing::IsOk;
using ::recsys::testing::IsOkAndHolds;
using ::recsys::testing::StatusIs;
using ::recsys::testing::v1::EchoRequest;
using ::recsys::testing::v1::EchoResponse;
using ::testing::HasSubstr;
using HealthStatus = grpc::health::v1::HealthCheckResponse;

class ServerRuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.services = {"echo"};
    options_.bind_address = "127.0.0.1";
    options_.grpc_port = 0;
    options_.metrics_port = 0;
    options_.data_dir = dir_.File("data");
    options_.drain_timeout = absl::Seconds(10);
  }

  absl::Status StartServer(std::function<absl::Status()> module_start = [] {
    return absl::OkStatus();
  }) {
    ServiceRegistry registry;
    EXPECT_THAT(registry.Register("echo",
                                  [this, module_start](const ServiceEnv& env)
                                      -> absl::StatusOr<std::unique_ptr<ServiceModule>> {
                                    auto m = std::make_unique<EchoModule>(env, module_start);
                                    module_ = m.get();
                                    return m;
                                  }),
                IsOk());
    absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(options_, registry);
    if (!server.ok()) return server.status();
    server_ = *std::move(server);
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->grpc_port()),
                                   grpc::InsecureChannelCredentials());
    return absl::OkStatus();
  }

  grpc::Status Echo(const EchoRequest& request, EchoResponse* response,
                    absl::Duration deadline = absl::ZeroDuration()) {
    grpc::ClientContext call;
    if (deadline > absl::ZeroDuration()) {
      call.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
    }
    return recsys::testing::v1::EchoService::NewStub(channel_)->Echo(&call, request, response);
  }

  absl::StatusOr<HealthStatus::ServingStatus> Health(const std::string& service) {
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(service);
    HealthStatus response;
    grpc::ClientContext call;
    call.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    const grpc::Status s =
        grpc::health::v1::Health::NewStub(channel_)->Check(&call, request, &response);
    if (!s.ok()) return absl::Status(static_cast<absl::StatusCode>(s.error_code()), "health");
    return response.status();
  }

  std::string ScrapeText() {
    return prometheus::TextSerializer().Serialize(server_->metrics_registry().Collect());
  }

  recsys::testing::TempDir dir_;
  ServerOptions options_;
  std::unique_ptr<Server> server_;
  EchoModule* module_ = nullptr;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(ServerRuntimeTest, ReportsEachServiceServingAndCreatesDataDir) {
  ASSERT_THAT(StartServer(), IsOk());
  EXPECT_THAT(Health(""), IsOkAndHolds(HealthStatus::SERVING));
  EXPECT_THAT(Health("recsys.testing.v1.EchoService"), IsOkAndHolds(HealthStatus::SERVING));
  EXPECT_THAT(Health("recsys.admin.v1.AdminService"), IsOkAndHolds(HealthStatus::SERVING));
  EXPECT_THAT(Health("recsys.seqrec.v1.SeqRecService"),
              StatusIs(absl::StatusCode::kNotFound, ::testing::_));
  EXPECT_TRUE(std::filesystem::is_directory(options_.data_dir));
}

TEST_F(ServerRuntimeTest, AdminServiceDescribesTheProcess) {
  options_.model_repo = "/models";
  ASSERT_THAT(StartServer(), IsOk());
  admin::v1::GetServerInfoResponse info;
  grpc::ClientContext call;
  ASSERT_TRUE(admin::v1::AdminService::NewStub(channel_)
                  ->GetServerInfo(&call, admin::v1::GetServerInfoRequest(), &info)
                  .ok());
  EXPECT_EQ(info.version(), "0.1.0");
  ASSERT_EQ(info.services_size(), 1);
  EXPECT_EQ(info.services(0).name(), "echo");
  EXPECT_TRUE(info.services(0).serving());
  EXPECT_THAT(info.services(0).grpc_services(),
              ::testing::ElementsAre("recsys.testing.v1.EchoService"));
  ASSERT_GE(info.devices_size(), 1);
  EXPECT_EQ(info.devices(0).name(), "cpu");
  EXPECT_EQ(info.data_dir(), options_.data_dir);
  EXPECT_EQ(info.model_repo(), "/models");
  EXPECT_GT(info.start_time_ms(), 0);
}

// Admin calls from a peer the server does not trust by address need the token; GetServerInfo
// still answers them, without the paths and the exact build.
TEST_F(ServerRuntimeTest, AdminCallsNeedTheTokenWhenLoopbackIsNotTrusted) {
  const std::string token_file = dir_.File("admin-token");
  std::ofstream(token_file) << "s3cret\n";
  options_.admin_from_loopback = false;
  options_.admin_token_file = token_file;
  ASSERT_THAT(StartServer(), IsOk());
  auto admin = admin::v1::AdminService::NewStub(channel_);
  auto reload = [&](const std::string& token) {
    grpc::ClientContext call;
    if (!token.empty()) call.AddMetadata("authorization", "Bearer " + token);
    admin::v1::ReloadModelsResponse response;
    return admin->ReloadModels(&call, admin::v1::ReloadModelsRequest(), &response);
  };
  grpc::Status s = reload("");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(), HasSubstr("ReloadModels is an admin call"));
  EXPECT_EQ(reload("wrong").error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(reload("s3cret").ok());
  auto info = [&](const std::string& token) {
    grpc::ClientContext call;
    if (!token.empty()) call.AddMetadata("authorization", "Bearer " + token);
    admin::v1::GetServerInfoResponse response;
    EXPECT_TRUE(admin->GetServerInfo(&call, admin::v1::GetServerInfoRequest(), &response).ok());
    return response;
  };
  const admin::v1::GetServerInfoResponse product = info("");
  EXPECT_EQ(product.version(), "0.1.0");
  EXPECT_EQ(product.data_dir(), "");
  EXPECT_EQ(product.model_repo(), "");
  EXPECT_EQ(product.git_revision(), "");
  EXPECT_EQ(info("s3cret").data_dir(), options_.data_dir);
}

TEST_F(ServerRuntimeTest, AnEmptyAdminTokenFileIsRefused) {
  const std::string token_file = dir_.File("empty-token");
  std::ofstream(token_file) << "\n";
  options_.admin_token_file = token_file;
  EXPECT_THAT(StartServer(), StatusIs(absl::StatusCode::kInvalidArgument,
                                      HasSubstr("--admin_token_file: the file holds no token")));
}

TEST_F(ServerRuntimeTest, ModuleStartFailureStopsStartupNamingTheService) {
  EXPECT_THAT(StartServer([] { return absl::NotFoundError("no model in /models/sasrec"); }),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("service 'echo' failed to start: no model in /models/sasrec")));
}

TEST_F(ServerRuntimeTest, InvalidOptionsAreRejectedBeforeListening) {
  options_.grpc_port = 123456;
  EXPECT_THAT(StartServer(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--grpc_port")));
}

TEST_F(ServerRuntimeTest, PortInUseIsAClearError) {
  ASSERT_THAT(StartServer(), IsOk());
  ServerOptions clash = options_;
  clash.services.clear();
  clash.grpc_port = server_->grpc_port();
  ServiceRegistry registry;
  EXPECT_THAT(Server::Start(clash, registry),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("--grpc_port: cannot listen")));
  clash.grpc_port = 0;
  clash.metrics_port = server_->metrics_port();
  EXPECT_THAT(Server::Start(clash, registry),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("--metrics_port: cannot listen")));
}

TEST_F(ServerRuntimeTest, HandlerStatusesReachTheClientUnchanged) {
  ASSERT_THAT(StartServer(), IsOk());
  EchoRequest request;
  request.set_text("queries[0].k: 0 is outside [1, 1000] (--max_k)");
  request.set_fail_with_code(static_cast<int>(absl::StatusCode::kInvalidArgument));
  EchoResponse response;
  grpc::Status s = Echo(request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), request.text());

  request.Clear();
  request.set_throw_exception(true);
  s = Echo(request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_THAT(s.error_message(), HasSubstr("boom"));

  // The server survived both.
  request.Clear();
  request.set_text("still here");
  ASSERT_TRUE(Echo(request, &response).ok());
  EXPECT_EQ(response.text(), "still here");
}

TEST_F(ServerRuntimeTest, ClientDeadlineIsPassedDownAndDefaultAppliesWithoutOne) {
  options_.default_deadline = absl::Seconds(7);
  ASSERT_THAT(StartServer(), IsOk());
  EchoRequest request;
  EchoResponse response;
  ASSERT_TRUE(Echo(request, &response, absl::Seconds(3)).ok());
  EXPECT_GT(response.remaining_deadline_ms(), 0);
  // gRPC sends the timeout rounded up to a coarser unit, and the server's clock is not the
  // client's: a few milliseconds over 3 s is the client's deadline, 7 s (the default) is not.
  EXPECT_LE(response.remaining_deadline_ms(), 3100);
  ASSERT_TRUE(Echo(request, &response).ok());
  EXPECT_GT(response.remaining_deadline_ms(), 3000);
  EXPECT_LE(response.remaining_deadline_ms(), 7000);
}

TEST_F(ServerRuntimeTest, WorkStopsWhenTheDeadlinePasses) {
  ASSERT_THAT(StartServer(), IsOk());
  EchoRequest request;
  EchoResponse response;
  ASSERT_TRUE(Echo(request, &response).ok());  // connect first: the deadline is for the work
  request.set_work_ms(60'000);
  EXPECT_EQ(Echo(request, &response, absl::Seconds(1)).error_code(),
            grpc::StatusCode::DEADLINE_EXCEEDED);
  // The handler noticed (through RpcContext) instead of working for a minute.
  for (int i = 0; i < 500 && !module_->service().saw_cancellation; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_TRUE(module_->service().saw_cancellation);
}

TEST_F(ServerRuntimeTest, ConcurrencyLimitShedsWithResourceExhausted) {
  options_.max_concurrent_rpcs = 1;
  ASSERT_THAT(StartServer(), IsOk());
  absl::Notification started;
  module_->service().work_started = &started;
  std::thread slow([&] {
    EchoRequest request;
    request.set_work_ms(1500);
    EchoResponse response;
    EXPECT_TRUE(Echo(request, &response).ok());
  });
  started.WaitForNotification();
  EchoRequest request;
  EchoResponse response;
  const grpc::Status s = Echo(request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(s.error_message(), HasSubstr("1 concurrent calls (--max_concurrent_rpcs)"));
  slow.join();
  EXPECT_TRUE(Echo(request, &response).ok());  // the slot is free again
}

TEST_F(ServerRuntimeTest, MetricsCountEveryMethodByCode) {
  ASSERT_THAT(StartServer(), IsOk());
  EchoRequest request;
  EchoResponse response;
  ASSERT_TRUE(Echo(request, &response).ok());
  ASSERT_TRUE(Echo(request, &response).ok());
  request.set_fail_with_code(static_cast<int>(absl::StatusCode::kNotFound));
  ASSERT_FALSE(Echo(request, &response).ok());
  ASSERT_THAT(Health(""), IsOk());

  const std::string text = ScrapeText();
  const std::string echo =
      R"(grpc_method="Echo",grpc_service="recsys.testing.v1.EchoService",grpc_type="unary")";
  EXPECT_THAT(text, HasSubstr(absl::StrCat("recsys_grpc_server_handled_total{grpc_code=\"OK\",",
                                           echo, "} 2")));
  EXPECT_THAT(text, HasSubstr(absl::StrCat(
                        "recsys_grpc_server_handled_total{grpc_code=\"NOT_FOUND\",", echo, "} 1")));
  EXPECT_THAT(text, HasSubstr(absl::StrCat("recsys_grpc_server_started_total{", echo, "} 3")));
  EXPECT_THAT(text,
              HasSubstr(absl::StrCat("recsys_grpc_server_handling_seconds_count{", echo, "} 3")));
  EXPECT_THAT(text, HasSubstr(absl::StrCat("recsys_grpc_server_in_flight_requests{", echo, "} 0")));
  EXPECT_THAT(
      text,
      HasSubstr(R"(grpc_code="OK",grpc_method="Check",grpc_service="grpc.health.v1.Health")"));
  EXPECT_THAT(text, HasSubstr(R"(recsys_service_ready{service="echo"} 1)"));
  EXPECT_THAT(text, HasSubstr("recsys_build_info{"));
}

TEST_F(ServerRuntimeTest, IdleConnectionsToTheMetricsPortDoNotStallAScrape) {
  ASSERT_THAT(StartServer(), IsOk());
  // Clients that connect and never send a request (a stalled scraper, a port scan).
  std::vector<std::unique_ptr<recsys::testing::IdleConnection>> idle;
  for (int i = 0; i < 8; ++i) {
    idle.push_back(
        std::make_unique<recsys::testing::IdleConnection>("127.0.0.1", server_->metrics_port()));
    ASSERT_TRUE(idle.back()->ok());
  }
  absl::StatusOr<recsys::testing::HttpResponse> scrape =
      recsys::testing::HttpGet("127.0.0.1", server_->metrics_port(), "/metrics", absl::Seconds(3));
  ASSERT_THAT(scrape.status(), IsOk());
  EXPECT_EQ(scrape->status_code, 200);
  EXPECT_THAT(scrape->body, HasSubstr("recsys_build_info{"));
}

TEST_F(ServerRuntimeTest, RequestBytesThatDoNotParseAreInvalidArgumentAndCounted) {
  ASSERT_THAT(StartServer(), IsOk());
  // A varint that never ends, a length-delimited field longer than the message, a string
  // field (text = 1) holding invalid UTF-8.
  for (const std::string& bytes : {std::string("\xff\xff\xff\xff"), std::string("\x0a\x7f\x01"),
                                   std::string("\x0a\x02\xc3\x28")}) {
    const grpc::Status s =
        recsys::testing::RawUnaryCall(channel_, "/recsys.testing.v1.EchoService/Echo", bytes);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(),
                HasSubstr("could not be parsed as recsys.testing.v1.EchoRequest"));
  }
  const std::string echo =
      R"(grpc_method="Echo",grpc_service="recsys.testing.v1.EchoService",grpc_type="unary")";
  EXPECT_THAT(ScrapeText(), HasSubstr(absl::StrCat(
                                "recsys_grpc_server_handled_total{grpc_code=\"INVALID_ARGUMENT\",",
                                echo, "} 3")));
  EchoRequest request;
  EchoResponse response;
  EXPECT_TRUE(Echo(request, &response).ok());  // still serving
}

TEST_F(ServerRuntimeTest, UnknownMethodsShareOneBoundedSeries) {
  ASSERT_THAT(StartServer(), IsOk());
  for (const char* method : {"/recsys.testing.v1.EchoService/Nope", "/made.up.Service/X"}) {
    EXPECT_EQ(recsys::testing::RawUnaryCall(channel_, method, "").error_code(),
              grpc::StatusCode::UNIMPLEMENTED)
        << method;
  }
  const std::string text = ScrapeText();
  EXPECT_THAT(text, ::testing::Not(HasSubstr("made.up.Service")));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("\"Nope\"")));
  EXPECT_THAT(text, HasSubstr(R"(recsys_grpc_server_handled_total{grpc_code="UNIMPLEMENTED",)"
                              R"(grpc_method="unknown",grpc_service="unknown",)"
                              R"(grpc_type="unknown"} 2)"));
}

TEST_F(ServerRuntimeTest, ShutdownDrainsInFlightCallsAndRefusesNewOnes) {
  ASSERT_THAT(StartServer(), IsOk());
  absl::Notification started;
  module_->service().work_started = &started;
  grpc::Status in_flight_status;
  std::thread in_flight([&] {
    EchoRequest request;
    request.set_text("finished during drain");
    request.set_work_ms(800);
    EchoResponse response;
    in_flight_status = Echo(request, &response, absl::Seconds(20));
  });
  started.WaitForNotification();
  server_->Shutdown();  // returns once the in-flight call is done
  in_flight.join();
  EXPECT_TRUE(in_flight_status.ok()) << in_flight_status.error_message();
  EXPECT_TRUE(module_->stopped);
  EXPECT_FALSE(module_->service().saw_cancellation);

  EchoRequest request;
  EchoResponse response;
  EXPECT_EQ(Echo(request, &response, absl::Seconds(2)).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(ServerRuntimeTest, CallsOutlivingTheDrainTimeoutAreCancelled) {
  options_.drain_timeout = absl::Milliseconds(300);
  ASSERT_THAT(StartServer(), IsOk());
  absl::Notification started;
  module_->service().work_started = &started;
  grpc::Status status;
  std::thread in_flight([&] {
    EchoRequest request;
    request.set_work_ms(60'000);
    EchoResponse response;
    status = Echo(request, &response, absl::Seconds(120));
  });
  started.WaitForNotification();
  server_->Shutdown();
  in_flight.join();
  EXPECT_FALSE(status.ok());
  EXPECT_TRUE(module_->service().saw_cancellation);
}

TEST_F(ServerRuntimeTest, ReadinessGoesNotServingDuringTheDrainDelay) {
  options_.readiness_drain_delay = absl::Seconds(3);
  ASSERT_THAT(StartServer(), IsOk());
  std::thread stopper([&] { server_->Shutdown(); });
  // Poll until readiness flips; the server still answers calls meanwhile.
  absl::StatusOr<HealthStatus::ServingStatus> status = Health("recsys.testing.v1.EchoService");
  for (int i = 0; i < 100 && status.ok() && *status == HealthStatus::SERVING; ++i) {
    absl::SleepFor(absl::Milliseconds(5));
    status = Health("recsys.testing.v1.EchoService");
  }
  EXPECT_THAT(status, IsOkAndHolds(HealthStatus::NOT_SERVING));
  EXPECT_THAT(Health(""), IsOkAndHolds(HealthStatus::NOT_SERVING));
  EchoRequest request;
  EchoResponse response;
  EXPECT_TRUE(Echo(request, &response).ok());
  stopper.join();
}

TEST_F(ServerRuntimeTest, CallsWhileAModuleStartsAreUnavailableAndHealthSaysSo) {
  options_.grpc_port = recsys::testing::FreeLoopbackPort();
  absl::Notification release_start;
  absl::Status started;
  std::thread starter([&] {
    started = StartServer([&] {
      release_start.WaitForNotification();
      return absl::OkStatus();
    });
  });
  channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", options_.grpc_port),
                                 grpc::InsecureChannelCredentials());
  // Wait until the server listens (health answers) while the module is still starting.
  absl::StatusOr<HealthStatus::ServingStatus> overall = Health("");
  for (int i = 0; i < 500 && !overall.ok(); ++i) {
    absl::SleepFor(absl::Milliseconds(10));
    overall = Health("");
  }
  EXPECT_THAT(overall, IsOkAndHolds(HealthStatus::NOT_SERVING));
  EXPECT_THAT(Health("recsys.testing.v1.EchoService"), IsOkAndHolds(HealthStatus::NOT_SERVING));
  EchoRequest request;
  EchoResponse response;
  const grpc::Status early = Echo(request, &response);
  EXPECT_EQ(early.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(early.error_message(), HasSubstr("service 'echo' is still starting"));

  release_start.Notify();
  starter.join();
  ASSERT_THAT(started, IsOk());
  EXPECT_THAT(Health(""), IsOkAndHolds(HealthStatus::SERVING));
  EXPECT_THAT(Health("recsys.testing.v1.EchoService"), IsOkAndHolds(HealthStatus::SERVING));
  EXPECT_TRUE(Echo(request, &response).ok());
}

TEST_F(ServerRuntimeTest, SlowHandlersRunOnHandlerThreadsNotGrpcThreads) {
  options_.handler_threads = 16;
  ASSERT_THAT(StartServer(), IsOk());
  constexpr int kSlowCalls = 8;  // more than gRPC has callback threads on a small machine
  std::vector<std::thread> callers;
  for (int i = 0; i < kSlowCalls; ++i) {
    callers.emplace_back([&] {
      EchoRequest request;
      request.set_work_ms(4000);
      EchoResponse response;
      EXPECT_TRUE(Echo(request, &response, absl::Seconds(60)).ok());
    });
  }
  for (int i = 0; i < 2000 && module_->service().working.load() < kSlowCalls; ++i) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  // All of them work at once, and the server still answers health checks meanwhile.
  EXPECT_EQ(module_->service().working.load(), kSlowCalls);
  EXPECT_THAT(Health(""), IsOkAndHolds(HealthStatus::SERVING));
  for (std::thread& t : callers) t.join();
  EXPECT_EQ(module_->service().max_working.load(), kSlowCalls);
}

TEST_F(ServerRuntimeTest, TlsAndMutualTls) {
  const std::vector<std::string> make_cert = {"/usr/bin/openssl",
                                              "req",
                                              "-x509",
                                              "-newkey",
                                              "rsa:2048",
                                              "-nodes",
                                              "-days",
                                              "1",
                                              "-subj",
                                              "/CN=localhost",
                                              "-addext",
                                              "subjectAltName=DNS:localhost,IP:127.0.0.1",
                                              "-keyout",
                                              dir_.File("key.pem"),
                                              "-out",
                                              dir_.File("cert.pem")};
  if (!std::filesystem::exists(make_cert[0])) GTEST_SKIP() << "openssl is not installed";
  absl::StatusOr<recsys::testing::RunResult> made =
      recsys::testing::RunToCompletion(make_cert, dir_.path());
  ASSERT_THAT(made, IsOk());
  ASSERT_EQ(made->exit_status, 0) << made->err;

  // The same self-signed certificate serves as server cert, client cert and CA.
  options_.tls_cert_file = dir_.File("cert.pem");
  options_.tls_key_file = dir_.File("key.pem");
  options_.tls_client_ca_file = dir_.File("cert.pem");
  ASSERT_THAT(StartServer(), IsOk());
  const std::string target = absl::StrCat("127.0.0.1:", server_->grpc_port());

  cli::ChannelOptions with_client_cert;
  with_client_cert.target = target;
  with_client_cert.tls_ca_file = dir_.File("cert.pem");
  with_client_cert.tls_cert_file = dir_.File("cert.pem");
  with_client_cert.tls_key_file = dir_.File("key.pem");
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = cli::MakeChannel(with_client_cert);
  ASSERT_THAT(channel, IsOk());
  channel_ = *channel;
  EXPECT_THAT(Health(""), IsOkAndHolds(HealthStatus::SERVING));

  cli::ChannelOptions without_client_cert = with_client_cert;
  without_client_cert.tls_cert_file.clear();
  without_client_cert.tls_key_file.clear();
  channel_ = *cli::MakeChannel(without_client_cert);
  EXPECT_FALSE(Health("").ok());

  channel_ = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  EXPECT_FALSE(Health("").ok());
}

}  // namespace
}  // namespace recsys
