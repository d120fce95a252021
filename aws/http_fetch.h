#pragma once
// httpFetch: one blocking HTTP request with short timeouts, for the small
// control-plane calls credentials need (STS, instance metadata, container
// credentials). Not for the data path (see http_transport.h). Thread-safe:
// each call uses its own curl handle. curl_global_init() must have run.

#include <chrono>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace kinship::aws {

struct HttpFetchRequest {
  std::string method = "GET";  // GET, PUT or POST
  std::string url{};
  std::vector<std::pair<std::string, std::string>> headers{};
  std::string body{};
  std::chrono::milliseconds connectTimeout{1000};
  std::chrono::milliseconds timeout{5000};  // the whole request
  // Answers longer than this are refused (kUnavailable): no answer to a
  // credentials call is legitimately larger.
  std::size_t maxResponseBytes = 1024 * 1024;
};

struct HttpFetchResponse {
  long status = 0;
  std::string body{};
};

// An error (kUnavailable) for transport failures, timeouts and oversized
// answers, naming the URL and the cause; any HTTP status is a response.
Result<HttpFetchResponse> httpFetch(const HttpFetchRequest& request);

}  // namespace kinship::aws
