// Table-driven checks of a service's answers to bad requests: each case edits a copy of a
// valid request and names the status code and a substring of the message it must get.
#pragma once

#include <gmock/gmock.h>
#include <grpcpp/support/status.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "recsys/common/v1/common.pb.h"

namespace recsys::testing {

template <typename Request>
struct BadRequest {
  std::function<void(Request*)> edit;
  grpc::StatusCode code;
  std::string message;  // a substring of the error message
};

// What every model service answers alike (the shell's ModelHost and history resolver), for a
// valid request whose queries[0].user is a history of one behaviour: no model name, an
// unknown 100 KB one, an item outside the catalogue, an empty history, a user with no source.
template <typename Request>
std::vector<BadRequest<Request>> SharedModelServiceCases(
    std::function<common::v1::UserRef*(Request*)> first_user) {
  return {
      {[](Request* r) { r->mutable_model()->clear_name(); }, grpc::StatusCode::INVALID_ARGUMENT,
       "model.name is required"},
      // An unknown name is quoted cut short, never echoed whole.
      {[](Request* r) { r->mutable_model()->set_name(std::string(100 << 10, 'm')); },
       grpc::StatusCode::NOT_FOUND, "'... (102400 bytes); this server serves:"},
      {[first_user](Request* r) {
         first_user(r)->mutable_history()->add_behaviors()->set_item_id(0);
       },
       grpc::StatusCode::INVALID_ARGUMENT, "queries[0].user.history.behaviors[1].item_id"},
      {[first_user](Request* r) { first_user(r)->mutable_history()->clear_behaviors(); },
       grpc::StatusCode::INVALID_ARGUMENT, "queries[0].user.history: empty"},
      {[first_user](Request* r) { first_user(r)->clear_source(); },
       grpc::StatusCode::INVALID_ARGUMENT, "queries[0].user: set user_id or history"},
  };
}

// Sends each case's edit of `valid` through `call` (Request -> grpc::Status); with
// `first_user`, the SharedModelServiceCases too.
template <typename Request, typename Call>
void ExpectBadRequests(const Request& valid, std::vector<BadRequest<Request>> cases, Call call,
                       std::function<common::v1::UserRef*(Request*)> first_user = nullptr) {
  if (first_user) {
    for (BadRequest<Request>& c : SharedModelServiceCases(first_user)) cases.push_back(std::move(c));
  }
  for (const BadRequest<Request>& c : cases) {
    Request request = valid;
    c.edit(&request);
    const grpc::Status s = call(request);
    EXPECT_EQ(s.error_code(), c.code) << c.message << ": " << s.error_message();
    EXPECT_THAT(s.error_message(), ::testing::HasSubstr(c.message));
  }
}

}  // namespace recsys::testing
