#include "sinks/kinesis/http_client.h"

#include <curl/curl.h>

namespace kinship::kinesis {

namespace {

size_t appendBody(char* data, size_t size, size_t count, void* userdata) {
  static_cast<std::string*>(userdata)->append(data, size * count);
  return size * count;
}

}  // namespace

HttpClient::HttpClient(const HttpOptions& options) : curl_(curl_easy_init()), options_(options) {}

HttpClient::~HttpClient() {
  if (curl_ != nullptr) curl_easy_cleanup(curl_);
}

Status HttpClient::post(const std::string& url, const std::vector<std::pair<std::string, std::string>>& headers,
                        std::string_view body, HttpResponse& out) {
  if (curl_ == nullptr) return Status::internal("curl_easy_init failed");
  out.status = 0;
  out.body.clear();

  curl_slist* list = nullptr;
  for (const auto& [name, value] : headers) {
    headerScratch_.assign(name);
    headerScratch_ += ": ";
    headerScratch_ += value;
    list = curl_slist_append(list, headerScratch_.c_str());
  }
  // Without this curl waits for a 100-continue on large bodies.
  list = curl_slist_append(list, "Expect:");

  // The handle keeps its options between requests; setting them each time
  // keeps this function self-contained, and the connection is still reused.
  curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl_, CURLOPT_POST, 1L);
  curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, appendBody);
  curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &out.body);
  curl_easy_setopt(curl_, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connectTimeout.count()));
  curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.requestTimeout.count()));
  curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl_, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(curl_, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(curl_, CURLOPT_ACCEPT_ENCODING, nullptr);
  if (!options_.caFile.empty()) curl_easy_setopt(curl_, CURLOPT_CAINFO, options_.caFile.c_str());

  CURLcode rc = curl_easy_perform(curl_);
  curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, nullptr);
  curl_slist_free_all(list);
  if (rc != CURLE_OK) {
    return Status::unavailable(std::string("request to ") + url + " failed: " + curl_easy_strerror(rc));
  }
  curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &out.status);
  return Status::ok();
}

}  // namespace kinship::kinesis
