#include "tests/support/fake_kinesis/test_client.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

#include "tests/support/fake_kinesis/codec.h"

namespace kinship::fake {

TestClient::TestClient(uint16_t port, std::chrono::milliseconds timeout) : port_(port), timeout_(timeout) {}

TestClient::~TestClient() { disconnect(); }

void TestClient::disconnect() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  buffer_.clear();
}

Status TestClient::connect() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::ioError(fmt::format("socket: {}", std::strerror(errno)));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port_);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    int error = errno;
    ::close(fd);
    return Status::ioError(fmt::format("connect: {}", std::strerror(error)));
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  fd_ = fd;
  ++connections_;
  buffer_.clear();
  return Status::ok();
}

Status TestClient::sendAll(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::ioError(fmt::format("send: {}", std::strerror(errno)));
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::ok();
}

Status TestClient::fill() {
  pollfd p{fd_, POLLIN, 0};
  int ready = ::poll(&p, 1, static_cast<int>(timeout_.count()));
  if (ready == 0) return Status::unavailable("timed out waiting for the answer");
  if (ready < 0) return Status::ioError(fmt::format("poll: {}", std::strerror(errno)));
  char chunk[64 * 1024];
  ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
  if (n == 0) return Status::unavailable("connection closed without an answer");
  if (n < 0) return Status::unavailable(fmt::format("recv: {}", std::strerror(errno)));
  buffer_.append(chunk, static_cast<size_t>(n));
  return Status::ok();
}

Result<ClientResponse> TestClient::receive(bool interim) {
  if (fd_ < 0) return fail(Status::unavailable("not connected"));
  for (;;) {
    size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (auto status = fill(); !status) {
        disconnect();
        return fail(status);
      }
    }
    ClientResponse response;
    std::string_view head(buffer_.data(), end + 2);
    auto eol = head.find("\r\n");
    std::string_view statusLine = head.substr(0, eol);
    if (!statusLine.starts_with("HTTP/1.") || statusLine.size() < 12) {
      disconnect();
      return fail(Status::corruption(fmt::format("bad status line: {}", statusLine)));
    }
    response.status = std::atoi(std::string(statusLine.substr(9, 3)).c_str());
    head.remove_prefix(eol + 2);
    while (!head.empty()) {
      eol = head.find("\r\n");
      std::string_view line = head.substr(0, eol);
      head.remove_prefix(eol + 2);
      auto colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      std::string name(line.substr(0, colon));
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      response.headers[name] = std::string(value);
    }
    size_t length = 0;
    if (auto it = response.headers.find("content-length"); it != response.headers.end()) {
      length = std::strtoull(it->second.c_str(), nullptr, 10);
    }
    size_t bodyStart = end + 4;
    if (response.status / 100 == 1 && !interim) {  // interim answer: the real one follows
      buffer_.erase(0, bodyStart);
      continue;
    }
    while (buffer_.size() < bodyStart + length) {
      if (auto status = fill(); !status) {
        disconnect();
        return fail(status);
      }
    }
    response.body = buffer_.substr(bodyStart, length);
    buffer_.erase(0, bodyStart + length);
    if (auto it = response.headers.find("connection"); it != response.headers.end() && it->second == "close") {
      disconnect();
    }
    return response;
  }
}

Result<ClientResponse> TestClient::request(std::string_view method, std::string_view target, std::string_view body,
                                           const std::vector<std::pair<std::string, std::string>>& headers) {
  out_.clear();
  out_ += fmt::format("{} {} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n", method, target, port_);
  for (const auto& [name, value] : headers) out_ += fmt::format("{}: {}\r\n", name, value);
  out_ += fmt::format("Content-Length: {}\r\n\r\n", body.size());
  out_ += body;
  return raw(out_);
}

Status TestClient::send(std::string_view bytes) {
  if (fd_ < 0) {
    if (auto status = connect(); !status) return status;
  }
  if (auto status = sendAll(bytes); !status) {
    disconnect();
    return status;
  }
  return Status::ok();
}

Result<ClientResponse> TestClient::raw(std::string_view bytes) {
  if (auto status = send(bytes); !status) return fail(status);
  return receive();
}

Result<ClientResponse> TestClient::call(std::string_view operation, std::string_view body) {
  return request("POST", "/", body,
                 {{"Content-Type", "application/x-amz-json-1.1"},
                  {"X-Amz-Target", fmt::format("Kinesis_20131202.{}", operation)},
                  {"X-Amz-Date", "20240101T000000Z"},
                  {"Authorization",
                   "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/kinesis/aws4_request, "
                   "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=0000"}});
}

std::string encodePutRecords(std::string_view stream, const std::vector<TestRecord>& records) {
  std::string body = "{\"StreamName\":";
  appendJsonString(body, stream);
  body += ",\"Records\":[";
  for (size_t i = 0; i < records.size(); ++i) {
    if (i != 0) body += ',';
    body += "{\"Data\":\"";
    base64Append(body, records[i].data);
    body += "\",\"PartitionKey\":";
    appendJsonString(body, records[i].partitionKey);
    if (records[i].explicitHashKey) {
      body += ",\"ExplicitHashKey\":";
      appendJsonString(body, *records[i].explicitHashKey);
    }
    body += '}';
  }
  body += "]}";
  return body;
}

std::string encodePutRecord(std::string_view stream, const TestRecord& record) {
  std::string body = "{\"StreamName\":";
  appendJsonString(body, stream);
  body += ",\"Data\":\"";
  base64Append(body, record.data);
  body += "\",\"PartitionKey\":";
  appendJsonString(body, record.partitionKey);
  if (record.explicitHashKey) {
    body += ",\"ExplicitHashKey\":";
    appendJsonString(body, *record.explicitHashKey);
  }
  body += '}';
  return body;
}

}  // namespace kinship::fake
