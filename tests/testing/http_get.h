// Minimal HTTP/1.0 GET over loopback, enough to scrape /metrics without extra dependencies.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace recsys::testing {

struct HttpResponse {
  int status_code = 0;
  std::string body;
};

absl::StatusOr<HttpResponse> HttpGet(const std::string& host, int port, const std::string& path,
                                     absl::Duration timeout = absl::Seconds(5));

}  // namespace recsys::testing
