#pragma once
// HttpTransport: what the Kinesis sink sends its requests through. Several
// HTTP POSTs in flight at once, driven from one thread: the caller starts
// requests it owns and polls for the ones that completed. An interface, so
// that the sink's tests answer requests in-process at exact instants of a
// manual clock (tests/support/scripted_transport.h); CurlHttpTransport
// (curl_http_transport.h) is the real one.
//
// Threading: one thread (the sink's sender) calls everything except
// wakeup(), which any thread may call.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "aws/http_headers.h"
#include "common/status.h"

namespace kinship::aws {

struct HttpOptions {
  std::chrono::milliseconds connectTimeout{5000};
  // The whole exchange: a request still unanswered after this fails with
  // TransportFailure::kTimeout.
  std::chrono::milliseconds requestTimeout{30000};
  std::string caFile;
  // Answers longer than this are cut off and the request fails with
  // responseTooLarge set: no answer the sink asks for is legitimately
  // larger (PutRecords: about 2 MiB for 500 failed records with messages;
  // a ListShards page: well under 1 MiB), and an endpoint must not be able
  // to fill our memory.
  std::size_t maxResponseBytes = 8 * 1024 * 1024;
  // Idle connections kept alive for the next requests: one per request that
  // may be in flight. Fewer, and every request beyond them opens (and
  // handshakes) a new connection each time.
  long maxConnections = 64;
};

// What went wrong below HTTP.
enum class TransportFailure : uint8_t { kNone, kConnect, kTimeout, kReset, kTls, kDns, kOther };

std::string_view transportFailureName(TransportFailure failure);  // "connect", "timeout", ...

// One request and, once it completed, its answer. Plain data: whatever a
// transport keeps per request (a curl handle) stays inside the transport.
struct HttpRequest {
  // Filled by the caller before start(); the body must stay valid and
  // unchanged until the request completes.
  std::string url;
  HeaderList headers;
  std::string_view body;

  // Filled in on completion. On a failure below HTTP, transportStatus is
  // kUnavailable with the cause and `failure` says which kind; otherwise
  // httpStatus and responseBody hold the answer.
  Status transportStatus;
  TransportFailure failure = TransportFailure::kNone;
  long httpStatus = 0;
  std::string responseBody;       // its capacity is reused across uses
  bool responseTooLarge = false;  // the answer passed maxResponseBytes (then transportStatus fails)

  // Sets the answer fields to "not answered yet"; start() does it.
  void resetAnswer() {
    transportStatus = Status::ok();
    failure = TransportFailure::kNone;
    httpStatus = 0;
    responseBody.clear();
    responseTooLarge = false;
  }
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;

  // Sends `request` (which must not be in flight); it completes later,
  // through poll().
  virtual void start(HttpRequest& request) = 0;
  // Waits up to `timeout` (0: not at all) for progress, then appends the
  // requests that completed since the last call to `done`.
  virtual void poll(std::chrono::milliseconds timeout, std::vector<HttpRequest*>& done) = 0;
  // Requests started and not yet returned by poll().
  virtual size_t inFlight() const = 0;
  // Abandons a started request that has not completed (at shutdown); it is
  // never returned by poll().
  virtual void cancel(HttpRequest& request) = 0;
  // Makes a waiting poll() return early. Thread-safe.
  virtual void wakeup() = 0;
};

}  // namespace kinship::aws
