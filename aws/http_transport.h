#pragma once
// HttpTransport: several HTTP POSTs in flight at once over kept-alive
// connections (libcurl multi), driven from one thread. A caller starts
// requests it owns and polls for the ones that completed; each request keeps
// its curl handle between uses, so connections and buffers are reused.
// Not thread-safe: one sender thread, except wakeup(), which any thread may
// call. curl_global_init() must have run (the daemon does it at start).

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/http_headers.h"
#include "common/status.h"

typedef void CURL;
typedef void CURLM;
struct curl_slist;

namespace kinship::aws {

struct HttpOptions {
  std::chrono::milliseconds connectTimeout{5000};
  std::chrono::milliseconds requestTimeout{30000};
  std::string caFile;
  // Answers longer than this are cut off and the request fails with
  // responseTooLarge set: no answer the sink asks for is legitimately
  // larger (PutRecords: about 2 MiB for 500 failed records with messages;
  // a ListShards page: well under 1 MiB), and an endpoint must not be able
  // to fill our memory.
  std::size_t maxResponseBytes = 8 * 1024 * 1024;
};

class HttpRequest {
 public:
  HttpRequest();
  ~HttpRequest();
  HttpRequest(const HttpRequest&) = delete;
  HttpRequest& operator=(const HttpRequest&) = delete;

  // Filled by the caller before start(); the body must stay valid and
  // unchanged until the request completes.
  std::string url;
  HeaderList headers;
  std::string_view body;

  // Filled in on completion.
  Status transportStatus;  // kUnavailable with the cause on a transport failure
  int curlCode = 0;        // the CURLcode, for classifying transport failures
  long httpStatus = 0;
  std::string responseBody;  // reused across uses
  bool responseTooLarge = false;  // the answer passed maxResponseBytes (then transportStatus fails)
  std::chrono::steady_clock::time_point startedAt;

 private:
  friend class HttpTransport;
  CURL* curl_;
  curl_slist* headerList_ = nullptr;
  std::size_t maxResponseBytes_ = 0;
};

class HttpTransport {
 public:
  explicit HttpTransport(const HttpOptions& options);
  ~HttpTransport();
  HttpTransport(const HttpTransport&) = delete;
  HttpTransport& operator=(const HttpTransport&) = delete;

  void start(HttpRequest& request);
  // Waits up to `timeout` for progress, then appends the requests that
  // completed to `done`.
  void poll(std::chrono::milliseconds timeout, std::vector<HttpRequest*>& done);
  size_t inFlight() const { return inFlight_; }
  // Abandons a started request that has not completed (at shutdown).
  void cancel(HttpRequest& request);
  // Makes a waiting poll() return early. Thread-safe.
  void wakeup();

 private:
  static size_t appendBody(char* data, size_t size, size_t count, void* userdata);

  CURLM* multi_;
  HttpOptions options_;
  size_t inFlight_ = 0;
};

}  // namespace kinship::aws
