#include "tests/support/fake_kinesis/http_server.h"

#include <algorithm>
#include <array>
#include <asio.hpp>
#include <asio/ssl.hpp>
#include <atomic>
#include <cctype>
#include <cstring>

#include "common/log.h"

namespace kinship::fake {
namespace {

constexpr std::string_view kComponent = "fake-kinesis";
constexpr size_t kInitialBuffer = 16 * 1024;
constexpr size_t kMinReadSpace = 4 * 1024;
// After an answer that closes the connection we half-close and read until
// the client closes: closing with unread input makes the kernel send RST,
// which can destroy the answer before the client reads it. Bounded.
constexpr std::chrono::milliseconds kDrainTimeout{1000};
constexpr size_t kMaxDrainBytes = 16 * 1024 * 1024;
// Pause before accepting again after an accept error such as EMFILE, so a
// persistent error does not spin a thread.
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};

using Clock = std::chrono::steady_clock;
using asio::ip::tcp;

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto x = static_cast<unsigned char>(a[i]);
    auto y = static_cast<unsigned char>(b[i]);
    if (std::tolower(x) != std::tolower(y)) return false;
  }
  return true;
}

// True if the comma-separated header value holds `token` (case-insensitive).
bool hasToken(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    auto comma = value.find(',');
    std::string_view item = value.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (equalsIgnoreCase(item, token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string_view reasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 413:
      return "Payload Too Large";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    default:
      return "Unknown";
  }
}

class HttpServer::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(asio::io_context& io, Handler handler, Limits limits)
      : io_(io),
        handler_(std::move(handler)),
        limits_(limits),
        acceptor_(asio::make_strand(io)),
        acceptRetry_(acceptor_.get_executor()) {}

  Status listen(const std::string& host, uint16_t port);
  Status enableTls(const std::string& certificateFile, const std::string& keyFile);
  uint16_t port() const { return port_.load(); }
  void stop() {
    asio::post(acceptor_.get_executor(), [self = shared_from_this()] {
      asio::error_code ignored;
      self->stopped_ = true;
      self->acceptRetry_.cancel();
      self->acceptor_.close(ignored);
    });
  }

  const Limits& limits() const { return limits_; }
  asio::ssl::context* tls() const { return tls_.get(); }
  const Handler& handler() const { return handler_; }
  uint64_t nextRequestId() { return requestIds_.fetch_add(1, std::memory_order_relaxed); }

 private:
  template <typename Stream>
  class Connection;
  void accept();

  asio::io_context& io_;
  Handler handler_;
  Limits limits_;
  tcp::acceptor acceptor_;
  asio::steady_timer acceptRetry_;
  std::atomic<uint16_t> port_{0};
  std::atomic<uint64_t> requestIds_{1};
  bool stopped_ = false;
  std::unique_ptr<asio::ssl::context> tls_;  // set before listen(); null: plain HTTP
};

// One accepted socket, plain (Stream = tcp::socket) or under TLS (Stream =
// asio::ssl::stream<tcp::socket>). Owned by the handlers of its pending
// operations (shared_from_this); it owns a reference to the server so the
// handler and limits outlive every completion. All its handlers run on its
// strand.
template <typename Stream>
class HttpServer::Impl::Connection : public std::enable_shared_from_this<Connection<Stream>> {
 public:
  using std::enable_shared_from_this<Connection<Stream>>::shared_from_this;

  template <typename... StreamArgs>
  explicit Connection(std::shared_ptr<Impl> server, StreamArgs&&... streamArgs)
      : server_(std::move(server)),
        socket_(std::forward<StreamArgs>(streamArgs)...),
        timer_(socket_.get_executor()),
        delayTimer_(socket_.get_executor()) {}

  // Starts serving on the connection's strand (after the TLS handshake).
  void run() {
    asio::dispatch(socket_.get_executor(), [self = shared_from_this()] {
      self->grow(kInitialBuffer);
      if constexpr (std::is_same_v<Stream, tcp::socket>) {
        self->read();
      } else {
        self->touch();
        self->socket_.async_handshake(asio::ssl::stream_base::server, [self](const asio::error_code& ec) {
          if (ec) {
            self->closeNow();
            return;
          }
          self->read();
        });
      }
    });
  }

 private:
  struct Span {
    uint32_t offset = 0;
    uint32_t size = 0;
  };

  std::string_view view(Span span) const { return std::string_view(buf_.get() + span.offset, span.size); }
  Span spanOf(std::string_view s) const {
    return Span{static_cast<uint32_t>(s.data() - buf_.get()), static_cast<uint32_t>(s.size())};
  }

  // Ensures room for `capacity` bytes, keeping what was read.
  void grow(size_t capacity) {
    if (capacity <= capacity_) return;
    auto bigger = std::make_unique_for_overwrite<char[]>(capacity);
    if (used_ != 0) std::memcpy(bigger.get(), buf_.get(), used_);
    buf_ = std::move(bigger);
    capacity_ = capacity;
  }

  // The deadline covers whatever the connection is waiting for (the next
  // request, the rest of a body, the client reading our answer); one timer,
  // re-armed only when it fires, so a busy connection costs no timer work.
  void touch(std::chrono::milliseconds extra = std::chrono::milliseconds(0)) {
    deadline_ = Clock::now() + server_->limits().idleTimeout + extra;
    if (timerRunning_) return;
    timerRunning_ = true;
    timer_.expires_at(deadline_);
    timer_.async_wait([self = shared_from_this()](const asio::error_code&) { self->onTimer(); });
  }

  void onTimer() {
    timerRunning_ = false;
    if (closed_) return;
    if (Clock::now() >= deadline_) {
      closeNow();
      return;
    }
    timerRunning_ = true;
    timer_.expires_at(deadline_);
    timer_.async_wait([self = shared_from_this()](const asio::error_code&) { self->onTimer(); });
  }

  void read() {
    if (capacity_ - used_ < kMinReadSpace) grow(std::max(capacity_ * 2, used_ + kMinReadSpace));
    touch();
    socket_.async_read_some(asio::buffer(buf_.get() + used_, capacity_ - used_),
                            [self = shared_from_this()](const asio::error_code& ec, size_t n) {
                              if (ec) {
                                self->closeNow();
                                return;
                              }
                              self->used_ += n;
                              self->process();
                            });
  }

  void process() {
    if (closed_) return;
    if (!haveHead_) {
      std::string_view data(buf_.get(), used_);
      auto end = data.find("\r\n\r\n", scanFrom_);
      if (end == std::string_view::npos) {
        if (used_ > server_->limits().maxHeadBytes) {
          answerAndClose(431);
          return;
        }
        scanFrom_ = used_ >= 3 ? used_ - 3 : 0;
        read();
        return;
      }
      headSize_ = end + 4;
      if (headSize_ > server_->limits().maxHeadBytes) {
        answerAndClose(431);
        return;
      }
      int status = parseHead(data.substr(0, headSize_));
      if (status != 0) {
        answerAndClose(status);
        return;
      }
      haveHead_ = true;
      grow(headSize_ + bodySize_ + HttpServer::kBodyPadding);
    }
    if (used_ < headSize_ + bodySize_) {
      if (expectContinue_ && !continueSent_) {
        continueSent_ = true;
        static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        touch();
        asio::async_write(socket_, asio::buffer(kContinue.data(), kContinue.size()),
                          [self = shared_from_this()](const asio::error_code& ec, size_t) {
                            if (ec) {
                              self->closeNow();
                              return;
                            }
                            self->read();
                          });
        return;
      }
      read();
      return;
    }
    dispatch();
  }

  // Returns 0 if the head is acceptable, else the status to answer.
  int parseHead(std::string_view head) {
    auto eol = head.find("\r\n");
    std::string_view line = head.substr(0, eol);
    auto sp1 = line.find(' ');
    auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp1 == 0 || sp2 == std::string_view::npos) return 400;
    std::string_view method = line.substr(0, sp1);
    std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    std::string_view version = line.substr(sp2 + 1);
    if (target.empty() || target.front() != '/') return 400;
    bool http11 = version == "HTTP/1.1";
    if (!http11 && version != "HTTP/1.0") return 400;
    for (char c : method) {
      if (c < 'A' || c > 'Z') return 400;
    }
    method_ = spanOf(method);
    target_ = spanOf(target);
    amzTarget_ = contentType_ = authorization_ = Span{};
    bool sawLength = false;
    bool close = false;
    bool keepAlive = false;
    bodySize_ = 0;
    expectContinue_ = false;
    continueSent_ = false;
    std::string_view rest = head.substr(eol + 2);
    while (!rest.empty()) {
      eol = rest.find("\r\n");
      std::string_view header = rest.substr(0, eol);
      rest.remove_prefix(eol + 2);
      if (header.empty()) break;
      auto colon = header.find(':');
      if (colon == std::string_view::npos || colon == 0) return 400;
      std::string_view name = header.substr(0, colon);
      if (name.find_first_of(" \t") != std::string_view::npos) return 400;
      std::string_view value = trim(header.substr(colon + 1));
      if (equalsIgnoreCase(name, "content-length")) {
        if (value.empty() || value.size() > 15) return value.empty() ? 400 : 413;
        size_t length = 0;
        for (char c : value) {
          if (c < '0' || c > '9') return 400;
          length = length * 10 + static_cast<size_t>(c - '0');
        }
        if (sawLength && length != bodySize_) return 400;
        sawLength = true;
        bodySize_ = length;
      } else if (equalsIgnoreCase(name, "transfer-encoding")) {
        // The SDKs and libcurl send Content-Length for these bodies.
        return 501;
      } else if (equalsIgnoreCase(name, "connection")) {
        close = close || hasToken(value, "close");
        keepAlive = keepAlive || hasToken(value, "keep-alive");
      } else if (equalsIgnoreCase(name, "expect")) {
        expectContinue_ = equalsIgnoreCase(value, "100-continue");
      } else if (equalsIgnoreCase(name, "x-amz-target")) {
        amzTarget_ = spanOf(value);
      } else if (equalsIgnoreCase(name, "content-type")) {
        contentType_ = spanOf(value);
      } else if (equalsIgnoreCase(name, "authorization")) {
        authorization_ = spanOf(value);
      }
    }
    if (bodySize_ > server_->limits().maxBodyBytes) return 413;
    keepAlive_ = http11 ? !close : keepAlive && !close;
    return 0;
  }

  void dispatch() {
    HttpRequest request;
    request.method = view(method_);
    request.target = view(target_);
    request.amzTarget = view(amzTarget_);
    request.contentType = view(contentType_);
    request.authorization = view(authorization_);
    request.body = std::string_view(buf_.get() + headSize_, bodySize_);
    reply_.status = 200;
    reply_.contentType = "application/x-amz-json-1.1";
    reply_.body.clear();
    reply_.delay = std::chrono::milliseconds(0);
    reply_.drop = false;
    reply_.close = !keepAlive_;
    server_->handler()(request, reply_);
    if (reply_.drop) {
      closeNow();
      return;
    }
    if (reply_.delay.count() > 0) {
      touch(reply_.delay);
      delayTimer_.expires_after(reply_.delay);
      delayTimer_.async_wait([self = shared_from_this()](const asio::error_code& ec) {
        if (ec || self->closed_) return;
        self->write();
      });
      return;
    }
    write();
  }

  void answerAndClose(int status) {
    reply_.status = status;
    reply_.contentType = "text/plain";
    reply_.body.clear();
    if (status != 413) {
      reply_.body = std::string(reasonPhrase(status));
      reply_.body += '\n';
    }
    reply_.close = true;
    reply_.delay = std::chrono::milliseconds(0);
    write();
  }

  void write() {
    head_.clear();
    head_ += "HTTP/1.1 ";
    head_ += std::to_string(reply_.status);
    head_ += ' ';
    head_ += reasonPhrase(reply_.status);
    head_ += "\r\n";
    if (!reply_.body.empty()) {
      head_ += "Content-Type: ";
      head_ += reply_.contentType;
      head_ += "\r\n";
    }
    head_ += "Content-Length: ";
    head_ += std::to_string(reply_.body.size());
    uint64_t id = server_->nextRequestId();
    // UUID-shaped like the service's; the scrambled head makes ids easy to
    // tell apart in logs, the tail is the plain counter.
    head_ += fmt::format("\r\nx-amzn-RequestId: {:08x}-fa6e-4e5a-8000-{:012x}\r\n",
                         static_cast<uint32_t>((id * 0x9E3779B97F4A7C15ULL) >> 32), id & 0xFFFFFFFFFFFFULL);
    if (reply_.close) head_ += "Connection: close\r\n";
    head_ += "\r\n";
    touch();
    std::array<asio::const_buffer, 2> buffers{asio::buffer(head_), asio::buffer(reply_.body)};
    asio::async_write(socket_, buffers, [self = shared_from_this()](const asio::error_code& ec, size_t) {
      if (ec) {
        self->closeNow();
        return;
      }
      self->onWritten();
    });
  }

  void onWritten() {
    if (reply_.close) {
      drain();
      return;
    }
    // Keep whatever the client sent after this request (pipelining).
    size_t consumed = headSize_ + bodySize_;
    size_t left = used_ - consumed;
    if (left != 0) std::memmove(buf_.get(), buf_.get() + consumed, left);
    used_ = left;
    haveHead_ = false;
    scanFrom_ = 0;
    headSize_ = bodySize_ = 0;
    if (used_ != 0) {
      process();
    } else {
      read();
    }
  }

  void drain() {
    asio::error_code ignored;
    socket_.lowest_layer().shutdown(tcp::socket::shutdown_send, ignored);
    deadline_ = Clock::now() + kDrainTimeout;
    if (timerRunning_) {
      // Its handler re-arms at the (earlier) drain deadline.
      timer_.cancel();
    } else {
      timerRunning_ = true;
      timer_.expires_at(deadline_);
      timer_.async_wait([self = shared_from_this()](const asio::error_code&) { self->onTimer(); });
    }
    drainMore();
  }

  void drainMore() {
    socket_.async_read_some(asio::buffer(buf_.get(), capacity_),
                            [self = shared_from_this()](const asio::error_code& ec, size_t n) {
                              self->drained_ += n;
                              if (ec || self->drained_ > kMaxDrainBytes) {
                                self->closeNow();
                                return;
                              }
                              self->drainMore();
                            });
  }

  void closeNow() {
    if (closed_) return;
    closed_ = true;
    asio::error_code ignored;
    // Under TLS without a close_notify: the fake only ever closes on errors,
    // timeouts and `Connection: close`, where the client has its answer.
    socket_.lowest_layer().shutdown(tcp::socket::shutdown_both, ignored);
    socket_.lowest_layer().close(ignored);
    timer_.cancel();
    delayTimer_.cancel();
  }

  std::shared_ptr<Impl> server_;
  Stream socket_;
  asio::steady_timer timer_;
  asio::steady_timer delayTimer_;
  Clock::time_point deadline_{};
  bool timerRunning_ = false;
  bool closed_ = false;

  std::unique_ptr<char[]> buf_;
  size_t capacity_ = 0;
  size_t used_ = 0;
  size_t scanFrom_ = 0;
  size_t drained_ = 0;

  bool haveHead_ = false;
  size_t headSize_ = 0;
  size_t bodySize_ = 0;
  Span method_, target_, amzTarget_, contentType_, authorization_;
  bool keepAlive_ = true;
  bool expectContinue_ = false;
  bool continueSent_ = false;

  HttpReply reply_;
  std::string head_;
};

Status HttpServer::Impl::listen(const std::string& host, uint16_t port) {
  asio::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return Status::invalidArgument(fmt::format("bad listen address \"{}\": {}", host, ec.message()));
  tcp::endpoint endpoint(address, port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    asio::error_code ignored;
    acceptor_.close(ignored);
    return Status::ioError(fmt::format("cannot listen on {}:{}: {}", host, port, ec.message()));
  }
  port_ = acceptor_.local_endpoint(ec).port();
  asio::post(acceptor_.get_executor(), [self = shared_from_this()] { self->accept(); });
  return Status::ok();
}

void HttpServer::Impl::accept() {
  if (stopped_) return;
  acceptor_.async_accept(asio::make_strand(io_),
                         [self = shared_from_this()](const asio::error_code& ec, tcp::socket socket) {
                           if (self->stopped_ || ec == asio::error::operation_aborted) return;
                           if (ec) {
                             log::warn(kComponent, "accept failed: {}; retrying", ec.message());
                             self->acceptRetry_.expires_after(kAcceptRetryDelay);
                             self->acceptRetry_.async_wait([self](const asio::error_code& waitError) {
                               if (!waitError) self->accept();
                             });
                             return;
                           }
                           asio::error_code ignored;
                           socket.set_option(tcp::no_delay(true), ignored);
                           if (self->tls_) {
                             std::make_shared<Connection<asio::ssl::stream<tcp::socket>>>(self, std::move(socket),
                                                                                         *self->tls_)
                                 ->run();
                           } else {
                             std::make_shared<Connection<tcp::socket>>(self, std::move(socket))->run();
                           }
                           self->accept();
                         });
}

Status HttpServer::Impl::enableTls(const std::string& certificateFile, const std::string& keyFile) {
  auto context = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
  asio::error_code ec;
  context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                           asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                           asio::ssl::context::no_tlsv1_1,
                       ec);
  if (!ec) context->use_certificate_chain_file(certificateFile, ec);
  if (ec) return Status::invalidArgument(fmt::format("TLS certificate {}: {}", certificateFile, ec.message()));
  context->use_private_key_file(keyFile, asio::ssl::context::pem, ec);
  if (ec) return Status::invalidArgument(fmt::format("TLS key {}: {}", keyFile, ec.message()));
  tls_ = std::move(context);
  return Status::ok();
}

HttpServer::HttpServer(asio::io_context& io, Handler handler, Limits limits)
    : impl_(std::make_shared<Impl>(io, std::move(handler), limits)) {}

HttpServer::~HttpServer() { impl_->stop(); }

Status HttpServer::listen(const std::string& host, uint16_t port) { return impl_->listen(host, port); }
Status HttpServer::enableTls(const std::string& certificateFile, const std::string& keyFile) {
  return impl_->enableTls(certificateFile, keyFile);
}
uint16_t HttpServer::port() const { return impl_->port(); }
void HttpServer::stop() { impl_->stop(); }

}  // namespace kinship::fake
