#pragma once
// CurlHttpTransport: the HttpTransport of the daemon, over libcurl multi.
// Connections are kept alive in the multi handle's cache and shared by the
// requests; the easy handles (and their buffers) are pooled and reused, so
// a request in a steady stream allocates nothing here.
//
// Driven by curl's socket interface: curl says which sockets to watch and
// when its next timeout falls, poll() waits on them with epoll and hands
// curl only the sockets that are ready. curl_multi_perform and
// curl_multi_poll would visit every transfer and every socket on each
// turn, and with 60 requests in flight against an endpoint 25 ms away that
// was a sixth of the sink thread's time.
// Threading: as HttpTransport (one sender thread; wakeup() from any).
// curl_global_init() must have run (the daemon does it at start).

#include <chrono>
#include <memory>
#include <optional>
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
  // curl's CURLMOPT_SOCKETFUNCTION and CURLMOPT_TIMERFUNCTION (a socket is
  // an int on POSIX, as curl_socket_t).
  static int watchSocket(CURL* easy, int socket, int what, void* self, void* socketData);
  static int setTimer(CURLM* multi, long timeoutMs, void* self);
  // Runs curl's timeout actions when their time has come (at once for a
  // transfer just added).
  void runDueTimer();
  void release(Transfer* transfer);

  CURLM* multi_;
  int epoll_ = -1;
  int wakeFd_ = -1;  // an eventfd in the epoll set: wakeup()
  std::optional<std::chrono::steady_clock::time_point> timerAt_;
  HttpOptions options_;
  std::vector<std::unique_ptr<Transfer>> idle_;
  std::vector<std::unique_ptr<Transfer>> active_;
};

// The kind of a libcurl failure (a CURLcode); CURLE_OK is kNone and codes
// not listed are kOther.
TransportFailure transportFailureFromCurl(int curlCode);

}  // namespace kinship::aws
