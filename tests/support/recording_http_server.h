#pragma once
// RecordingHttpServer: a FakeHttpServer on 127.0.0.1 that gives every
// request the same answer (a test may change it) and keeps every request,
// for tests of clients (STS, container credentials...). Test-only.

#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/fake_http_server.h"

namespace kinship::testing {

class RecordingHttpServer {
 public:
  explicit RecordingHttpServer(HttpReply reply = {})
      : reply_(std::move(reply)), server_([this](const HttpRequest& request) {
          std::lock_guard lock(mutex_);
          requests_.push_back(request);
          return reply_;
        }) {}

  std::string url() const { return server_.url(); }
  std::vector<HttpRequest> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  void answer(HttpReply reply) {
    std::lock_guard lock(mutex_);
    reply_ = std::move(reply);
  }

 private:
  std::mutex mutex_;
  HttpReply reply_;
  std::vector<HttpRequest> requests_;
  FakeHttpServer server_;  // last: its threads stop before the state above goes
};

}  // namespace kinship::testing
