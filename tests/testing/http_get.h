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

// A TCP connection to host:port that sends nothing, held open until destroyed (an idle or
// stalled client). ok() is false when it could not connect.
class IdleConnection {
 public:
  IdleConnection(const std::string& host, int port);
  ~IdleConnection();
  IdleConnection(const IdleConnection&) = delete;
  IdleConnection& operator=(const IdleConnection&) = delete;
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

}  // namespace recsys::testing
