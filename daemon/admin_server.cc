#include "daemon/admin_server.h"

#include "common/host_port.h"

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <array>
#include <asio.hpp>
#include <cctype>
#include <charconv>
#include <list>
#include <optional>
#include <vector>

#include "common/host_port.h"
#include "common/log.h"

namespace kinship::daemon {
namespace {

constexpr std::string_view kComponent = "admin";
constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";
constexpr std::string_view kTextContentType = "text/plain; charset=utf-8";
// Pause before accepting again after an accept error (e.g. EMFILE), so that
// a persistent error does not spin the main loop.
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};

struct Response {
  int status = 200;
  std::string_view reason = "OK";
  std::string body;
  std::string_view contentType = kTextContentType;
  bool headOnly = false;  // HEAD: same headers, no body
  bool allowHeader = false;  // 405 must say which methods are allowed
};

Response errorResponse(int status, std::string_view reason, std::string_view body) {
  Response r;
  r.status = status;
  r.reason = reason;
  r.body = std::string(body);
  return r;
}

std::string renderHead(const Response& r) {
  std::string head = fmt::format(
      "HTTP/1.1 {} {}\r\n"
      "Content-Type: {}\r\n"
      "Content-Length: {}\r\n"
      // Health and metrics are point-in-time answers; a cache must never
      // replay them.
      "Cache-Control: no-store\r\n",
      r.status, r.reason, r.contentType, r.body.size());
  if (r.allowHeader) head += "Allow: GET, HEAD\r\n";
  // One request per connection keeps the server trivially correct (no
  // pipelining, no body framing); scrapers and probes reconnect anyway.
  head += "Connection: close\r\n\r\n";
  return head;
}

// RFC 9110 "tchar": the characters allowed in a method or header name.
bool isTokenChar(char c) {
  if (std::isalnum(static_cast<unsigned char>(c))) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool isToken(std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), isTokenChar); }

bool isVisibleAscii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

std::string_view stripCr(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

// Returns the offset just past the blank line that ends the head, or npos.
// Bare LF line endings are accepted too (RFC 9112 allows it), which costs
// nothing and helps hand-typed requests (nc).
std::size_t findHeadEnd(std::string_view data) {
  for (auto i = data.find('\n'); i != std::string_view::npos; i = data.find('\n', i + 1)) {
    if (i + 1 < data.size() && data[i + 1] == '\n') return i + 2;
    if (i + 2 < data.size() && data[i + 1] == '\r' && data[i + 2] == '\n') return i + 3;
  }
  return std::string_view::npos;
}

struct RequestLine {
  std::string_view method;
  std::string_view target;
};

// "METHOD SP origin-form SP HTTP/1.x", the line without its line ending.
std::optional<RequestLine> parseRequestLine(std::string_view line) {
  auto sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return std::nullopt;
  auto sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) return std::nullopt;
  RequestLine out{line.substr(0, sp1), line.substr(sp1 + 1, sp2 - sp1 - 1)};
  std::string_view version = line.substr(sp2 + 1);
  if (!isToken(out.method)) return std::nullopt;
  if (out.target.empty() || out.target.front() != '/' || !isVisibleAscii(out.target)) return std::nullopt;
  if (version != "HTTP/1.1" && version != "HTTP/1.0") return std::nullopt;
  return out;
}

// Validates a complete head (request line + header lines + blank line). We
// need no header values (every answer closes the connection), but malformed
// headers still get a 400 rather than being silently accepted.
std::optional<RequestLine> parseHead(std::string_view head) {
  auto eol = head.find('\n');
  auto request = parseRequestLine(stripCr(head.substr(0, eol)));
  if (!request) return std::nullopt;
  std::string_view rest = head.substr(eol + 1);
  while (!rest.empty()) {
    eol = rest.find('\n');
    std::string_view line = stripCr(rest.substr(0, eol));
    rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 1);
    if (line.empty()) break;  // the blank line that ends the head
    auto colon = line.find(':');
    // Also rejects obsolete line folding (a line starting with whitespace).
    if (colon == std::string_view::npos || !isToken(line.substr(0, colon))) return std::nullopt;
  }
  return request;
}

// "[v6]:port" for v6 endpoints so that the log line can be pasted back into
// the configuration.
std::string describe(const asio::ip::tcp::endpoint& endpoint) {
  if (endpoint.address().is_v6()) return fmt::format("[{}]:{}", endpoint.address().to_string(), endpoint.port());
  return fmt::format("{}:{}", endpoint.address().to_string(), endpoint.port());
}

}  // namespace

class AdminServer::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(asio::io_context& io, std::shared_ptr<prometheus::Registry> registry, std::function<Readiness()> readiness,
       Limits limits)
      : registry_(std::move(registry)),
        readiness_(std::move(readiness)),
        limits_(limits),
        acceptor_(io),
        acceptRetry_(io) {}

  Status listen(std::string_view hostPort);
  uint16_t port() const { return port_; }
  void stop();
  void setHealth(std::function<Readiness()> health) { health_ = std::move(health); }

 private:
  class Connection;

  asio::error_code bindTo(const asio::ip::tcp::endpoint& endpoint);
  void accept();
  void onAccept(const asio::error_code& ec, asio::ip::tcp::socket socket);
  void makeRoom();
  Response handle(std::string_view head);

  std::shared_ptr<prometheus::Registry> registry_;
  std::function<Readiness()> readiness_;
  std::function<Readiness()> health_;
  Limits limits_;
  asio::ip::tcp::acceptor acceptor_;
  asio::steady_timer acceptRetry_;
  // Open connections, oldest first: for the cap, for choosing which one
  // makes room, and for stop(). A Connection enters on construction and
  // leaves when it is closed (or destroyed), so every pointer here is a live,
  // open connection and size() counts only those.
  std::list<Connection*> connections_;
  std::string address_;  // what we listen on, for logs
  uint16_t port_ = 0;
  bool stopped_ = false;
};

// One accepted socket: read the head, answer once, half-close, drain, close.
// Owned by the handlers of its pending operations (shared_from_this); it owns
// a reference to the server so the server state outlives every handler even
// if the AdminServer is destroyed first.
class AdminServer::Impl::Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(std::shared_ptr<Impl> server, asio::ip::tcp::socket socket)
      : server_(std::move(server)), socket_(std::move(socket)), deadline_(socket_.get_executor()) {
    slot_ = server_->connections_.insert(server_->connections_.end(), this);
  }
  ~Connection() {
    if (!closed_) server_->connections_.erase(slot_);
  }

  void start() {
    // One deadline for the whole head, not per read: a client trickling a
    // byte at a time must not hold the socket any longer than an idle one.
    armDeadline(server_->limits_.headTimeout);
    head_.resize(kMaxHeadBytes);
    readHead();
  }

  // Safe to call at any time and more than once; pending operations complete
  // with operation_aborted and their handlers see closed_.
  void close() {
    if (closed_) return;
    closed_ = true;
    server_->connections_.erase(slot_);
    asio::error_code ignored;
    socket_.close(ignored);
    deadline_.cancel();
  }

  // Whether the head has been read (or refused) and an answer is under way.
  bool answered() const { return answered_; }

 private:
  void armDeadline(std::chrono::milliseconds timeout) {
    deadline_.expires_after(timeout);
    deadline_.async_wait([self = shared_from_this()](const asio::error_code& ec) {
      // Re-arming cancels the previous wait, but a wait that had already
      // expired may still be queued with success: only close if the
      // *current* deadline has passed.
      if (!ec && self->deadline_.expiry() <= asio::steady_timer::clock_type::now()) self->close();
    });
  }

  void readHead() {
    socket_.async_read_some(asio::buffer(head_.data() + received_, head_.size() - received_),
                            [self = shared_from_this()](const asio::error_code& ec, std::size_t n) {
                              self->onRead(ec, n);
                            });
  }

  void onRead(const asio::error_code& ec, std::size_t n) {
    if (closed_) return;
    received_ += n;
    std::string_view data(head_.data(), received_);
    if (ec) {
      // A client that half-closes after an incomplete head can still read
      // our answer; tell it why nothing happened.
      if (ec == asio::error::eof && received_ > 0) {
        respond(errorResponse(400, "Bad Request", "bad request: incomplete request head\n"));
      } else {
        close();
      }
      return;
    }
    if (auto end = findHeadEnd(data); end != std::string_view::npos) {
      respond(server_->handle(data.substr(0, end)));
      return;
    }
    // Reject a malformed request line as soon as it is complete rather than
    // waiting for a head end that garbage may never contain.
    if (auto eol = data.find('\n'); eol != std::string_view::npos && !parseRequestLine(stripCr(data.substr(0, eol)))) {
      respond(errorResponse(400, "Bad Request", "bad request\n"));
      return;
    }
    if (received_ == head_.size()) {
      respond(errorResponse(431, "Request Header Fields Too Large", "request head too large\n"));
      return;
    }
    readHead();
  }

  void respond(const Response& response) {
    answered_ = true;
    armDeadline(server_->limits_.writeTimeout);
    out_ = renderHead(response);
    if (!response.headOnly) out_ += response.body;
    asio::async_write(socket_, asio::buffer(out_), [self = shared_from_this()](const asio::error_code& ec, std::size_t) {
      self->onWritten(ec);
    });
  }

  void onWritten(const asio::error_code& ec) {
    if (closed_) return;
    if (ec) {
      close();
      return;
    }
    asio::error_code ignored;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    // Half-close and read until the client closes: closing a socket with
    // unread input makes the kernel send RST, which can destroy our answer
    // (typically a 431) before the client has read it.
    armDeadline(server_->limits_.drainTimeout);
    drain();
  }

  void drain() {
    socket_.async_read_some(asio::buffer(discard_), [self = shared_from_this()](const asio::error_code& ec, std::size_t) {
      if (self->closed_) return;
      if (ec) {
        self->close();  // EOF: the client has read everything and closed
        return;
      }
      self->drain();
    });
  }

  std::shared_ptr<Impl> server_;
  std::list<Connection*>::iterator slot_;  // our entry in server_->connections_ while open
  asio::ip::tcp::socket socket_;
  asio::steady_timer deadline_;
  std::string head_;  // fixed kMaxHeadBytes buffer; the first received_ bytes are valid
  std::size_t received_ = 0;
  std::string out_;  // must outlive async_write
  std::array<char, 1024> discard_;
  bool answered_ = false;
  bool closed_ = false;
};

Status AdminServer::Impl::listen(std::string_view hostPort) {
  if (stopped_) return Status::invalidArgument(fmt::format("admin server: cannot listen on {}: stopped", hostPort));
  if (acceptor_.is_open()) {
    return Status::invalidArgument(fmt::format("admin server: cannot listen on {}: already listening on {}", hostPort, address_));
  }
  auto parsed = parseHostPort(hostPort);
  if (!parsed) return Status::invalidArgument(fmt::format("admin server: bad listen address {}", parsed.error().message()));
  const auto& [host, port] = *parsed;  // kinship::parseHostPort, shared with the config checks

  std::vector<asio::ip::tcp::endpoint> endpoints;
  asio::error_code ec;
  // Literal addresses skip the resolver: no DNS round trip, and a clear error.
  if (auto address = asio::ip::make_address(host, ec); !ec) {
    endpoints.emplace_back(address, port);
  } else {
    asio::ip::tcp::resolver resolver(acceptor_.get_executor());
    auto results = resolver.resolve(host, std::to_string(port),
                                    asio::ip::resolver_base::passive | asio::ip::resolver_base::numeric_service |
                                        asio::ip::resolver_base::address_configured,
                                    ec);
    if (ec) return Status::invalidArgument(fmt::format("admin server: cannot resolve {}: {}", hostPort, ec.message()));
    for (const auto& entry : results) endpoints.push_back(entry.endpoint());
    if (endpoints.empty()) return Status::invalidArgument(fmt::format("admin server: {} resolved to no address", hostPort));
  }

  // "localhost" may yield ::1 and 127.0.0.1; the first that binds wins, so a
  // host without IPv6 still gets a listener.
  for (const auto& endpoint : endpoints) {
    ec = bindTo(endpoint);
    if (!ec) break;
  }
  if (ec) return Status::ioError(fmt::format("admin server: cannot listen on {}: {}", hostPort, ec.message()));

  asio::error_code ignored;
  auto local = acceptor_.local_endpoint(ignored);
  port_ = local.port();
  address_ = describe(local);
  // debug: the daemon logs the endpoint it configured at info level.
  log::debug(kComponent, "listening on {}", address_);
  accept();
  return Status::ok();
}

asio::error_code AdminServer::Impl::bindTo(const asio::ip::tcp::endpoint& endpoint) {
  asio::error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  if (ec) return ec;
  // Lets a restarted daemon rebind while old connections sit in TIME_WAIT;
  // on Linux it does not allow two live listeners on one port.
  acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    asio::error_code ignored;
    acceptor_.close(ignored);
  }
  return ec;
}

void AdminServer::Impl::accept() {
  acceptor_.async_accept([self = shared_from_this()](const asio::error_code& ec, asio::ip::tcp::socket socket) {
    self->onAccept(ec, std::move(socket));
  });
}

void AdminServer::Impl::onAccept(const asio::error_code& ec, asio::ip::tcp::socket socket) {
  if (stopped_ || ec == asio::error::operation_aborted) return;
  if (ec) {
    log::warn(kComponent, "accept on {} failed: {}", address_, ec.message());
    acceptRetry_.expires_after(kAcceptRetryDelay);
    acceptRetry_.async_wait([self = shared_from_this()](const asio::error_code& waitEc) {
      if (!waitEc && !self->stopped_) self->accept();
    });
    return;
  }
  if (connections_.size() >= limits_.maxConnections) makeRoom();
  std::make_shared<Connection>(shared_from_this(), std::move(socket))->start();
  accept();
}

// A newcomer is most likely a probe that sends its head at once; the oldest
// connection still without a complete head is the one most likely to be a
// slow or idle client, and one that would time out soonest anyway. Refusing
// the newcomer instead (as we once did) let a few dozen slow clients fail
// every liveness probe.
void AdminServer::Impl::makeRoom() {
  if (connections_.empty()) return;
  auto victim = std::find_if(connections_.begin(), connections_.end(),
                             [](const Connection* connection) { return !connection->answered(); });
  const bool reading = victim != connections_.end();
  if (!reading) victim = connections_.begin();  // all answered: the one that has had longest to read it
  log::debug(kComponent, "{} connections open: closing the oldest {} to make room", connections_.size(),
             reading ? "still sending its request head" : "already answered");
  (*victim)->close();
}

namespace {

// 200 with `good`, or 503 with `bad` and the callback's reason.
void answerProbe(Response& r, const std::function<Readiness()>& probe, std::string_view good, std::string_view bad) {
  Readiness verdict = probe ? probe() : Readiness{true, {}};
  if (verdict.ready) {
    r.body = fmt::format("{}\n", good);
    return;
  }
  r.status = 503;
  r.reason = "Service Unavailable";
  r.body = fmt::format("{}: {}\n", bad, verdict.reason.empty() ? "unspecified" : verdict.reason);
}

}  // namespace

Response AdminServer::Impl::handle(std::string_view head) {
  auto request = parseHead(head);
  if (!request) return errorResponse(400, "Bad Request", "bad request\n");
  std::string_view path = request->target.substr(0, request->target.find('?'));
  const bool known = path == "/metrics" || path == "/healthz" || path == "/readyz";
  if (!known) return errorResponse(404, "Not Found", "not found\n");
  const bool isHead = request->method == "HEAD";
  if (!isHead && request->method != "GET") {
    Response r = errorResponse(405, "Method Not Allowed", "method not allowed\n");
    r.allowHeader = true;
    return r;
  }

  Response r;
  r.headOnly = isHead;
  if (path == "/metrics") {
    r.contentType = kMetricsContentType;
    if (registry_) r.body = prometheus::TextSerializer().Serialize(registry_->Collect());
  } else if (path == "/healthz") {
    // Being here at all proves the loop runs handlers; the callback covers
    // the threads that are not this loop.
    answerProbe(r, health_, "ok", "unhealthy");
  } else {
    answerProbe(r, readiness_, "ready", "not ready");
  }
  return r;
}

void AdminServer::Impl::stop() {
  if (stopped_) return;
  stopped_ = true;
  asio::error_code ignored;
  acceptor_.close(ignored);
  acceptRetry_.cancel();
  // close() removes the connection from the list (and does not destroy it:
  // pending handlers own each Connection), so walk a copy.
  std::vector<Connection*> open(connections_.begin(), connections_.end());
  for (Connection* connection : open) connection->close();
  if (!address_.empty()) log::debug(kComponent, "stopped listening on {}", address_);
  port_ = 0;
}

AdminServer::AdminServer(asio::io_context& io, std::shared_ptr<prometheus::Registry> registry,
                         std::function<Readiness()> readiness)
    : AdminServer(io, std::move(registry), std::move(readiness), Limits{}) {}

AdminServer::AdminServer(asio::io_context& io, std::shared_ptr<prometheus::Registry> registry,
                         std::function<Readiness()> readiness, Limits limits)
    : impl_(std::make_shared<Impl>(io, std::move(registry), std::move(readiness), limits)) {}

AdminServer::~AdminServer() { impl_->stop(); }

Status AdminServer::listen(std::string_view hostPort) { return impl_->listen(hostPort); }
uint16_t AdminServer::port() const { return impl_->port(); }
void AdminServer::stop() { impl_->stop(); }
void AdminServer::setHealth(std::function<Readiness()> health) { impl_->setHealth(std::move(health)); }


}  // namespace kinship::daemon
