// recsys-server flag parsing: text values go through Abseil's parser exactly as on the
// command line (CommandLineFlag::ParseFrom), then through ServerOptionsFromFlags.
#include "services/server/server_flags.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/flags/reflection.h"
#include "tests/testing/status_matchers.h"

namespace recsys {
namespace {

using ::recsys::testing::IsOk;
using ::recsys::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;
const std::vector<std::string> kAvailable = {"feature_store", "seqrec"};

class ServerFlagsTest : public ::testing::Test {
 protected:
  // Parses like "--name=value" on the command line would; fails the test on a parse error.
  void Set(const char* name, const char* value) {
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    ASSERT_NE(flag, nullptr) << name;
    std::string error;
    ASSERT_TRUE(flag->ParseFrom(value, &error)) << name << "=" << value << ": " << error;
  }
  std::string ParseError(const char* name, const char* value) {
    std::string error;
    EXPECT_FALSE(absl::FindCommandLineFlag(name)->ParseFrom(value, &error));
    return error;
  }

  absl::FlagSaver saver_;  // restores every flag after each test
};

TEST_F(ServerFlagsTest, DefaultsAreDocumentedValues) {
  absl::StatusOr<ServerOptions> o = ServerOptionsFromFlags(kAvailable);
  ASSERT_THAT(o, IsOk());
  EXPECT_THAT(o->services, ElementsAre("feature_store", "seqrec"));  // "all"
  EXPECT_EQ(o->bind_address, "0.0.0.0");
  EXPECT_EQ(o->grpc_port, 50051);
  EXPECT_EQ(o->metrics_port, 9464);
  EXPECT_EQ(o->data_dir, "./recsys-data");
  EXPECT_EQ(o->ResolvedModelRepo(), "./recsys-data/models");
  EXPECT_EQ(o->max_message_bytes, 16 << 20);
  EXPECT_EQ(o->max_concurrent_rpcs, 512);
  EXPECT_EQ(o->default_deadline, absl::Seconds(10));
  EXPECT_EQ(o->readiness_drain_delay, absl::ZeroDuration());
  EXPECT_EQ(o->drain_timeout, absl::Seconds(20));
}

TEST_F(ServerFlagsTest, ParsesEveryKindOfValue) {
  Set("services", " seqrec ,feature_store");
  Set("grpc_port", "0");
  Set("metrics_port", "9100");
  Set("data_dir", "/var/lib/recsys");
  Set("model_repo", "/models");
  Set("default_deadline", "250ms");
  Set("readiness_drain_delay", "5s");
  Set("drain_timeout", "1m");
  Set("max_concurrent_rpcs", "0");
  absl::StatusOr<ServerOptions> o = ServerOptionsFromFlags(kAvailable);
  ASSERT_THAT(o, IsOk());
  EXPECT_THAT(o->services, ElementsAre("seqrec", "feature_store"));
  EXPECT_EQ(o->grpc_port, 0);
  EXPECT_EQ(o->metrics_port, 9100);
  EXPECT_EQ(o->ResolvedModelRepo(), "/models");
  EXPECT_EQ(o->default_deadline, absl::Milliseconds(250));
  EXPECT_EQ(o->readiness_drain_delay, absl::Seconds(5));
  EXPECT_EQ(o->drain_timeout, absl::Minutes(1));
  EXPECT_EQ(o->max_concurrent_rpcs, 0);
}

TEST_F(ServerFlagsTest, MalformedTextIsRejectedByTheParser) {
  EXPECT_THAT(ParseError("grpc_port", "http"), HasSubstr("http"));
  EXPECT_FALSE(ParseError("default_deadline", "ten seconds").empty());
  EXPECT_FALSE(ParseError("max_message_bytes", "1e99").empty());
}

TEST_F(ServerFlagsTest, UnknownServiceNamesTheFlagAndTheChoices) {
  Set("services", "seqrec,rerank");
  EXPECT_THAT(ServerOptionsFromFlags(kAvailable),
              StatusIs(kInvalid, AllOf(HasSubstr("--services: 'rerank'"),
                                       HasSubstr("available: feature_store, seqrec"))));
}

TEST_F(ServerFlagsTest, RepeatedOrEmptyServiceName) {
  Set("services", "seqrec,seqrec");
  EXPECT_THAT(ServerOptionsFromFlags(kAvailable), StatusIs(kInvalid, HasSubstr("given twice")));
  Set("services", "seqrec,,feature_store");
  EXPECT_THAT(ServerOptionsFromFlags(kAvailable), StatusIs(kInvalid, HasSubstr("empty name")));
}

TEST_F(ServerFlagsTest, AllOnABuildWithoutServicesHostsNone) {
  absl::StatusOr<ServerOptions> o = ServerOptionsFromFlags({});
  ASSERT_THAT(o, IsOk());
  EXPECT_TRUE(o->services.empty());
  Set("services", "seqrec");
  EXPECT_THAT(ServerOptionsFromFlags({}), StatusIs(kInvalid, HasSubstr("available: none yet")));
}

TEST_F(ServerFlagsTest, PortsOutOfRangeOrClashing) {
  Set("grpc_port", "70000");
  EXPECT_THAT(ServerOptionsFromFlags(kAvailable),
              StatusIs(kInvalid, HasSubstr("--grpc_port: 70000 is outside [0, 65535]")));
  Set("grpc_port", "9000");
  Set("metrics_port", "9000");
  EXPECT_THAT(ServerOptionsFromFlags(kAvailable),
              StatusIs(kInvalid, HasSubstr("--metrics_port: 9000 is also --grpc_port")));
}

TEST_F(ServerFlagsTest, TlsFlagsMustComeTogether) {
  Set("tls_cert_file", "/etc/recsys/tls.crt");
  EXPECT_THAT(ServerOptionsFromFlags(kAvailable), StatusIs(kInvalid, HasSubstr("--tls_key_file")));
  Set("tls_cert_file", "");
  Set("tls_client_ca_file", "/etc/recsys/ca.crt");
  EXPECT_THAT(ServerOptionsFromFlags(kAvailable),
              StatusIs(kInvalid, HasSubstr("--tls_client_ca_file")));
}

TEST_F(ServerFlagsTest, DurationsAndLimitsMustBeSane) {
  Set("default_deadline", "0s");
  EXPECT_THAT(ServerOptionsFromFlags(kAvailable),
              StatusIs(kInvalid, HasSubstr("--default_deadline")));
  Set("default_deadline", "1s");
  Set("drain_timeout", "-1s");
  EXPECT_THAT(ServerOptionsFromFlags(kAvailable), StatusIs(kInvalid, HasSubstr("--drain_timeout")));
  Set("drain_timeout", "1s");
  Set("max_message_bytes", "10");
  EXPECT_THAT(ServerOptionsFromFlags(kAvailable),
              StatusIs(kInvalid, HasSubstr("--max_message_bytes: 10 is outside")));
}

TEST_F(ServerFlagsTest, LoggingFlags) {
  Set("log_format", "json");
  Set("log_level", "warn");
  EXPECT_THAT(InitLoggingFromFlags(), IsOk());
  Set("log_format", "xml");
  EXPECT_THAT(InitLoggingFromFlags(), StatusIs(kInvalid, HasSubstr("--log_format: 'xml'")));
  Set("log_format", "text");
  Set("log_level", "loud");
  EXPECT_THAT(InitLoggingFromFlags(), StatusIs(kInvalid, HasSubstr("--log_level: 'loud'")));
}

}  // namespace
}  // namespace recsys
