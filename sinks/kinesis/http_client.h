#pragma once
// HttpClient: POSTs request bodies over one kept-alive libcurl connection.
// Not thread-safe: one per sender thread. Call curl_global_init() once at
// program start (the daemon does) before creating one.

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

typedef void CURL;
struct curl_slist;

namespace kinship::kinesis {

struct HttpOptions {
  std::chrono::milliseconds connectTimeout{5000};
  std::chrono::milliseconds requestTimeout{30000};
  std::string caFile;
};

struct HttpResponse {
  long status = 0;
  std::string body;  // reused across requests
};

class HttpClient {
 public:
  explicit HttpClient(const HttpOptions& options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // A transport failure (connect, TLS, timeout, reset) is an error Status
  // of code kUnavailable whose message names the cause; any HTTP answer,
  // whatever its status, is success with `out` filled in.
  Status post(const std::string& url, const std::vector<std::pair<std::string, std::string>>& headers,
              std::string_view body, HttpResponse& out);

 private:
  CURL* curl_;
  HttpOptions options_;
  std::string headerScratch_;
};

}  // namespace kinship::kinesis
