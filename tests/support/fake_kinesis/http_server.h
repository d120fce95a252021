#pragma once
// HttpServer: the fake endpoint's HTTP/1.1 front end on standalone Asio.
// Keep-alive connections, Content-Length bodies (with `Expect: 100-continue`
// answered, since libcurl sends it for large bodies), back-to-back requests
// on one connection, any number of connections, one io_context run by as many
// threads as the owner likes.
//
// Each complete request is handed to the handler, which fills in a reply
// synchronously; the reply may ask for a delay before it is written, or for
// the connection to be dropped without an answer (fault injection).
//
// Threading: each connection's work is serialized on its own strand, so the
// handler runs concurrently for different connections and must be
// thread-safe. listen() and stop() are called by the owner while no other
// thread touches the server, or from any thread once running (stop() posts).
//
// Robustness: heads over maxHeadBytes get 431, bodies over maxBodyBytes get
// 413 (empty body) before they are read, malformed requests get 400, chunked
// bodies 501; all of these close the connection. Idle connections close
// after idleTimeout. Nothing a client sends can throw out of the io_context.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace asio {
class io_context;
}

namespace kinship::fake {

struct HttpRequest {
  std::string_view method;
  std::string_view target;  // path and query, as sent
  // The headers the fake cares about (empty when absent).
  std::string_view amzTarget;      // X-Amz-Target
  std::string_view contentType;    // Content-Type
  std::string_view authorization;  // Authorization
  // At least HttpServer::kBodyPadding readable bytes follow the body in
  // memory, so simdjson can parse it in place.
  std::string_view body;
};

struct HttpReply {
  int status = 200;
  std::string_view contentType = "application/x-amz-json-1.1";
  std::string body;
  std::chrono::milliseconds delay{0};  // write the answer this much later
  bool drop = false;                   // close without answering
  bool close = false;                  // answer, then close
};

class HttpServer {
 public:
  static constexpr size_t kBodyPadding = 64;
  using Handler = std::function<void(const HttpRequest&, HttpReply&)>;

  struct Limits {
    size_t maxHeadBytes = 64 * 1024;
    size_t maxBodyBytes = 8 * 1024 * 1024;
    std::chrono::milliseconds idleTimeout{std::chrono::minutes(2)};
  };

  HttpServer(asio::io_context& io, Handler handler, Limits limits);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Serves HTTPS (TLS 1.2 or 1.3) with this PEM certificate chain and key
  // instead of plain HTTP; before listen().
  Status enableTls(const std::string& certificateFile, const std::string& keyFile);
  // Binds host:port (port 0: an ephemeral one) and starts accepting.
  Status listen(const std::string& host, uint16_t port);
  uint16_t port() const;
  // Stops accepting; open connections end when the io_context stops.
  void stop();

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

std::string_view reasonPhrase(int status);

}  // namespace kinship::fake
