#include "aws/http_transport.h"

#include <curl/curl.h>

#include <cstdlib>

namespace kinship::aws {

// A member of HttpRequest's friend, so it may read the request's limit.
size_t HttpTransport::appendBody(char* data, size_t size, size_t count, void* userdata) {
  auto* request = static_cast<HttpRequest*>(userdata);
  const size_t bytes = size * count;
  if (request->responseBody.size() + bytes > request->maxResponseBytes_) {
    request->responseTooLarge = true;
    return 0;  // curl stops the transfer with CURLE_WRITE_ERROR
  }
  request->responseBody.append(data, bytes);
  return bytes;
}

HttpRequest::HttpRequest() : curl_(curl_easy_init()) {
  if (curl_ == nullptr) std::abort();  // out of memory at startup
}

HttpRequest::~HttpRequest() {
  curl_easy_cleanup(curl_);
  curl_slist_free_all(headerList_);
}

HttpTransport::HttpTransport(const HttpOptions& options) : multi_(curl_multi_init()), options_(options) {
  if (multi_ == nullptr) std::abort();
  // Keep enough idle connections for every request we may have in flight.
  curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, 64L);
}

HttpTransport::~HttpTransport() { curl_multi_cleanup(multi_); }

void HttpTransport::start(HttpRequest& request) {
  CURL* curl = request.curl_;
  curl_slist_free_all(request.headerList_);
  request.headerList_ = nullptr;
  std::string line;
  for (const auto& [name, value] : request.headers) {
    line.assign(name);
    line += ": ";
    line += value;
    request.headerList_ = curl_slist_append(request.headerList_, line.c_str());
  }
  // Without this curl waits for a 100-continue on large bodies.
  request.headerList_ = curl_slist_append(request.headerList_, "Expect:");

  request.responseBody.clear();
  request.responseTooLarge = false;
  request.maxResponseBytes_ = options_.maxResponseBytes;
  request.httpStatus = 0;
  request.curlCode = 0;
  request.transportStatus = Status::ok();
  request.startedAt = std::chrono::steady_clock::now();

  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, request.headerList_);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, appendBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &request);
  curl_easy_setopt(curl, CURLOPT_PRIVATE, &request);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connectTimeout.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.requestTimeout.count()));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
  // HTTPS_PROXY / NO_PROXY are read from the environment by libcurl itself.
  if (!options_.caFile.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options_.caFile.c_str());
  curl_multi_add_handle(multi_, curl);
  ++inFlight_;
}

void HttpTransport::poll(std::chrono::milliseconds timeout, std::vector<HttpRequest*>& done) {
  int running = 0;
  curl_multi_perform(multi_, &running);
  if (inFlight_ == 0 || timeout.count() <= 0) {
    // nothing to wait for
  } else {
    int numfds = 0;
    curl_multi_poll(multi_, nullptr, 0, static_cast<int>(timeout.count()), &numfds);
    curl_multi_perform(multi_, &running);
  }
  int queued = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi_, &queued)) {
    if (msg->msg != CURLMSG_DONE) continue;
    HttpRequest* request = nullptr;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&request));
    request->curlCode = msg->data.result;
    if (msg->data.result == CURLE_OK) {
      curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &request->httpStatus);
    } else if (request->responseTooLarge) {
      request->transportStatus = Status::unavailable("answer from " + request->url + " refused: longer than " +
                                                     std::to_string(options_.maxResponseBytes) + " bytes");
    } else {
      request->transportStatus = Status::unavailable(std::string("request to ") + request->url +
                                                     " failed: " + curl_easy_strerror(msg->data.result));
    }
    curl_multi_remove_handle(multi_, msg->easy_handle);
    --inFlight_;
    done.push_back(request);
  }
}

void HttpTransport::cancel(HttpRequest& request) {
  if (curl_multi_remove_handle(multi_, request.curl_) == CURLM_OK) --inFlight_;
}

void HttpTransport::wakeup() { curl_multi_wakeup(multi_); }

}  // namespace kinship::aws
