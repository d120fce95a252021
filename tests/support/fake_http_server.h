#pragma once
// FakeHttpServer: a scripted HTTP/1.1 server on 127.0.0.1 (ephemeral port)
// for tests that need answers no real server gives (partial failures,
// request errors). Each request is passed to a handler that returns the
// answer. Keep-alive connections, one thread per connection. Test-only.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace kinship::testing {

struct HttpRequest {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // names lowercased
  std::string body;
};

struct HttpReply {
  int status = 200;
  std::string body;
  std::string contentType = "application/x-amz-json-1.1";
  bool closeConnection = false;  // drop the connection without answering
};

class FakeHttpServer {
 public:
  using Handler = std::function<HttpReply(const HttpRequest&)>;
  explicit FakeHttpServer(Handler handler);
  ~FakeHttpServer();

  uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // Connections accepted since the start.
  size_t connectionsAccepted();

 private:
  void acceptLoop();
  void serve(int fd);

  Handler handler_;
  int listenFd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptThread_;
  std::mutex mutex_;
  std::vector<std::thread> connections_;
  std::vector<int> connectionFds_;
};

}  // namespace kinship::testing
