#include "aws/http_fetch.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>

#include "tests/support/fake_http_server.h"

namespace kinship::aws {
namespace {

using namespace std::chrono_literals;
using kinship::testing::FakeHttpServer;
using kinship::testing::HttpReply;
using kinship::testing::HttpRequest;

// A socket on 127.0.0.1 bound to an ephemeral port; listening or not.
class LoopbackSocket {
 public:
  explicit LoopbackSocket(bool listening) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    if (listening) {
      EXPECT_EQ(::listen(fd_, 8), 0);
    }
  }
  ~LoopbackSocket() { close(); }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int fd() const { return fd_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/"; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

// Answers one connection with exactly `bytes` (the whole HTTP answer, as
// written), then closes it: for answers FakeHttpServer cannot give (no
// Content-Length, a Location header).
class RawOneShotServer {
 public:
  explicit RawOneShotServer(std::string bytes) : socket_(true), bytes_(std::move(bytes)) {
    thread_ = std::thread([this] {
      int fd = ::accept4(socket_.fd(), nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      std::string head;
      char c;
      while (head.find("\r\n\r\n") == std::string::npos && ::read(fd, &c, 1) == 1) head += c;
      size_t written = 0;
      while (written < bytes_.size()) {
        ssize_t n = ::write(fd, bytes_.data() + written, bytes_.size() - written);
        if (n <= 0) break;
        written += static_cast<size_t>(n);
      }
      ::shutdown(fd, SHUT_WR);
      while (::read(fd, &c, 1) == 1) {
      }
      ::close(fd);
    });
  }
  ~RawOneShotServer() {
    ::shutdown(socket_.fd(), SHUT_RDWR);
    thread_.join();
  }
  std::string url() const { return socket_.url(); }

 private:
  LoopbackSocket socket_;
  std::string bytes_;
  std::thread thread_;
};

TEST(HttpFetch, GetIsAnswered) {
  HttpRequest seen;
  FakeHttpServer server([&](const HttpRequest& r) {
    seen = r;
    return HttpReply{.status = 200, .body = "role-name", .contentType = "text/plain", .closeConnection = false};
  });
  auto response = httpFetch({.method = "GET",
                             .url = server.url() + "/latest/meta-data/iam/security-credentials/",
                             .headers = {{"X-aws-ec2-metadata-token", "tok"}}});
  ASSERT_TRUE(response) << response.error().message();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "role-name");
  EXPECT_EQ(seen.method, "GET");
  EXPECT_EQ(seen.target, "/latest/meta-data/iam/security-credentials/");
  EXPECT_EQ(seen.headers["x-aws-ec2-metadata-token"], "tok");
}

TEST(HttpFetch, PostSendsBodyAndOnlyTheCallersContentType) {
  HttpRequest seen;
  FakeHttpServer server([&](const HttpRequest& r) {
    seen = r;
    return HttpReply{.status = 200, .body = "<ok/>", .contentType = "text/xml", .closeConnection = false};
  });
  auto response = httpFetch({.method = "POST",
                             .url = server.url() + "/",
                             .headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}},
                             .body = "Action=AssumeRole&Version=2011-06-15"});
  ASSERT_TRUE(response) << response.error().message();
  EXPECT_EQ(response->body, "<ok/>");
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.body, "Action=AssumeRole&Version=2011-06-15");
  EXPECT_EQ(seen.headers["content-type"], "application/x-www-form-urlencoded; charset=utf-8");
  EXPECT_FALSE(seen.headers.contains("expect"));
}

TEST(HttpFetch, PutWithoutBodyAddsNoContentType) {
  HttpRequest seen;
  FakeHttpServer server([&](const HttpRequest& r) {
    seen = r;
    return HttpReply{.status = 200, .body = "session", .contentType = "text/plain", .closeConnection = false};
  });
  auto response = httpFetch({.method = "PUT",
                             .url = server.url() + "/latest/api/token",
                             .headers = {{"X-aws-ec2-metadata-token-ttl-seconds", "21600"}}});
  ASSERT_TRUE(response) << response.error().message();
  EXPECT_EQ(response->body, "session");
  EXPECT_EQ(seen.method, "PUT");
  EXPECT_EQ(seen.body, "");
  EXPECT_FALSE(seen.headers.contains("content-type"));
  EXPECT_EQ(seen.headers["x-aws-ec2-metadata-token-ttl-seconds"], "21600");
}

TEST(HttpFetch, UnsupportedMethodIsRefused) {
  auto response = httpFetch({.method = "DELETE", .url = "http://127.0.0.1:1/"});
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code(), Status::Code::kInvalidArgument);
}

TEST(HttpFetch, ServerErrorStatusIsAResponse) {
  FakeHttpServer server([](const HttpRequest&) {
    return HttpReply{.status = 500, .body = "oops", .contentType = "text/plain", .closeConnection = false};
  });
  auto response = httpFetch({.method = "GET", .url = server.url() + "/"});
  ASSERT_TRUE(response) << response.error().message();
  EXPECT_EQ(response->status, 500);
  EXPECT_EQ(response->body, "oops");
}

TEST(HttpFetch, AnswerOverTheLimitIsRefused) {
  FakeHttpServer server([](const HttpRequest&) {
    return HttpReply{
        .status = 200, .body = std::string(2000, 'x'), .contentType = "text/plain", .closeConnection = false};
  });
  auto response = httpFetch({.method = "GET", .url = server.url() + "/", .maxResponseBytes = 1000});
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code(), Status::Code::kUnavailable);
  EXPECT_NE(response.error().message().find("larger than 1000 bytes"), std::string::npos) << response.error().message();
  EXPECT_EQ(response.error().message().find("xxxx"), std::string::npos);
}

// Without a Content-Length only the write callback can stop the answer.
TEST(HttpFetch, AnswerOverTheLimitWithoutLengthIsRefused) {
  RawOneShotServer server("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + std::string(5000, 'x'));
  auto response = httpFetch({.method = "GET", .url = server.url(), .maxResponseBytes = 1000});
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code(), Status::Code::kUnavailable);
  EXPECT_NE(response.error().message().find("larger than 1000 bytes"), std::string::npos) << response.error().message();
}

TEST(HttpFetch, AnswerExactlyAtTheLimitIsKept) {
  RawOneShotServer server("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + std::string(1000, 'x'));
  auto response = httpFetch({.method = "GET", .url = server.url(), .maxResponseBytes = 1000});
  ASSERT_TRUE(response) << response.error().message();
  EXPECT_EQ(response->body.size(), 1000u);
}

TEST(HttpFetch, RedirectsAreNotFollowed) {
  std::atomic<int> hits{0};
  FakeHttpServer target([&](const HttpRequest&) {
    ++hits;
    return HttpReply{.status = 200, .body = "elsewhere", .contentType = "text/plain", .closeConnection = false};
  });
  RawOneShotServer server("HTTP/1.1 302 Found\r\nLocation: " + target.url() +
                          "/\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  auto response = httpFetch({.method = "GET", .url = server.url()});
  ASSERT_TRUE(response) << response.error().message();
  EXPECT_EQ(response->status, 302);
  EXPECT_EQ(hits.load(), 0);
}

TEST(HttpFetch, ServerThatNeverAnswersTimesOut) {
  // Listening but never accepting: the kernel completes the connection, the
  // request is sent, and no answer ever comes.
  LoopbackSocket silent(true);
  auto response = httpFetch({.method = "GET",
                             .url = silent.url(),
                             .headers = {{"X-aws-ec2-metadata-token", "secret-token-value"}},
                             .connectTimeout = 200ms,
                             .timeout = 300ms});
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code(), Status::Code::kUnavailable);
  const std::string& message = response.error().message();
  EXPECT_NE(message.find("timed out"), std::string::npos) << message;
  EXPECT_NE(message.find(silent.url()), std::string::npos) << message;
  EXPECT_EQ(message.find("secret-token-value"), std::string::npos) << message;
}

TEST(HttpFetch, ClosedPortIsAClearError) {
  LoopbackSocket closed(false);
  std::string url = closed.url();
  closed.close();
  auto response = httpFetch({.method = "POST",
                             .url = url,
                             .headers = {{"Authorization", "secret-authorization"}},
                             .body = "WebIdentityToken=secret-body"});
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code(), Status::Code::kUnavailable);
  const std::string& message = response.error().message();
  EXPECT_NE(message.find("connection refused"), std::string::npos) << message;
  EXPECT_NE(message.find(url), std::string::npos) << message;
  EXPECT_EQ(message.find("secret"), std::string::npos) << message;
}

}  // namespace
}  // namespace kinship::aws
