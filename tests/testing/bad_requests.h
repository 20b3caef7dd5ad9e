// Table-driven checks of a service's answers to bad requests: each case edits a copy of a
// valid request and names the status code and a substring of the message it must get.
#pragma once

#include <gmock/gmock.h>
#include <grpcpp/support/status.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

namespace recsys::testing {

template <typename Request>
struct BadRequest {
  std::function<void(Request*)> edit;
  grpc::StatusCode code;
  std::string message;  // a substring of the error message
};

// Sends each case's edit of `valid` through `call` (Request -> grpc::Status).
template <typename Request, typename Call>
void ExpectBadRequests(const Request& valid, const std::vector<BadRequest<Request>>& cases,
                       Call call) {
  for (const BadRequest<Request>& c : cases) {
    Request request = valid;
    c.edit(&request);
    const grpc::Status s = call(request);
    EXPECT_EQ(s.error_code(), c.code) << c.message << ": " << s.error_message();
    EXPECT_THAT(s.error_message(), ::testing::HasSubstr(c.message));
  }
}

}  // namespace recsys::testing
