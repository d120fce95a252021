#include "aws/curl_http_transport.h"

#include <curl/curl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <type_traits>

namespace kinship::aws {

namespace {
// Events taken from one epoll_wait; more wait for the next turn.
constexpr int kMaxEvents = 64;

static_assert(std::is_same_v<curl_socket_t, int>, "CurlHttpTransport::watchSocket takes a socket as an int");
}  // namespace

CurlHttpTransport::Transfer::~Transfer() {
  curl_easy_cleanup(curl);
  curl_slist_free_all(headers);
}

size_t CurlHttpTransport::appendBody(char* data, size_t size, size_t count, void* userdata) {
  auto* transfer = static_cast<Transfer*>(userdata);
  HttpRequest& request = *transfer->request;
  const size_t bytes = size * count;
  if (request.responseBody.size() + bytes > transfer->maxResponseBytes) {
    request.responseTooLarge = true;
    return 0;  // curl stops the transfer with CURLE_WRITE_ERROR
  }
  request.responseBody.append(data, bytes);
  return bytes;
}

CurlHttpTransport::CurlHttpTransport(const HttpOptions& options)
    : multi_(curl_multi_init()),
      epoll_(epoll_create1(EPOLL_CLOEXEC)),
      wakeFd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
      options_(options) {
  // Out of memory or of file descriptors at start: nothing would work.
  if (multi_ == nullptr || epoll_ < 0 || wakeFd_ < 0) std::abort();
  epoll_event wake{};
  wake.events = EPOLLIN;
  wake.data.fd = wakeFd_;
  if (epoll_ctl(epoll_, EPOLL_CTL_ADD, wakeFd_, &wake) != 0) std::abort();
  curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, std::max(1L, options_.maxConnections));
  curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &CurlHttpTransport::watchSocket);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &CurlHttpTransport::setTimer);
  curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
}

CurlHttpTransport::~CurlHttpTransport() {
  for (auto& transfer : active_) curl_multi_remove_handle(multi_, transfer->curl);
  active_.clear();
  idle_.clear();
  // Closing its connections, curl still calls watchSocket: epoll goes last.
  curl_multi_cleanup(multi_);
  close(wakeFd_);
  close(epoll_);
}

int CurlHttpTransport::watchSocket(CURL*, int socket, int what, void* self, void*) {
  const int epoll = static_cast<CurlHttpTransport*>(self)->epoll_;
  if (what == CURL_POLL_REMOVE) {
    // Fails harmlessly when curl has closed it already.
    epoll_ctl(epoll, EPOLL_CTL_DEL, socket, nullptr);
    return 0;
  }
  epoll_event event{};
  event.events = ((what & CURL_POLL_IN) != 0 ? EPOLLIN : 0u) | ((what & CURL_POLL_OUT) != 0 ? EPOLLOUT : 0u);
  event.data.fd = socket;
  // A socket curl named before is modified; a new one (or a number reused
  // after a close) is added.
  if (epoll_ctl(epoll, EPOLL_CTL_MOD, socket, &event) == 0) return 0;
  if (errno == ENOENT && epoll_ctl(epoll, EPOLL_CTL_ADD, socket, &event) == 0) return 0;
  return -1;  // curl fails the transfers on this socket
}

int CurlHttpTransport::setTimer(CURLM*, long timeoutMs, void* self) {
  auto* transport = static_cast<CurlHttpTransport*>(self);
  if (timeoutMs < 0) {
    transport->timerAt_.reset();
  } else {
    transport->timerAt_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
  }
  return 0;
}

void CurlHttpTransport::runDueTimer() {
  // Acting may set a timer due at once again (a transfer's next step):
  // a few rounds, then the next poll() goes on.
  for (int round = 0; round < 4 && timerAt_ && *timerAt_ <= std::chrono::steady_clock::now(); ++round) {
    timerAt_.reset();
    int running = 0;
    curl_multi_socket_action(multi_, CURL_SOCKET_TIMEOUT, 0, &running);
  }
}

void CurlHttpTransport::start(HttpRequest& request) {
  std::unique_ptr<Transfer> transfer;
  if (idle_.empty()) {
    transfer = std::make_unique<Transfer>();
    transfer->curl = curl_easy_init();
    if (transfer->curl == nullptr) std::abort();  // out of memory
  } else {
    transfer = std::move(idle_.back());
    idle_.pop_back();
  }
  CURL* curl = transfer->curl;
  curl_slist_free_all(transfer->headers);
  transfer->headers = nullptr;
  std::string line;
  for (const auto& [name, value] : request.headers) {
    line.assign(name);
    line += ": ";
    line += value;
    transfer->headers = curl_slist_append(transfer->headers, line.c_str());
  }
  // Without this curl waits for a 100-continue on large bodies.
  transfer->headers = curl_slist_append(transfer->headers, "Expect:");
  transfer->request = &request;
  transfer->maxResponseBytes = options_.maxResponseBytes;
  request.resetAnswer();

  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, transfer->headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, appendBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, transfer.get());
  curl_easy_setopt(curl, CURLOPT_PRIVATE, transfer.get());
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connectTimeout.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.requestTimeout.count()));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
  // HTTPS_PROXY / NO_PROXY are read from the environment by libcurl itself.
  if (!options_.caFile.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options_.caFile.c_str());
  curl_multi_add_handle(multi_, curl);
  active_.push_back(std::move(transfer));
}

void CurlHttpTransport::release(Transfer* transfer) {
  curl_multi_remove_handle(multi_, transfer->curl);
  transfer->request = nullptr;
  for (size_t i = 0; i < active_.size(); ++i) {
    if (active_[i].get() != transfer) continue;
    idle_.push_back(std::move(active_[i]));
    active_[i] = std::move(active_.back());
    active_.pop_back();
    return;
  }
}

void CurlHttpTransport::poll(std::chrono::milliseconds timeout, std::vector<HttpRequest*>& done) {
  runDueTimer();
  if (!active_.empty()) {
    auto wait = std::max<std::chrono::milliseconds::rep>(0, timeout.count());
    if (timerAt_) {
      // Rounded up: a wait cut to 0 ms would turn again before the instant.
      const auto untilTimer = std::chrono::ceil<std::chrono::milliseconds>(*timerAt_ - std::chrono::steady_clock::now());
      wait = std::clamp<std::chrono::milliseconds::rep>(untilTimer.count(), 0, wait);
    }
    epoll_event events[kMaxEvents];
    const int ready = epoll_wait(epoll_, events, kMaxEvents, static_cast<int>(wait));
    for (int i = 0; i < ready; ++i) {
      if (events[i].data.fd == wakeFd_) {
        uint64_t count = 0;
        [[maybe_unused]] ssize_t ignored = read(wakeFd_, &count, sizeof count);
        continue;
      }
      int flags = 0;
      if ((events[i].events & EPOLLIN) != 0) flags |= CURL_CSELECT_IN;
      if ((events[i].events & EPOLLOUT) != 0) flags |= CURL_CSELECT_OUT;
      if ((events[i].events & (EPOLLERR | EPOLLHUP)) != 0) flags |= CURL_CSELECT_ERR;
      int running = 0;
      curl_multi_socket_action(multi_, events[i].data.fd, flags, &running);
    }
    runDueTimer();
  }
  int queued = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi_, &queued)) {
    if (msg->msg != CURLMSG_DONE) continue;
    Transfer* transfer = nullptr;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&transfer));
    HttpRequest& request = *transfer->request;
    const CURLcode result = msg->data.result;
    if (result == CURLE_OK) {
      curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &request.httpStatus);
    } else if (request.responseTooLarge) {
      request.failure = TransportFailure::kOther;
      request.transportStatus = Status::unavailable("answer from " + request.url + " refused: longer than " +
                                                    std::to_string(options_.maxResponseBytes) + " bytes");
    } else {
      request.failure = transportFailureFromCurl(result);
      request.transportStatus =
          Status::unavailable(std::string("request to ") + request.url + " failed: " + curl_easy_strerror(result));
    }
    release(transfer);
    done.push_back(&request);
  }
}

void CurlHttpTransport::cancel(HttpRequest& request) {
  auto it = std::find_if(active_.begin(), active_.end(), [&](const auto& t) { return t->request == &request; });
  if (it != active_.end()) release(it->get());
}

void CurlHttpTransport::wakeup() {
  const uint64_t one = 1;
  // Fails only when the counter is about to overflow: a wakeup is pending anyway.
  [[maybe_unused]] ssize_t ignored = write(wakeFd_, &one, sizeof one);
}

TransportFailure transportFailureFromCurl(int curlCode) {
  using TF = TransportFailure;
  switch (static_cast<CURLcode>(curlCode)) {
    case CURLE_OK: return TF::kNone;

    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY: return TF::kDns;

    case CURLE_COULDNT_CONNECT:
    case CURLE_QUIC_CONNECT_ERROR: return TF::kConnect;

    case CURLE_OPERATION_TIMEDOUT: return TF::kTimeout;

    // The peer closed or broke the connection after it was established:
    // nothing sent, nothing received, a body cut short, an HTTP/2 stream
    // reset.
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_HTTP3: return TF::kReset;

    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CLIENTCERT:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_USE_SSL_FAILED: return TF::kTls;

    default: return TF::kOther;
  }
}

}  // namespace kinship::aws
