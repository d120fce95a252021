#pragma once
// CurlHttpTransport: the HttpTransport of the daemon, over libcurl multi.
// Connections are kept alive in the multi handle's cache and shared by the
// requests; the easy handles (and their buffers) are pooled and reused, so
// a request in a steady stream allocates nothing here.
// Threading: as HttpTransport (one sender thread; wakeup() from any).
// curl_global_init() must have run (the daemon does it at start).

#include <memory>
#include <vector>

#include "aws/http_transport.h"

typedef void CURL;
typedef void CURLM;
struct curl_slist;

namespace kinship::aws {

class CurlHttpTransport final : public HttpTransport {
 public:
  explicit CurlHttpTransport(const HttpOptions& options);
  ~CurlHttpTransport() override;
  CurlHttpTransport(const CurlHttpTransport&) = delete;
  CurlHttpTransport& operator=(const CurlHttpTransport&) = delete;

  void start(HttpRequest& request) override;
  void poll(std::chrono::milliseconds timeout, std::vector<HttpRequest*>& done) override;
  size_t inFlight() const override { return active_.size(); }
  void cancel(HttpRequest& request) override;
  void wakeup() override;

 private:
  // One easy handle and what it needs while a request runs on it.
  struct Transfer {
    CURL* curl = nullptr;
    curl_slist* headers = nullptr;
    HttpRequest* request = nullptr;
    std::size_t maxResponseBytes = 0;
    ~Transfer();
  };
  static size_t appendBody(char* data, size_t size, size_t count, void* userdata);
  void release(Transfer* transfer);

  CURLM* multi_;
  HttpOptions options_;
  std::vector<std::unique_ptr<Transfer>> idle_;
  std::vector<std::unique_ptr<Transfer>> active_;
};

// The kind of a libcurl failure (a CURLcode); CURLE_OK is kNone and codes
// not listed are kOther.
TransportFailure transportFailureFromCurl(int curlCode);

}  // namespace kinship::aws
