#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/status_macros.h"
#include "services/common/grpc_status.h"
#include "tests/testing/status_matchers.h"

namespace recsys {
namespace {

using ::recsys::testing::IsOk;
using ::recsys::testing::StatusIs;
using ::testing::Eq;
using ::testing::HasSubstr;

TEST(ToGrpcStatus, OkIsOk) { EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok()); }

TEST(ToGrpcStatus, EveryCanonicalCodeKeepsCodeAndMessage) {
  for (int code = 1; code <= 16; ++code) {
    const absl::Status in(static_cast<absl::StatusCode>(code), "queries[2].k: 0 is outside");
    const grpc::Status out = ToGrpcStatus(in);
    EXPECT_EQ(static_cast<int>(out.error_code()), code);
    EXPECT_EQ(out.error_message(), "queries[2].k: 0 is outside");
  }
}

TEST(ToGrpcStatus, SpecificCodesMapToTheirGrpcNames) {
  EXPECT_EQ(ToGrpcStatus(absl::InvalidArgumentError("x")).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ToGrpcStatus(absl::NotFoundError("x")).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(ToGrpcStatus(absl::ResourceExhaustedError("x")).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(ToGrpcStatus(absl::DeadlineExceededError("x")).error_code(),
            grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_EQ(ToGrpcStatus(absl::UnavailableError("x")).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST(ToGrpcStatus, NonCanonicalCodeBecomesUnknown) {
  const absl::Status odd(static_cast<absl::StatusCode>(42), "strange");
  const grpc::Status out = ToGrpcStatus(odd);
  EXPECT_EQ(out.error_code(), grpc::StatusCode::UNKNOWN);
  EXPECT_EQ(out.error_message(), "strange");
}

TEST(FromGrpcStatus, RoundTrips) {
  for (int code = 0; code <= 16; ++code) {
    const absl::Status in(static_cast<absl::StatusCode>(code), code == 0 ? "" : "msg");
    EXPECT_EQ(FromGrpcStatus(ToGrpcStatus(in)), in) << code;
  }
}

TEST(GrpcCodeName, CanonicalNames) {
  EXPECT_STREQ(GrpcCodeName(grpc::StatusCode::OK), "OK");
  EXPECT_STREQ(GrpcCodeName(grpc::StatusCode::INVALID_ARGUMENT), "INVALID_ARGUMENT");
  EXPECT_STREQ(GrpcCodeName(grpc::StatusCode::UNAUTHENTICATED), "UNAUTHENTICATED");
  EXPECT_STREQ(GrpcCodeName(static_cast<grpc::StatusCode>(99)), "UNKNOWN");
}

absl::Status FailIfNegative(int v, int* calls) {
  ++*calls;
  if (v < 0) return absl::InvalidArgumentError("negative");
  return absl::OkStatus();
}

absl::Status UsesReturnIfError(int v, int* calls, bool* reached_end) {
  RECSYS_RETURN_IF_ERROR(FailIfNegative(v, calls));
  *reached_end = true;
  return absl::OkStatus();
}

TEST(StatusMacros, ReturnIfErrorReturnsEarlyAndEvaluatesOnce) {
  int calls = 0;
  bool reached_end = false;
  EXPECT_THAT(UsesReturnIfError(-1, &calls, &reached_end),
              StatusIs(absl::StatusCode::kInvalidArgument, Eq("negative")));
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(reached_end);
  EXPECT_THAT(UsesReturnIfError(1, &calls, &reached_end), IsOk());
  EXPECT_EQ(calls, 2);
  EXPECT_TRUE(reached_end);
}

absl::StatusOr<std::unique_ptr<int>> MakeBoxed(int v) {
  if (v < 0) return absl::OutOfRangeError("below zero");
  return std::make_unique<int>(v);
}

absl::StatusOr<int> DoubleBoxed(int v) {
  RECSYS_ASSIGN_OR_RETURN(std::unique_ptr<int> boxed, MakeBoxed(v));  // move-only value
  RECSYS_ASSIGN_OR_RETURN(auto again, MakeBoxed(*boxed));             // twice in one scope
  return *boxed + *again;
}

TEST(StatusMacros, AssignOrReturn) {
  EXPECT_THAT(DoubleBoxed(-3), StatusIs(absl::StatusCode::kOutOfRange, HasSubstr("below")));
  absl::StatusOr<int> doubled = DoubleBoxed(21);
  ASSERT_THAT(doubled, IsOk());
  EXPECT_EQ(*doubled, 42);
}

}  // namespace
}  // namespace recsys
