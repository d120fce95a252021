// Tests of kinship-datagram-sender's parts: the command line, the datagram
// format (exact size, sequence numbers), and exact counting against real
// sockets on 127.0.0.1 and in a temporary directory.

#include "tests/support/datagram_sender/datagram_sender.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/datagram_sender/sender_options.h"

namespace kinship::sender {
namespace {

using ::testing::HasSubstr;

Result<SenderOptions> parse(std::vector<const char*> args) { return parseSenderArgs(args); }

// The sequence number of a datagram that formatDatagram wrote.
uint64_t seqOf(const std::string& datagram) {
  EXPECT_TRUE(datagram.starts_with(R"({"seq":)")) << datagram;
  return std::stoull(datagram.substr(7));
}

// A bound receiving socket; the destructor closes it.
struct Receiver {
  int fd = -1;
  ~Receiver() {
    if (fd >= 0) ::close(fd);
  }
  // Receives until `count` datagrams arrived or nothing comes for a second.
  std::vector<std::string> receive(uint64_t count) {
    timeval timeout{.tv_sec = 1, .tv_usec = 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    std::vector<std::string> out;
    std::vector<char> buffer(70000);
    while (out.size() < count) {
      ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
      if (n < 0) break;
      out.emplace_back(buffer.data(), static_cast<size_t>(n));
    }
    return out;
  }
};

TEST(SenderOptions, Defaults) {
  auto o = parse({"--udp", "127.0.0.1:5514", "--count", "10"});
  ASSERT_TRUE(o) << o.error().message();
  EXPECT_EQ(o->kind, SenderOptions::Kind::kUdp);
  EXPECT_EQ(o->host, "127.0.0.1");
  EXPECT_EQ(o->port, 5514);
  EXPECT_EQ(o->count, 10u);
  EXPECT_EQ(o->rate, 0);
  EXPECT_EQ(o->size, 200u);
  EXPECT_EQ(o->burst, 64);
  EXPECT_EQ(o->tag, "udp");
  EXPECT_EQ(o->targetText(), "udp:127.0.0.1:5514");
}

TEST(SenderOptions, AllOptions) {
  auto o = parse({"--unix", "/tmp/x.sock", "--count", "5", "--rate", "100000", "--size", "64", "--tag", "u1",
                  "--first-seq", "7", "--newline"});
  ASSERT_TRUE(o) << o.error().message();
  EXPECT_EQ(o->kind, SenderOptions::Kind::kUnix);
  EXPECT_EQ(o->path, "/tmp/x.sock");
  EXPECT_EQ(o->rate, 100000);
  EXPECT_EQ(o->burst, 100);  // one millisecond's worth
  EXPECT_EQ(o->size, 64u);
  EXPECT_EQ(o->tag, "u1");
  EXPECT_EQ(o->firstSeq, 7u);
  EXPECT_TRUE(o->newline);
  EXPECT_EQ(o->targetText(), "unix:/tmp/x.sock");

  auto v6 = parse({"--udp", "[::1]:9", "--count", "1", "--burst", "1024"});
  ASSERT_TRUE(v6) << v6.error().message();
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->burst, 1024);
  EXPECT_EQ(v6->targetText(), "udp:[::1]:9");
  EXPECT_TRUE(parse({"--help"})->help);
}

TEST(SenderOptions, Errors) {
  auto message = [](std::vector<const char*> args) {
    auto o = parseSenderArgs(args);
    return o ? std::string("(no error)") : o.error().message();
  };
  EXPECT_THAT(message({"--count", "1"}), HasSubstr("missing target"));
  EXPECT_THAT(message({"--udp", "127.0.0.1:1"}), HasSubstr("missing --count"));
  EXPECT_THAT(message({"--udp", "127.0.0.1:1", "--count", "0"}), HasSubstr("at least 1"));
  EXPECT_THAT(message({"--udp", "127.0.0.1:0", "--count", "1"}), HasSubstr("port must not be 0"));
  EXPECT_THAT(message({"--udp", "::1:5", "--count", "1"}), HasSubstr("brackets"));
  EXPECT_THAT(message({"--udp", "127.0.0.1:1", "--unix", "/x", "--count", "1"}), HasSubstr("one target"));
  EXPECT_THAT(message({"--udp", "127.0.0.1:1", "--count", "1", "--burst", "2000"}), HasSubstr("--burst"));
  EXPECT_THAT(message({"--udp", "127.0.0.1:1", "--count", "1", "--rate", "-3"}), HasSubstr("--rate"));
  EXPECT_THAT(message({"--udp", "127.0.0.1:1", "--count", "x"}), HasSubstr("\"x\""));
  EXPECT_THAT(message({"--udp", "127.0.0.1:1", "--count", "1", "--size", "10"}), HasSubstr("too small"));
  EXPECT_THAT(message({"--udp", "127.0.0.1:1", "--count", "1", "--tag", "a\"b"}), HasSubstr("--tag"));
  EXPECT_THAT(message({"--udp", "127.0.0.1:1", "--count", "1", "--bogus"}), HasSubstr("--bogus"));
  EXPECT_THAT(message({"--udp", "127.0.0.1:1", "--count"}), HasSubstr("needs a value"));
}

TEST(FormatDatagram, ExactSizeAndJson) {
  std::vector<char> buffer(300);
  size_t n = formatDatagram(42, "udp", 60, false, buffer.data());
  std::string d(buffer.data(), n);
  EXPECT_EQ(d.size(), 60u);
  EXPECT_EQ(d, R"({"seq":42,"src":"udp","pad":")" + std::string(60 - 31, 'x') + R"("})");

  n = formatDatagram(7, "unix", minimumDatagramSize(7, "unix", true), true, buffer.data());
  EXPECT_EQ(std::string(buffer.data(), n), "{\"seq\":7,\"src\":\"unix\",\"pad\":\"\"}\n");
}

TEST(DatagramSender, UdpCountsExactlyWhatItSentInOrder) {
  Receiver receiver;
  receiver.fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(receiver.fd, 0);
  int buffer = 4 * 1024 * 1024;  // room for every datagram: nothing is dropped before we read
  ::setsockopt(receiver.fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof(buffer));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(receiver.fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  socklen_t length = sizeof(address);
  ASSERT_EQ(::getsockname(receiver.fd, reinterpret_cast<sockaddr*>(&address), &length), 0);

  const std::string target = "127.0.0.1:" + std::to_string(ntohs(address.sin_port));
  auto options = parse({"--udp", target.c_str(), "--count", "1000", "--size", "100", "--first-seq", "5000",
                        "--burst", "32"});
  ASSERT_TRUE(options) << options.error().message();
  DatagramSender sender(*options);
  ASSERT_TRUE(sender.connect());
  SendSummary summary = sender.run();
  EXPECT_EQ(summary.error, "");
  EXPECT_EQ(summary.sent, 1000u);
  EXPECT_EQ(summary.bytes, 100000u);

  auto received = receiver.receive(1000);
  ASSERT_EQ(received.size(), 1000u);
  for (size_t i = 0; i < received.size(); ++i) {
    EXPECT_EQ(received[i].size(), 100u);
    EXPECT_EQ(seqOf(received[i]), 5000 + i);
  }
  EXPECT_THAT(summary.toJson(*options), HasSubstr(R"("sent":1000,)"));
}

TEST(DatagramSender, UnixWaitsForTheReceiverInsteadOfLosingDatagrams) {
  const auto dir = std::filesystem::temp_directory_path() / ("kinship-sender-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "s.sock").string();
  Receiver receiver;
  receiver.fd = ::socket(AF_UNIX, SOCK_DGRAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
  ASSERT_EQ(::bind(receiver.fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);

  // Far more than a Unix receiver's queue holds (net.unix.max_dgram_qlen),
  // sent without pause: the sender must wait for room (EAGAIN) and retry.
  constexpr uint64_t kCount = 20000;
  auto options = parse({"--unix", path.c_str(), "--count", "20000", "--size", "64"});
  ASSERT_TRUE(options) << options.error().message();
  DatagramSender sender(*options);
  ASSERT_TRUE(sender.connect());
  std::vector<std::string> received;
  std::thread reader([&] { received = receiver.receive(kCount); });
  SendSummary summary = sender.run();
  reader.join();
  std::filesystem::remove_all(dir);

  EXPECT_EQ(summary.error, "");
  EXPECT_EQ(summary.sent, kCount);
  EXPECT_GT(summary.eagainWaits, 0u) << "the receiver's queue never filled: the retry path went untested";
  ASSERT_EQ(received.size(), kCount);
  for (size_t i = 0; i < received.size(); ++i) ASSERT_EQ(seqOf(received[i]), i);
}

TEST(DatagramSender, ReportsWhereItCannotConnect) {
  auto options = parse({"--unix", "/nonexistent-dir/x.sock", "--count", "1"});
  ASSERT_TRUE(options);
  DatagramSender sender(*options);
  Status s = sender.connect();
  EXPECT_FALSE(s);
  EXPECT_THAT(s.message(), HasSubstr("/nonexistent-dir/x.sock"));
}

}  // namespace
}  // namespace kinship::sender
