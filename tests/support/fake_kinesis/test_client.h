#pragma once
// TestClient: a minimal blocking HTTP/1.1 client on one kept-alive TCP
// connection to 127.0.0.1, for the fake's own tests and for quick load runs
// against it. It frames requests with Content-Length, reads answers by
// Content-Length, and reports a connection closed without an answer as an
// error (which is what fault tests look for). Written on plain sockets so the
// tests exercise the server with a client that is not the daemon's.
//
// Threading: not thread-safe; use one client per thread.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace kinship::fake {

struct ClientResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lowercased
  std::string body;
};

class TestClient {
 public:
  explicit TestClient(uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~TestClient();
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;

  // A Kinesis call: POST / with X-Amz-Target Kinesis_20131202.<operation>,
  // the JSON 1.1 content type and a well-formed (unsigned) Authorization.
  Result<ClientResponse> call(std::string_view operation, std::string_view body);
  // Any request; `headers` are sent as given, Content-Length is added.
  Result<ClientResponse> request(std::string_view method, std::string_view target, std::string_view body,
                                 const std::vector<std::pair<std::string, std::string>>& headers = {});
  // Sends bytes as they are and reads one answer.
  Result<ClientResponse> raw(std::string_view bytes);
  // The two halves of raw(), for exchanges like Expect: 100-continue.
  // receive() skips interim (1xx) answers unless `interim` is set.
  Status send(std::string_view bytes);
  Result<ClientResponse> receive(bool interim = false);

  void disconnect();
  bool connected() const { return fd_ >= 0; }
  int connections() const { return connections_; }  // TCP connections opened so far

 private:
  Status connect();
  Status sendAll(std::string_view bytes);
  Status fill();  // reads more into buffer_

  uint16_t port_;
  std::chrono::milliseconds timeout_;
  int fd_ = -1;
  int connections_ = 0;
  std::string buffer_;
  std::string out_;
};

struct TestRecord {
  std::string partitionKey;
  std::string data;  // raw bytes, base64-encoded in the body
  std::optional<std::string> explicitHashKey;
};

// {"StreamName": stream, "Records": [...]}.
std::string encodePutRecords(std::string_view stream, const std::vector<TestRecord>& records);
// {"StreamName": stream, "Data": ..., "PartitionKey": ..., "ExplicitHashKey"?: ...}.
std::string encodePutRecord(std::string_view stream, const TestRecord& record);

}  // namespace kinship::fake
