#pragma once
// AdminServer: the daemon's operator-facing HTTP endpoint. It serves
//   /metrics  the Prometheus registry in text exposition format 0.0.4,
//   /healthz  liveness: answering at all proves the main loop is turning,
//             and a health callback (when set) names a stuck thread (503),
//   /readyz   readiness, as reported by a callback (503 with the reason).
// It is a deliberately tiny HTTP/1.1 server (GET and HEAD only, one request
// per connection, `Connection: close` on every response) built on the
// daemon's own Asio loop, so that it needs no extra thread and no web
// framework, and so that a wedged main loop shows up as a failing /healthz.
//
// Threading: every member function, and the readiness callback, runs on the
// thread that runs the io_context (or before that loop starts / after it has
// stopped). The registry is the only shared state and is itself thread-safe.
//
// Robustness: the probes and scrapers this port exists for send their whole
// request head at once, so a client that is slow to send its head is the one
// to drop, never a newcomer:
//   - a request head must arrive complete within Limits::headTimeout (2 s)
//     of the accept, however steadily its bytes trickle in, and is capped at
//     8 KiB (else 431);
//   - writing the answer has its own deadline (Limits::writeTimeout, 10 s),
//     and an answered connection is drained for at most 1 s before it is
//     closed;
//   - at most Limits::maxConnections (128) are open; when one more arrives,
//     the oldest connection still sending its head is closed to make room
//     (if every open connection has already been answered, the oldest one),
//     so a flood of slow or idle clients cannot lock the probes out.
// Memory is bounded by maxConnections times one head buffer and one answer.
// Garbage input gets a 400 and never takes the server down.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "common/status.h"

namespace asio {
class io_context;
}
namespace prometheus {
class Registry;
}

namespace kinship::daemon {

struct Readiness {
  bool ready;
  std::string reason;  // empty when ready
};

class AdminServer {
 public:
  // Bounds on what a client may cost us. The defaults suit production; tests
  // shrink them to exercise the limits quickly.
  struct Limits {
    // From the accept until the request head is complete.
    std::chrono::milliseconds headTimeout{std::chrono::seconds(2)};
    // For writing the answer.
    std::chrono::milliseconds writeTimeout{std::chrono::seconds(10)};
    // After the answer, how long we read and discard until the client closes
    // (closing with unread input would reset the connection and could destroy
    // the answer before the client reads it).
    std::chrono::milliseconds drainTimeout{std::chrono::seconds(1)};
    // Open connections; the one over the cap displaces the oldest that is
    // still sending its head rather than being refused.
    std::size_t maxConnections = 128;
  };
  // Largest request head (request line + headers) we accept.
  static constexpr std::size_t kMaxHeadBytes = 8 * 1024;

  // Runs on the given io_context (the daemon's main loop thread). The
  // readiness callback is called on that thread for each /readyz request.
  AdminServer(asio::io_context& io, std::shared_ptr<prometheus::Registry> registry,
              std::function<Readiness()> readiness);
  // Same, with non-default limits. (A separate overload rather than a
  // `Limits limits = {}` default: a nested aggregate with member initializers
  // cannot be a default argument inside its own enclosing class.)
  AdminServer(asio::io_context& io, std::shared_ptr<prometheus::Registry> registry,
              std::function<Readiness()> readiness, Limits limits);
  // Stops the server; in-flight handlers still queued on the io_context
  // finish harmlessly afterwards (they own the state they touch).
  ~AdminServer();

  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // "127.0.0.1:9464", "0.0.0.0:9464", "[::1]:9464", "localhost:9464"
  // (resolved, first address that binds wins); port 0 picks an ephemeral
  // port. Returns an error naming the address and the OS reason for a bad
  // address or a bind/listen failure. Host names are resolved synchronously:
  // call this at startup, not from a busy loop.
  Status listen(std::string_view hostPort);
  // /healthz answers 503 with the reason when `health` says not healthy
  // (a stuck pipeline thread). Called on the io_context's thread.
  void setHealth(std::function<Readiness()> health);
  // The bound port (the real one when listening on port 0); 0 if not listening.
  uint16_t port() const;
  // Closes the acceptor and every open connection. Idempotent; the server
  // cannot listen again afterwards.
  void stop();

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace kinship::daemon
