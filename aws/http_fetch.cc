#include "aws/http_fetch.h"

#include <curl/curl.h>

#include <algorithm>
#include <memory>
#include <string_view>

namespace kinship::aws {

namespace {

// curl's own detail is kept, but bounded: it names hosts, ports and times,
// never a header or the body.
constexpr std::size_t kMaxDetailBytes = 256;

struct BodySink {
  std::string* body;
  std::size_t limit;
  bool tooLarge = false;
};

size_t appendBounded(char* data, size_t size, size_t count, void* userdata) {
  auto* sink = static_cast<BodySink*>(userdata);
  const size_t n = size * count;
  if (n > sink->limit - sink->body->size()) {
    sink->tooLarge = true;
    return 0;  // aborts the transfer (CURLE_WRITE_ERROR)
  }
  sink->body->append(data, n);
  return n;
}

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

bool hasHeader(const HttpFetchRequest& request, std::string_view name) {
  for (const auto& [n, v] : request.headers) {
    if (n.size() == name.size() &&
        std::equal(n.begin(), n.end(), name.begin(), [](char a, char b) { return (a | 0x20) == (b | 0x20); })) {
      return true;
    }
  }
  return false;
}

Status failure(const HttpFetchRequest& request, std::string cause) {
  return Status::unavailable("HTTP " + request.method + " " + request.url + " failed: " + cause);
}

std::string describe(CURLcode code, const HttpFetchRequest& request, const char* detail) {
  std::string cause;
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      cause = "timed out (connect " + std::to_string(request.connectTimeout.count()) + " ms, total " +
              std::to_string(request.timeout.count()) + " ms)";
      break;
    case CURLE_COULDNT_CONNECT:
      cause = "connection refused or unreachable";
      break;
    case CURLE_COULDNT_RESOLVE_HOST:
      cause = "host not found";
      break;
    default:
      cause = curl_easy_strerror(code);
      break;
  }
  std::string_view extra(detail);
  if (!extra.empty()) {
    cause += " (";
    cause += extra.substr(0, kMaxDetailBytes);
    cause += ")";
  }
  return cause;
}

}  // namespace

Result<HttpFetchResponse> httpFetch(const HttpFetchRequest& request) {
  const bool isGet = request.method == "GET";
  const bool isPost = request.method == "POST";
  const bool isPut = request.method == "PUT";
  if (!isGet && !isPost && !isPut) {
    return fail(Status::invalidArgument("HTTP method " + request.method + " is not supported for " + request.url));
  }

  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return fail(failure(request, "cannot create a curl handle"));
  CURL* h = curl.get();

  std::unique_ptr<curl_slist, SlistDeleter> headerList;
  auto addHeader = [&headerList](const std::string& line) {
    headerList.reset(curl_slist_append(headerList.release(), line.c_str()));
  };
  for (const auto& [name, value] : request.headers) addHeader(name + ": " + value);
  // curl would otherwise add a form Content-Type of its own to PUT and POST,
  // and wait for a 100-continue on larger bodies.
  if (!isGet && !hasHeader(request, "Content-Type")) addHeader("Content-Type:");
  addHeader("Expect:");

  HttpFetchResponse response;
  BodySink sink{&response.body, request.maxResponseBytes};
  char errorBuffer[CURL_ERROR_SIZE] = {};

  curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  if (isGet) {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    if (isPut) curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PUT");
  }
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headerList.get());
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, appendBounded);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
  // Refuses at once when the Content-Length already says too much.
  curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(request.maxResponseBytes));
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errorBuffer);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.connectTimeout.count()));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);

  const CURLcode code = curl_easy_perform(h);
  if (sink.tooLarge || code == CURLE_FILESIZE_EXCEEDED) {
    return fail(failure(request, "answer larger than " + std::to_string(request.maxResponseBytes) + " bytes"));
  }
  if (code != CURLE_OK) return fail(failure(request, describe(code, request, errorBuffer)));
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

}  // namespace kinship::aws
