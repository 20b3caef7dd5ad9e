// The real recsys-server binary on free loopback ports: health over gRPC, service listing
// through reflection, a /metrics scrape over HTTP, recsys-cli against it, and a clean exit on
// SIGTERM within the drain timeout.
#include <gmock/gmock.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/descriptor_database.h>
#include <google/protobuf/dynamic_message.h>
#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "services/cli/reflection_client.h"
#include "tests/testing/http_get.h"
#include "tests/testing/model_fixtures.h"
#include "tests/testing/raw_call.h"
#include "tests/testing/server_process.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace recsys {
namespace {

using ::recsys::testing::IsOk;
using ::recsys::testing::Subprocess;
using ::testing::Contains;
using ::testing::HasSubstr;
using HealthStatus = grpc::health::v1::HealthCheckResponse;

constexpr absl::Duration kDrainTimeout = absl::Seconds(5);

class ServerBinaryTest : public ::testing::Test {
 protected:
  // Starts recsys-server on port 0 and waits for its ports file.
  void StartServer(std::vector<std::string> extra_flags = {}) {
    std::vector<std::string> argv = {
        RECSYS_SERVER_BINARY,
        "--bind_address=127.0.0.1",
        "--grpc_port=0",
        "--metrics_port=0",
        absl::StrCat("--data_dir=", dir_.File("data")),
        absl::StrCat("--ports_file=", dir_.File("ports.json")),
        absl::StrCat("--drain_timeout=", absl::FormatDuration(kDrainTimeout))};
    argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
    absl::StatusOr<recsys::testing::ServerPorts> ports = recsys::testing::StartServerProcess(
        argv, dir_.path(), dir_.File("ports.json"), &server_);
    ASSERT_THAT(ports, IsOk());
    grpc_port_ = ports->grpc_port;
    metrics_port_ = ports->metrics_port;
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", grpc_port_),
                                   grpc::InsecureChannelCredentials());
  }

  std::string Target() const { return absl::StrCat("127.0.0.1:", grpc_port_); }

  HealthStatus::ServingStatus Health(const std::string& service) {
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(service);
    HealthStatus response;
    grpc::ClientContext call;
    call.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    const grpc::Status s =
        grpc::health::v1::Health::NewStub(channel_)->Check(&call, request, &response);
    EXPECT_TRUE(s.ok()) << service << ": " << s.error_message();
    return response.status();
  }

  // Fetches a file descriptor through reflection, proving the server can describe a service.
  bool ReflectionDescribes(const std::string& symbol) {
    grpc::reflection::v1alpha::ServerReflectionRequest request;
    request.set_file_containing_symbol(symbol);
    auto response = cli::Reflect(channel_, request, absl::Seconds(5));
    return response.ok() && response->has_file_descriptor_response() &&
           response->file_descriptor_response().file_descriptor_proto_size() > 0;
  }

  recsys::testing::RunResult Cli(std::vector<std::string> args) {
    args.insert(args.begin(), RECSYS_CLI_BINARY);
    args.push_back(absl::StrCat("--target=", Target()));
    absl::StatusOr<recsys::testing::RunResult> result =
        recsys::testing::RunToCompletion(args, dir_.path());
    EXPECT_THAT(result, IsOk());
    return result.ok() ? *result : recsys::testing::RunResult{};
  }

  recsys::testing::TempDir dir_;
  std::optional<Subprocess> server_;
  int grpc_port_ = 0;
  int metrics_port_ = 0;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(ServerBinaryTest, ServesHealthReflectionMetricsAndExitsCleanlyOnSigterm) {
  ASSERT_NO_FATAL_FAILURE(StartServer());

  EXPECT_EQ(Health(""), HealthStatus::SERVING);
  EXPECT_EQ(Health("recsys.admin.v1.AdminService"), HealthStatus::SERVING);

  absl::StatusOr<std::vector<std::string>> listed = cli::ListServices(channel_, absl::Seconds(5));
  ASSERT_THAT(listed, IsOk());
  const std::vector<std::string>& services = *listed;
  EXPECT_THAT(services, Contains("grpc.health.v1.Health"));
  EXPECT_THAT(services, Contains("grpc.reflection.v1alpha.ServerReflection"));
  EXPECT_THAT(services, Contains("recsys.admin.v1.AdminService"));
  EXPECT_TRUE(ReflectionDescribes("recsys.admin.v1.AdminService"));
  EXPECT_TRUE(ReflectionDescribes("grpc.health.v1.Health"));

  absl::StatusOr<recsys::testing::HttpResponse> scrape =
      recsys::testing::HttpGet("127.0.0.1", metrics_port_, "/metrics");
  ASSERT_THAT(scrape, IsOk());
  EXPECT_EQ(scrape->status_code, 200);
  EXPECT_THAT(scrape->body, HasSubstr("# TYPE recsys_grpc_server_handled_total counter"));
  EXPECT_THAT(scrape->body,
              HasSubstr(R"(recsys_grpc_server_handled_total{grpc_code="OK",grpc_method="Check",)"
                        R"(grpc_service="grpc.health.v1.Health",grpc_type="unary"} 2)"));
  EXPECT_THAT(scrape->body, HasSubstr("# TYPE recsys_grpc_server_handling_seconds histogram"));
  EXPECT_THAT(scrape->body, HasSubstr("recsys_grpc_server_in_flight_requests{"));
  EXPECT_THAT(scrape->body, HasSubstr("recsys_build_info{"));
  EXPECT_THAT(scrape->body, HasSubstr("process_start_time_seconds"));

  channel_.reset();  // an idle client connection must not hold up the drain
  ASSERT_TRUE(server_->Signal(SIGTERM));
  const std::optional<int> exit_status = server_->Wait(kDrainTimeout + absl::Seconds(10));
  ASSERT_TRUE(exit_status.has_value()) << "no exit within the drain timeout";
  EXPECT_EQ(*exit_status, 0) << server_->Stderr();
  EXPECT_THAT(server_->Stderr(), HasSubstr("server stopped"));
}

TEST_F(ServerBinaryTest, SigintAlsoDrainsAndExitsZero) {
  ASSERT_NO_FATAL_FAILURE(StartServer({"--log_format=json"}));
  ASSERT_TRUE(server_->Signal(SIGINT));
  const std::optional<int> exit_status = server_->Wait(kDrainTimeout + absl::Seconds(10));
  ASSERT_TRUE(exit_status.has_value());
  EXPECT_EQ(*exit_status, 0);
  EXPECT_THAT(server_->Stderr(), HasSubstr(R"("msg":"server stopped")"));
}

TEST_F(ServerBinaryTest, CliHealthInfoAndList) {
  ASSERT_NO_FATAL_FAILURE(StartServer());

  recsys::testing::RunResult health = Cli({"health"});
  EXPECT_EQ(health.exit_status, 0) << health.err;
  EXPECT_THAT(health.out, HasSubstr("SERVING      (server)"));
  EXPECT_THAT(health.out, HasSubstr("SERVING      recsys.admin.v1.AdminService"));

  recsys::testing::RunResult health_json = Cli({"health", "--json"});
  EXPECT_EQ(health_json.exit_status, 0);
  EXPECT_THAT(health_json.out, HasSubstr(R"("serving":true)"));

  recsys::testing::RunResult seqrec = Cli({"health", "--service=recsys.seqrec.v1.SeqRecService"});
  EXPECT_EQ(seqrec.exit_status, 0) << seqrec.out << seqrec.err;
  recsys::testing::RunResult rerank = Cli({"health", "--service=recsys.rerank.v1.RerankService"});
  EXPECT_EQ(rerank.exit_status, 0) << rerank.out << rerank.err;
  // A service this build does not host.
  recsys::testing::RunResult unknown = Cli({"health", "--service=recsys.nope.v1.NopeService"});
  EXPECT_EQ(unknown.exit_status, 1);
  EXPECT_THAT(unknown.out, HasSubstr("SERVICE_UNKNOWN"));

  recsys::testing::RunResult info = Cli({"info"});
  EXPECT_EQ(info.exit_status, 0) << info.err;
  EXPECT_THAT(info.out, HasSubstr("recsys-server 0.1.0"));
  EXPECT_THAT(info.out, HasSubstr(dir_.File("data")));

  recsys::testing::RunResult info_json = Cli({"info", "--json"});
  EXPECT_EQ(info_json.exit_status, 0);
  EXPECT_THAT(info_json.out, HasSubstr(R"("version":"0.1.0")"));
  EXPECT_THAT(info_json.out, HasSubstr(R"("name":"cpu")"));

  recsys::testing::RunResult list = Cli({"list", "--json"});
  EXPECT_EQ(list.exit_status, 0);
  EXPECT_THAT(list.out, HasSubstr(R"("recsys.admin.v1.AdminService")"));

  recsys::testing::RunResult bad = Cli({"frobnicate"});
  EXPECT_EQ(bad.exit_status, 2);
  EXPECT_THAT(bad.err, HasSubstr("unknown command 'frobnicate'"));
}

TEST_F(ServerBinaryTest, ServesTheSeqRecModelsOfItsRepositoryToTheCli) {
  // The tiny exports the model parity tests use, as two models of the repository.
  namespace fs = std::filesystem;
  recsys::testing::CopyModelFixture("sasrec-tiny", dir_.File("data/models"), "sasrec");
  recsys::testing::CopyModelFixture("bert4rec-tiny", dir_.File("data/models"), "bert4rec");
  ASSERT_NO_FATAL_FAILURE(StartServer());
  {
    std::ofstream events(dir_.File("events.jsonl"));
    events << R"({"user_id":"alice","item_id":3,"timestamp_ms":1})" << "\n"
           << R"({"user_id":"alice","item_id":4,"timestamp_ms":2})" << "\n";
  }
  recsys::testing::RunResult r = Cli({"ingest", "--file=" + dir_.File("events.jsonl")});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  r = Cli({"recommend", "--model=sasrec", "--user=alice", "--k=3"});
  EXPECT_EQ(r.exit_status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("sasrec version 1"));
  EXPECT_THAT(r.out, HasSubstr("user alice (2 history items)"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("3  item [0-9]+ +score"));
  // The same top 3 from the feature store's FAISS index (published on this first call).
  auto item_ids = [](const std::string& out) {
    std::vector<std::string> ids;
    const std::regex item("item ([0-9]+)");
    for (auto m = std::sregex_iterator(out.begin(), out.end(), item); m != std::sregex_iterator();
         ++m) {
      ids.push_back((*m)[1]);
    }
    return ids;
  };
  recsys::testing::RunResult indexed =
      Cli({"recommend", "--model=sasrec", "--user=alice", "--k=3", "--retrieval=index"});
  EXPECT_EQ(indexed.exit_status, 0) << indexed.err;
  EXPECT_EQ(item_ids(indexed.out), item_ids(r.out)) << indexed.out << r.out;
  EXPECT_EQ(item_ids(r.out).size(), 3u);
  r = Cli({"score", "--model=bert4rec", "--history=3,4", "--candidates=5,6", "--json"});
  EXPECT_EQ(r.exit_status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(R"("model":{"name":"bert4rec","version":"1"})"));
  r = Cli({"recommend", "--model=nope", "--history=3"});
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_THAT(r.err, HasSubstr("NOT_FOUND: model.name: no model 'nope'"));
  recsys::testing::RunResult health = Cli({"health"});
  EXPECT_THAT(health.out, HasSubstr("SERVING      recsys.seqrec.v1.SeqRecService"));

  // A new version, then the admin reload instead of waiting for the repository poll.
  fs::copy(absl::StrCat(RECSYS_TESTDATA_DIR, "/sasrec-tiny-post-ln/1"),
           dir_.File("data/models/sasrec/2"), fs::copy_options::recursive);
  r = Cli({"reload", "--model=sasrec"});
  EXPECT_EQ(r.exit_status, 0) << r.err;
  EXPECT_THAT(r.out, ::testing::ContainsRegex("seqrec +sasrec +versions 1,2 +reloaded"));
  r = Cli({"recommend", "--model=sasrec", "--history=3", "--k=1"});
  EXPECT_THAT(r.out, HasSubstr("sasrec version 2"));
  r = Cli({"bench", "--model=sasrec", "--history=3,4", "--candidates=5,6", "--duration=300ms",
           "--concurrency=2"});
  EXPECT_EQ(r.exit_status, 0) << r.out << r.err;
  EXPECT_THAT(r.out, ::testing::ContainsRegex("score sasrec +[0-9]+ calls/s +p50"));
  EXPECT_THAT(r.out, HasSubstr("no-op (health Check)"));
  EXPECT_THAT(r.out, HasSubstr("0 errors"));
  r = Cli({"reload", "--model=nope"});
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_THAT(r.err, HasSubstr("NOT_FOUND"));
}

TEST_F(ServerBinaryTest, ServesTheDareModelsOfItsRepositoryToTheCli) {
  recsys::testing::CopyModelFixture("dare-tiny", dir_.File("data/models"), "dare");
  ASSERT_NO_FATAL_FAILURE(StartServer());
  recsys::testing::RunResult r =
      Cli({"ctr", "--model=dare", "--history=3,4,5,6", "--history_categories=1,2,3,1",
           "--candidates=7,8", "--candidate_categories=2,3", "--top_k=2", "--explain"});
  EXPECT_EQ(r.exit_status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("dare version 1, 4 behaviours"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("item 7 +ctr 0\\.[0-9]+"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("behaviour [0-3] +item [3-6] +category [1-3] +weight"));
  r = Cli({"ctr", "--model=dare", "--history=3", "--candidates=99999"});
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_THAT(r.err, HasSubstr("INVALID_ARGUMENT: queries[0].candidates[0].item_id: item 99999"));
  recsys::testing::RunResult health = Cli({"health"});
  EXPECT_THAT(health.out, HasSubstr("SERVING      recsys.behavior_search.v1.BehaviorSearchService"));
}

// The services the server lists, described by the server itself through reflection, so a
// service added later is covered as soon as the binary hosts it.
class ReflectedServices {
 public:
  explicit ReflectedServices(const std::shared_ptr<grpc::Channel>& channel)
      : pool_(&database_), factory_(&pool_) {
    absl::StatusOr<std::vector<std::string>> listed = cli::ListServices(channel, absl::Seconds(5));
    EXPECT_THAT(listed, IsOk());
    if (!listed.ok()) return;
    for (const std::string& name : *listed) {
      if (name.rfind("recsys.", 0) != 0) continue;
      grpc::reflection::v1alpha::ServerReflectionRequest request;
      request.set_file_containing_symbol(name);
      auto response = cli::Reflect(channel, request, absl::Seconds(5));
      EXPECT_THAT(response, IsOk());
      if (!response.ok()) continue;
      for (const std::string& bytes :
           response->file_descriptor_response().file_descriptor_proto()) {
        google::protobuf::FileDescriptorProto file;
        EXPECT_TRUE(file.ParseFromString(bytes));
        database_.Add(file);  // a file seen twice keeps its first copy
      }
      services_.push_back(pool_.FindServiceByName(name));
      EXPECT_NE(services_.back(), nullptr) << name;
    }
  }

  const std::vector<const google::protobuf::ServiceDescriptor*>& services() const {
    return services_;
  }

  // A request of `method` whose ModelSpec field `model` names `model_name`; "" when the
  // request has no such field.
  std::string WithModelName(const google::protobuf::MethodDescriptor& method,
                            const std::string& model_name) {
    const google::protobuf::FieldDescriptor* model = method.input_type()->FindFieldByName("model");
    if (model == nullptr || model->message_type() == nullptr ||
        model->message_type()->full_name() != "recsys.common.v1.ModelSpec") {
      return "";
    }
    std::unique_ptr<google::protobuf::Message> request(
        factory_.GetPrototype(method.input_type())->New());
    google::protobuf::Message* spec =
        request->GetReflection()->MutableMessage(request.get(), model);
    spec->GetReflection()->SetString(spec, spec->GetDescriptor()->FindFieldByName("name"),
                                     model_name);
    return request->SerializeAsString();
  }

 private:
  google::protobuf::SimpleDescriptorDatabase database_;
  google::protobuf::DescriptorPool pool_;
  google::protobuf::DynamicMessageFactory factory_;
  std::vector<const google::protobuf::ServiceDescriptor*> services_;
};

// An ICR version made by the LLM fixtures (recsys_train.llm.fixtures), re-ranking a JSON-lines
// file of documents through recsys-cli.
TEST_F(ServerBinaryTest, ServesTheRerankModelsOfItsRepositoryToTheCli) {
  if (!std::filesystem::exists(std::string(RECSYS_LLM_FIXTURES) + "/icr-tiny/1/model.gguf")) {
    GTEST_SKIP() << "no LLM fixtures (llm_reference_fixtures needs gguf-py)";
  }
  recsys::testing::CopyModelFixture("icr-tiny", dir_.File("data/models"), "icr", 1,
                                    RECSYS_LLM_FIXTURES);
  ASSERT_NO_FATAL_FAILURE(StartServer());
  std::ofstream(dir_.File("docs.jsonl"))
      << R"({"id": "fr", "title": "Paris", "text": "Paris is the capital of France."})"
      << "\n"
      << "# a comment line\n"
      << R"({"id": "it", "title": "Rome", "text": "Rome is the capital of Italy."})"
      << "\n"
      << R"({"id": "de", "text": "Berlin is the capital of Germany."})"
      << "\n";
  recsys::testing::RunResult r = Cli({"rerank", "--model=icr", "--query=capital of France",
                                      "--documents=" + dir_.File("docs.jsonl"), "--masses"});
  EXPECT_EQ(r.exit_status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("icr version 1, "));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("  1\\. \\[[0-2]\\] (fr|it|de) +score"));
  EXPECT_THAT(r.out, HasSubstr("N/A mass"));
  r = Cli({"rerank", "--model=icr", "--query=capital", "--top_n=1", "--json",
           "--documents=" + dir_.File("docs.jsonl")});
  EXPECT_EQ(r.exit_status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(R"("prompt_tokens":)"));
  std::ofstream(dir_.File("bad.jsonl")) << R"({"id": "x", "txet": "typo"})"
                                        << "\n";
  r = Cli({"rerank", "--model=icr", "--query=q", "--documents=" + dir_.File("bad.jsonl")});
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_THAT(r.err, HasSubstr("bad.jsonl:1"));
  r = Cli({"rerank", "--model=icr", "--query=q", "--documents=" + dir_.File("none.jsonl")});
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_THAT(r.err, HasSubstr("cannot open"));
  r = Cli({"health"});
  EXPECT_THAT(r.out, HasSubstr("SERVING      recsys.rerank.v1.RerankService"));
}

// Malformed and hostile requests on every unary method of every hosted service: each gets a
// clear status, and the server serves on after all of them.
TEST_F(ServerBinaryTest, HostileRequestsGetClearAnswersOnEveryMethodAndTheServerServesOn) {
  recsys::testing::CopyModelFixture("sasrec-tiny", dir_.File("data/models"), "sasrec");
  recsys::testing::CopyModelFixture("dare-tiny", dir_.File("data/models"), "dare");
  ASSERT_NO_FATAL_FAILURE(StartServer());
  ReflectedServices reflected(channel_);
  ASSERT_GE(reflected.services().size(), 5u);  // admin, feature store, seqrec, behavior search,
                                               // rerank
  const std::vector<std::string> garbage = {
      std::string("\xff\xff\xff\xff\xff"),  // a varint that never ends
      std::string("\x0a\x7f\x01"),          // a field longer than the message
      std::string(4096, '\xee')};           // noise
  int methods = 0, model_methods = 0;
  for (const google::protobuf::ServiceDescriptor* service : reflected.services()) {
    for (int m = 0; m < service->method_count(); ++m) {
      const google::protobuf::MethodDescriptor& method = *service->method(m);
      if (method.client_streaming() || method.server_streaming()) continue;
      ++methods;
      const std::string path = absl::StrCat("/", service->full_name(), "/", method.name());
      for (const std::string& bytes : garbage) {
        const grpc::Status s = recsys::testing::RawUnaryCall(channel_, path, bytes);
        // Garbage can also happen to parse: then the request is refused on its content.
        if (s.error_code() == grpc::StatusCode::INVALID_ARGUMENT) continue;
        EXPECT_NE(s.error_code(), grpc::StatusCode::UNIMPLEMENTED) << path;
        EXPECT_NE(s.error_code(), grpc::StatusCode::INTERNAL) << path << ": " << s.error_message();
        EXPECT_NE(s.error_code(), grpc::StatusCode::UNKNOWN) << path << ": " << s.error_message();
      }
      const std::string unnamed = reflected.WithModelName(method, "");
      if (unnamed.empty()) continue;  // no ModelSpec in this request
      ++model_methods;
      grpc::Status s = recsys::testing::RawUnaryCall(channel_, path, unnamed);
      EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << path;
      EXPECT_THAT(s.error_message(), HasSubstr("model.name is required")) << path;
      // A 1 MB model name comes back quoted short, not echoed whole.
      s = recsys::testing::RawUnaryCall(channel_, path,
                                        reflected.WithModelName(method, std::string(1 << 20, 'm')));
      EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << path;
      EXPECT_LT(s.error_message().size(), 1024u) << path;
      EXPECT_THAT(s.error_message(), HasSubstr("(1048576 bytes)")) << path;
    }
  }
  EXPECT_GE(methods, 12);
  EXPECT_EQ(model_methods, 4);  // seqrec Recommend and Score, behavior_search Score, Rerank
  EXPECT_EQ(Health(""), HealthStatus::SERVING);
  recsys::testing::RunResult r = Cli({"health"});
  EXPECT_EQ(r.exit_status, 0) << r.err;
}

TEST_F(ServerBinaryTest, CliReportsAnUnreachableServer) {
  grpc_port_ = 1;  // nothing listens on port 1
  recsys::testing::RunResult health = Cli({"health", "--timeout=2s"});
  EXPECT_EQ(health.exit_status, 1);
  EXPECT_THAT(health.err, HasSubstr("UNAVAILABLE"));
}

TEST_F(ServerBinaryTest, BadFlagsExitWithCodeTwoNamingTheFlag) {
  struct Case {
    std::string flag;
    std::string expected;
  };
  for (const Case& c : {Case{"--grpc_port=70000", "--grpc_port: 70000 is outside [0, 65535]"},
                        Case{"--services=nope", "--services: 'nope' is not a service"},
                        Case{"--log_format=xml", "--log_format: 'xml'"},
                        Case{"--drain_timeout=-3s", "--drain_timeout"}}) {
    absl::StatusOr<recsys::testing::RunResult> run = recsys::testing::RunToCompletion(
        {RECSYS_SERVER_BINARY, c.flag, absl::StrCat("--data_dir=", dir_.File("data"))},
        dir_.path());
    ASSERT_THAT(run, IsOk());
    EXPECT_EQ(run->exit_status, 2) << c.flag;
    EXPECT_THAT(run->err, HasSubstr(c.expected)) << c.flag;
  }
}

TEST_F(ServerBinaryTest, PortInUseFailsStartupWithCodeOne) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  absl::StatusOr<recsys::testing::RunResult> run = recsys::testing::RunToCompletion(
      {RECSYS_SERVER_BINARY, "--bind_address=127.0.0.1", absl::StrCat("--grpc_port=", grpc_port_),
       "--metrics_port=0", absl::StrCat("--data_dir=", dir_.File("data2"))},
      dir_.path());
  ASSERT_THAT(run, IsOk());
  EXPECT_EQ(run->exit_status, 1);
  EXPECT_THAT(run->err, HasSubstr("--grpc_port: cannot listen"));
}

}  // namespace
}  // namespace recsys
