// AdminServer over real loopback sockets: the server runs on an io_context on
// a background thread, the test talks to it with blocking Asio sockets. Every
// exchange ends when the server closes the connection, so no test sleeps.

#include "daemon/admin_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <asio.hpp>
#include <array>
#include <fmt/format.h>
#include <map>
#include <mutex>
#include <thread>

namespace kinship::daemon {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string raw;
};

HttpReply parseReply(std::string raw) {
  HttpReply reply;
  reply.raw = raw;
  auto headEnd = raw.find("\r\n\r\n");
  if (headEnd == std::string::npos || !raw.starts_with("HTTP/1.1 ")) return reply;
  reply.status = std::stoi(raw.substr(9, 3));
  reply.body = raw.substr(headEnd + 4);
  std::string_view head(raw.data(), headEnd);
  head.remove_prefix(std::min(head.size(), head.find("\r\n") + 2));
  while (!head.empty()) {
    auto eol = std::min(head.find("\r\n"), head.size());
    std::string_view line = head.substr(0, eol);
    head.remove_prefix(std::min(head.size(), eol + 2));
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string name(line.substr(0, colon));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view value = line.substr(colon + 1);
    while (value.starts_with(' ')) value.remove_prefix(1);
    reply.headers[name] = std::string(value);
  }
  return reply;
}

// A blocking client connection to 127.0.0.1:port.
class Client {
 public:
  explicit Client(uint16_t port) : socket_(io_) {
    asio::error_code ec;
    socket_.connect({asio::ip::make_address_v4("127.0.0.1"), port}, ec);
    EXPECT_FALSE(ec) << "connect: " << ec.message();
  }
  void send(std::string_view bytes) {
    asio::error_code ec;
    asio::write(socket_, asio::buffer(bytes), ec);
    EXPECT_FALSE(ec) << "write: " << ec.message();
  }
  void shutdownSend() {
    asio::error_code ec;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  }
  // Everything the server sends until it closes; `ec` is how the read ended.
  std::string readAll(asio::error_code& ec) {
    std::string out;
    asio::read(socket_, asio::dynamic_buffer(out), ec);
    return out;
  }
  // Reads until `marker` has arrived, without waiting for the server to close.
  std::string readUntil(std::string_view marker) {
    std::string out;
    asio::error_code ec;
    asio::read_until(socket_, asio::dynamic_buffer(out), marker, ec);
    EXPECT_FALSE(ec) << "read: " << ec.message();
    return out;
  }
  // For writes to a socket the server may have closed: the outcome is judged
  // by what is read afterwards.
  void sendIgnoringErrors(std::string_view bytes) {
    asio::error_code ignored;
    asio::write(socket_, asio::buffer(bytes), ignored);
  }
  HttpReply readReply() {
    asio::error_code ec;
    std::string raw = readAll(ec);
    EXPECT_EQ(ec, asio::error::eof) << ec.message();
    return parseReply(std::move(raw));
  }

 private:
  asio::io_context io_;
  asio::ip::tcp::socket socket_;
};

// A slow client: it sends a request head that never ends, one byte per
// step(), and connects again whenever the server has closed it.
class Trickler {
 public:
  explicit Trickler(uint16_t port) : port_(port), socket_(io_) { connect(); }

  void step() {
    char byte = 0;
    asio::error_code ec;
    socket_.read_some(asio::buffer(&byte, 1), ec);  // non-blocking: would_block while the server holds us
    if (ec == asio::error::would_block) {
      const char next = sent_ < kHead.size() ? kHead[sent_] : 'a';
      asio::write(socket_, asio::buffer(&next, 1), ec);
      if (!ec) {
        ++sent_;
        return;
      }
    }
    ++reconnects_;
    asio::error_code ignored;
    socket_.close(ignored);
    connect();
  }
  int reconnects() const { return reconnects_; }

 private:
  static constexpr std::string_view kHead = "GET /healthz HTTP/1.1\r\nX-Slow: ";

  void connect() {
    asio::error_code ec;
    socket_.connect({asio::ip::make_address_v4("127.0.0.1"), port_}, ec);
    ASSERT_FALSE(ec) << "connect: " << ec.message();
    socket_.non_blocking(true);
    sent_ = 0;
  }

  uint16_t port_;
  asio::io_context io_;
  asio::ip::tcp::socket socket_;
  std::size_t sent_ = 0;
  int reconnects_ = 0;
};

class AdminServerTest : public ::testing::Test {
 protected:
  void start(AdminServer::Limits limits = AdminServer::Limits{}) {
    server_ = std::make_unique<AdminServer>(
        io_, registry_,
        [this] {
          std::lock_guard lock(mutex_);
          return readiness_;
        },
        limits);
    server_->setHealth([this] {
      std::lock_guard lock(mutex_);
      return health_;
    });
    Status status = server_->listen("127.0.0.1:0");
    ASSERT_TRUE(status.isOk()) << status.message();
    ASSERT_NE(server_->port(), 0);
    thread_ = std::thread([this] { io_.run(); });
  }

  void TearDown() override {
    if (thread_.joinable()) {
      asio::post(io_, [this] { server_->stop(); });
      work_.reset();
      thread_.join();  // run() returns once stop() has let every handler finish
    }
    server_.reset();
  }

  void setHealth(Readiness health) {
    std::lock_guard lock(mutex_);
    health_ = std::move(health);
  }

  void setReadiness(Readiness readiness) {
    std::lock_guard lock(mutex_);
    readiness_ = std::move(readiness);
  }

  HttpReply request(std::string_view raw) {
    Client client(server_->port());
    client.send(raw);
    return client.readReply();
  }

  HttpReply get(std::string_view path, std::string_view method = "GET") {
    return request(fmt::format("{} {} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: test\r\n\r\n", method, path));
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
  std::mutex mutex_;
  Readiness readiness_{true, {}};
  Readiness health_{true, {}};
  std::unique_ptr<AdminServer> server_;
  std::thread thread_;
};

TEST_F(AdminServerTest, MetricsServesTheRegistryInTextFormat) {
  auto& family = prometheus::BuildCounter()
                     .Name("kinship_admin_test_events_total")
                     .Help("Events seen by the admin server test.")
                     .Register(*registry_);
  family.Add({{"source", "unit"}}).Increment(3);
  start();

  HttpReply reply = get("/metrics");
  EXPECT_EQ(reply.status, 200) << reply.raw;
  EXPECT_EQ(reply.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(reply.headers["content-length"], std::to_string(reply.body.size()));
  EXPECT_EQ(reply.headers["connection"], "close");
  EXPECT_THAT(reply.body, HasSubstr("# TYPE kinship_admin_test_events_total counter"));
  EXPECT_THAT(reply.body, HasSubstr("kinship_admin_test_events_total{source=\"unit\"} 3"));
}

TEST_F(AdminServerTest, MetricsReflectsTheCurrentValueOnEachScrape) {
  auto& counter = prometheus::BuildCounter().Name("kinship_admin_test_scrapes").Register(*registry_).Add({});
  start();
  EXPECT_THAT(get("/metrics").body, HasSubstr("kinship_admin_test_scrapes 0"));
  counter.Increment(5);  // the registry is thread-safe; no need to hop threads
  EXPECT_THAT(get("/metrics").body, HasSubstr("kinship_admin_test_scrapes 5"));
}

TEST_F(AdminServerTest, HeadMetricsSendsHeadersWithoutBody) {
  prometheus::BuildCounter().Name("kinship_admin_test_head").Register(*registry_).Add({}).Increment();
  start();
  std::size_t getLength = get("/metrics").body.size();

  HttpReply reply = get("/metrics", "HEAD");
  EXPECT_EQ(reply.status, 200) << reply.raw;
  EXPECT_EQ(reply.body, "");
  EXPECT_EQ(reply.headers["content-length"], std::to_string(getLength));
  EXPECT_EQ(reply.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
}

TEST_F(AdminServerTest, HealthzIsOk) {
  start();
  HttpReply reply = get("/healthz");
  EXPECT_EQ(reply.status, 200) << reply.raw;
  EXPECT_EQ(reply.body, "ok\n");
  EXPECT_EQ(reply.headers["cache-control"], "no-store");
}

TEST_F(AdminServerTest, HealthzFailsWhileTheHealthCallbackNamesAStuckThread) {
  start();
  setHealth({false, "pipeline app: sink thread has not turned for 31.0 s"});
  HttpReply stuck = get("/healthz");
  EXPECT_EQ(stuck.status, 503) << stuck.raw;
  EXPECT_EQ(stuck.body, "unhealthy: pipeline app: sink thread has not turned for 31.0 s\n");
  EXPECT_EQ(get("/readyz").status, 200) << "readiness is a separate question";

  setHealth({true, {}});
  EXPECT_EQ(get("/healthz").status, 200);
}

TEST_F(AdminServerTest, QueryStringIsIgnoredForRouting) {
  start();
  EXPECT_EQ(get("/healthz?verbose=1").status, 200);
}

TEST_F(AdminServerTest, ReadyzFollowsTheReadinessCallback) {
  start();
  HttpReply ready = get("/readyz");
  EXPECT_EQ(ready.status, 200) << ready.raw;
  EXPECT_EQ(ready.body, "ready\n");

  setReadiness({false, "kinesis stream not reachable"});
  HttpReply notReady = get("/readyz");
  EXPECT_EQ(notReady.status, 503) << notReady.raw;
  EXPECT_EQ(notReady.body, "not ready: kinesis stream not reachable\n");

  setReadiness({true, {}});
  EXPECT_EQ(get("/readyz").status, 200);
}

TEST_F(AdminServerTest, UnknownPathIs404) {
  start();
  EXPECT_EQ(get("/").status, 404);
  EXPECT_EQ(get("/metricsx").status, 404);
  EXPECT_EQ(get("/nope", "HEAD").status, 404);
}

TEST_F(AdminServerTest, OtherMethodsAre405WithAllow) {
  start();
  HttpReply reply = request("POST /metrics HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi");
  EXPECT_EQ(reply.status, 405) << reply.raw;
  EXPECT_EQ(reply.headers["allow"], "GET, HEAD");
  EXPECT_EQ(get("/healthz", "DELETE").status, 405);
}

TEST_F(AdminServerTest, HttpOneZeroAndBareLineFeedsAreAccepted) {
  start();
  EXPECT_EQ(request("GET /healthz HTTP/1.0\r\n\r\n").status, 200);
  EXPECT_EQ(request("GET /healthz HTTP/1.1\nHost: x\n\n").status, 200);
}

TEST_F(AdminServerTest, GarbageIs400AndTheServerKeepsServing) {
  start();
  using namespace std::string_literals;
  HttpReply binary = request("\x00\x01\x02\xff\xfe\x80 garbage\r\n\r\n"s);
  EXPECT_EQ(binary.status, 400) << binary.raw;
  EXPECT_EQ(get("/healthz").status, 200);

  EXPECT_EQ(request("GET /healthz\r\n\r\n").status, 400);                 // no version
  EXPECT_EQ(request("GET /healthz HTTP/2.0\r\n\r\n").status, 400);        // unsupported version
  EXPECT_EQ(request("GET healthz HTTP/1.1\r\n\r\n").status, 400);         // not origin-form
  EXPECT_EQ(request("GET  /healthz HTTP/1.1\r\n\r\n").status, 400);       // double space
  EXPECT_EQ(request("GET /healthz HTTP/1.1\r\nno colon\r\n\r\n").status, 400);
  EXPECT_EQ(request("GET /healthz HTTP/1.1\r\n folded: x\r\n\r\n").status, 400);
  EXPECT_EQ(request("\r\n\r\n").status, 400);
  EXPECT_EQ(get("/healthz").status, 200);
}

TEST_F(AdminServerTest, MalformedRequestLineIsRejectedBeforeTheHeadEnds) {
  start();
  Client client(server_->port());
  client.send("\x01\x02\x03\r\n");  // the head never ends, but the line is already wrong
  HttpReply reply = client.readReply();
  EXPECT_EQ(reply.status, 400) << reply.raw;
}

TEST_F(AdminServerTest, HalfClosedIncompleteHeadIs400) {
  start();
  Client client(server_->port());
  client.send("binary junk with no line end \x7f\x01");
  client.shutdownSend();
  HttpReply reply = client.readReply();
  EXPECT_EQ(reply.status, 400) << reply.raw;
}

TEST_F(AdminServerTest, OversizedHeadIs431) {
  start();
  std::string huge = "GET /metrics HTTP/1.1\r\nX-Filler: " + std::string(3 * AdminServer::kMaxHeadBytes, 'a');
  HttpReply reply = request(huge);
  EXPECT_EQ(reply.status, 431) << reply.raw.substr(0, 200);

  // No line end at all, in bulk.
  HttpReply noLines = request(std::string(AdminServer::kMaxHeadBytes + 1, 'x'));
  EXPECT_EQ(noLines.status, 431) << noLines.raw.substr(0, 200);

  EXPECT_EQ(get("/healthz").status, 200);
}

TEST_F(AdminServerTest, HeadJustUnderTheCapIsServed) {
  start();
  std::string prefix = "GET /healthz HTTP/1.1\r\nX-Filler: ";
  std::string suffix = "\r\n\r\n";
  std::string head = prefix + std::string(AdminServer::kMaxHeadBytes - prefix.size() - suffix.size(), 'a') + suffix;
  ASSERT_EQ(head.size(), AdminServer::kMaxHeadBytes);
  EXPECT_EQ(request(head).status, 200);
}

TEST_F(AdminServerTest, IdleConnectionIsClosedAfterTheHeadTimeout) {
  AdminServer::Limits limits;
  limits.headTimeout = std::chrono::milliseconds(50);
  start(limits);
  Client client(server_->port());
  client.send("GET /healthz HTTP/1.1\r\n");  // a head that never completes
  asio::error_code ec;
  std::string got = client.readAll(ec);
  EXPECT_EQ(got, "");
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
}

// Regression (issue 12): 64 slots held for 10 s each, and newcomers closed
// when full, let 70 clients trickling a byte every 3 s fail 15 of 20 probes.
// Each round below lets every slow client send a byte (or reconnect when it
// was closed), then sends one probe; every probe must be answered.
TEST_F(AdminServerTest, SlowClientsBeyondTheCapDoNotLockOutProbes) {
  AdminServer::Limits limits;
  limits.maxConnections = 8;
  start(limits);
  std::vector<std::unique_ptr<Trickler>> slow;
  for (int i = 0; i < 20; ++i) slow.push_back(std::make_unique<Trickler>(server_->port()));

  constexpr std::array<std::string_view, 3> kPaths = {"/healthz", "/readyz", "/metrics"};
  constexpr int kRounds = 30;
  int answered = 0;
  for (int round = 0; round < kRounds; ++round) {
    for (auto& client : slow) client->step();
    std::string_view path = kPaths[round % kPaths.size()];
    HttpReply reply = get(path);
    EXPECT_EQ(reply.status, 200) << "round " << round << ", " << path << ": " << reply.raw;
    answered += reply.status == 200 ? 1 : 0;
  }
  EXPECT_EQ(answered, kRounds);
  // The slow clients did fill the server: some were closed to make room.
  int reconnects = 0;
  for (const auto& client : slow) reconnects += client->reconnects();
  EXPECT_GT(reconnects, 0);
}

TEST_F(AdminServerTest, ANewcomerOverTheCapClosesTheOldestUnansweredConnection) {
  AdminServer::Limits limits;
  limits.maxConnections = 2;
  limits.headTimeout = std::chrono::minutes(1);  // only making room can close them
  start(limits);
  // Accepts are FIFO: the first two are registered before the third.
  Client first(server_->port());
  Client second(server_->port());
  Client third(server_->port());
  third.send("GET /healthz HTTP/1.1\r\n\r\n");
  EXPECT_EQ(third.readReply().status, 200);

  // The first made room: whatever it sends now is never answered.
  first.sendIgnoringErrors("GET /healthz HTTP/1.1\r\n\r\n");
  asio::error_code ec;
  EXPECT_EQ(first.readAll(ec), "");
  // The second is still served.
  second.send("GET /healthz HTTP/1.1\r\n\r\n");
  EXPECT_EQ(second.readReply().status, 200);
}

TEST_F(AdminServerTest, AnAnsweredConnectionIsKeptWhileAnUnansweredOneCanMakeRoom) {
  AdminServer::Limits limits;
  limits.maxConnections = 2;
  limits.headTimeout = std::chrono::minutes(1);
  limits.drainTimeout = std::chrono::minutes(1);  // the answered one stays open while we look
  start(limits);
  Client answered(server_->port());
  answered.send("GET /healthz HTTP/1.1\r\n\r\n");
  EXPECT_THAT(answered.readUntil("ok\n"), StartsWith("HTTP/1.1 200"));  // answered, not closed by us
  Client reading(server_->port());
  Client newcomer(server_->port());
  newcomer.send("GET /healthz HTTP/1.1\r\n\r\n");
  EXPECT_EQ(newcomer.readReply().status, 200);

  // The one still reading its head made room, not the older answered one.
  reading.sendIgnoringErrors("GET /healthz HTTP/1.1\r\n\r\n");
  asio::error_code ec;
  EXPECT_EQ(reading.readAll(ec), "");
}

TEST_F(AdminServerTest, StopClosesOpenConnections) {
  start();
  Client client(server_->port());
  asio::post(io_, [this] { server_->stop(); });
  asio::error_code ec;
  EXPECT_EQ(client.readAll(ec), "");
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
}

TEST_F(AdminServerTest, ListenOnABusyPortNamesTheAddress) {
  start();
  asio::io_context other;
  AdminServer second(other, registry_, [] { return Readiness{true, {}}; });
  std::string address = fmt::format("127.0.0.1:{}", server_->port());
  Status status = second.listen(address);
  ASSERT_FALSE(status.isOk());
  EXPECT_THAT(status.message(), HasSubstr(address));
  EXPECT_THAT(status.message(), HasSubstr(std::error_code(EADDRINUSE, std::generic_category()).message()));
  EXPECT_EQ(second.port(), 0);
}

TEST_F(AdminServerTest, ListenTwiceIsAnError) {
  start();
  asio::io_context other;
  AdminServer server(other, registry_, [] { return Readiness{true, {}}; });
  ASSERT_TRUE(server.listen("127.0.0.1:0").isOk());
  Status again = server.listen("127.0.0.1:0");
  EXPECT_FALSE(again.isOk());
  EXPECT_THAT(again.message(), HasSubstr("already listening"));
}

TEST(AdminServerListenTest, BadAddressesAreRejected) {
  asio::io_context io;
  AdminServer server(io, std::make_shared<prometheus::Registry>(), [] { return Readiness{true, {}}; });
  for (std::string_view bad : {"127.0.0.1", "127.0.0.1:99999", ":9464", "[::1:9464", "[nonsense]:9464"}) {
    Status status = server.listen(bad);
    EXPECT_FALSE(status.isOk()) << bad;
    EXPECT_EQ(status.code(), Status::Code::kInvalidArgument) << bad;
    EXPECT_THAT(status.message(), HasSubstr(bad)) << status.message();
  }
  EXPECT_EQ(server.port(), 0);
}

TEST(AdminServerListenTest, ResolvesLocalhost) {
  asio::io_context io;
  AdminServer server(io, std::make_shared<prometheus::Registry>(), [] { return Readiness{true, {}}; });
  Status status = server.listen("localhost:0");
  ASSERT_TRUE(status.isOk()) << status.message();
  EXPECT_NE(server.port(), 0);
}

TEST(AdminServerListenTest, ListensOnIpv6Loopback) {
  asio::io_context io;
  AdminServer server(io, std::make_shared<prometheus::Registry>(), [] { return Readiness{true, {}}; });
  Status status = server.listen("[::1]:0");
  if (!status.isOk() && status.message().find(std::error_code(EADDRNOTAVAIL, std::generic_category()).message()) !=
                            std::string::npos) {
    GTEST_SKIP() << "no IPv6 loopback here: " << status.message();
  }
  ASSERT_TRUE(status.isOk()) << status.message();
  EXPECT_NE(server.port(), 0);
}

}  // namespace
}  // namespace kinship::daemon
