#include "inputs/udp/udp_input.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <yaml-cpp/yaml.h>

#include <asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "inputs/socket_address.h"
#include "inputs/udp/udp_input_config.h"
#include "pipeline/pipeline.h"
#include "tests/support/metrics_reader.h"

using namespace kinship::inputs;
using kinship::config::ConfigError;
using kinship::config::EnvLookup;
using kinship::config::Section;
using kinship::pipeline::KeyTemplate;
using kinship::pipeline::Pipeline;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

namespace {

const EnvLookup kNoEnv = [](std::string_view) -> std::optional<std::string> { return std::nullopt; };

UdpInputConfig configOf(const std::string& yaml) {
  Section s = Section::validate(YAML::Load(yaml), udpInputSchema(), "kinship.yaml", "pipelines.app.inputs.0", kNoEnv);
  return udpInputConfigFrom(s);
}

std::string configErrorOf(const std::string& yaml) {
  try {
    configOf(yaml);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "<no error>";
}

// Sends datagrams to the input from a plain socket.
class Sender {
 public:
  Sender(int family, uint16_t port) {
    fd_ = ::socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    EXPECT_GE(fd_, 0);
    std::memset(&address_, 0, sizeof(address_));
    if (family == AF_INET) {
      auto* a = reinterpret_cast<sockaddr_in*>(&address_);
      a->sin_family = AF_INET;
      a->sin_port = htons(port);
      a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      length_ = sizeof(sockaddr_in);
    } else {
      auto* a = reinterpret_cast<sockaddr_in6*>(&address_);
      a->sin6_family = AF_INET6;
      a->sin6_port = htons(port);
      a->sin6_addr = in6addr_loopback;
      length_ = sizeof(sockaddr_in6);
    }
  }
  ~Sender() { ::close(fd_); }

  // The port the kernel bound the sender to (after its first send).
  uint16_t localPort() const {
    sockaddr_storage local{};
    socklen_t length = sizeof(local);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &length);
    return ntohs(local.ss_family == AF_INET ? reinterpret_cast<const sockaddr_in&>(local).sin_port
                                            : reinterpret_cast<const sockaddr_in6&>(local).sin6_port);
  }

  void send(std::string_view datagram) {
    ssize_t n =
        ::sendto(fd_, datagram.data(), datagram.size(), 0, reinterpret_cast<const sockaddr*>(&address_), length_);
    ASSERT_EQ(n, static_cast<ssize_t>(datagram.size())) << std::strerror(errno);
  }

 private:
  int fd_ = -1;
  sockaddr_storage address_{};
  socklen_t length_ = 0;
};

class UdpInputTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (input_) input_->stop();
    input_.reset();
  }

  UdpInputConfig config(const std::string& listen = "127.0.0.1:0") {
    UdpInputConfig c;
    c.listenText = listen;
    c.listen = *parseHostPort(listen);
    return c;
  }

  // Starts an input on a fresh pipeline whose queue holds `queueBytes`.
  ::testing::AssertionResult start(UdpInputConfig c, size_t queueBytes = 8 * 1024 * 1024,
                                   std::optional<KeyTemplate> key = std::nullopt) {
    return start(std::move(c), std::make_unique<Pipeline>("app", std::move(key), queueBytes, registry_));
  }
  ::testing::AssertionResult start(UdpInputConfig c, std::unique_ptr<Pipeline> pipeline) {
    pipeline_ = std::move(pipeline);
    input_ = std::make_unique<UdpInput>(InputContext{io_, *pipeline_, registry_, "udp_0", "/tmp"}, std::move(c));
    auto s = input_->start();
    if (!s) return ::testing::AssertionFailure() << s.message();
    return ::testing::AssertionSuccess();
  }

  // Moves every queued batch into records_ (and keys_).
  void collect() {
    while (auto batch = pipeline_->queue().tryPop()) {
      for (size_t i = 0; i < batch->size(); ++i) {
        records_.emplace_back(batch->data(i));
        keys_.emplace_back(batch->key(i));
      }
    }
  }

  // Runs the I/O loop in this thread until `done` holds or `timeout` passes.
  bool runUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout = 5s, bool collecting = true) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (collecting) collect();
      if (done()) return true;
      if (std::chrono::steady_clock::now() >= deadline) return false;
      if (io_.stopped()) io_.restart();
      io_.run_one_for(10ms);
    }
  }

  double metric(const std::string& name, const std::string& reason = "") {
    std::map<std::string, std::string> labels{{"pipeline", "app"}, {"input", "udp_0"}};
    if (!reason.empty()) labels["reason"] = reason;
    return kinship::testing::metricValue(registry_, name, labels);
  }
  double dropped(const std::string& reason) { return metric("kinship_input_dropped_total", reason); }
  double received() { return metric("kinship_input_records_total"); }
  // Every datagram ends up as a record (without split_lines) or under one drop reason.
  double accounted() {
    return received() + dropped("queue_full") + dropped("kernel_overflow") + dropped("truncated") + dropped("empty");
  }

  // Runs every handler that is ready, reading the socket until it is empty
  // (once its sender has stopped).
  void runUntilIdle() {
    if (io_.stopped()) io_.restart();
    for (int i = 0; i < 100000 && io_.poll() > 0;) i += 1;
  }

  // After a burst, the kernel's drop count reaches us only with a later
  // datagram: drain the socket, so that a marker fits, then send one and
  // wait until everything sent is accounted for.
  bool settle(Sender& sender, uint64_t& sent) {
    for (int attempt = 0; attempt < 5; ++attempt) {
      runUntilIdle();
      sender.send("marker");
      ++sent;
      if (runUntil([&] { return accounted() == static_cast<double>(sent); }, 2s, /*collecting=*/false)) return true;
    }
    return false;
  }

  asio::io_context io_;
  prometheus::Registry registry_;
  std::unique_ptr<Pipeline> pipeline_;
  std::unique_ptr<UdpInput> input_;
  std::vector<std::string> records_;
  std::vector<std::string> keys_;
};

using Records = std::vector<std::string>;

}  // namespace

// --- configuration ---------------------------------------------------------

TEST(UdpInputConfig, Defaults) {
  UdpInputConfig c = configOf("listen: 127.0.0.1:5514");
  EXPECT_EQ(c.listen.host, "127.0.0.1");
  EXPECT_EQ(c.listen.port, 5514);
  EXPECT_EQ(c.parser, kinship::pipeline::Parser::kRaw);
  EXPECT_FALSE(c.splitLines);
  EXPECT_EQ(c.maxDatagramSize, 64u * 1024u);
  EXPECT_EQ(c.receiveBufferSize, 4u * 1024u * 1024u);
  EXPECT_EQ(c.batchDatagrams, 64);

  UdpInputConfig plain;
  EXPECT_EQ(c.parser, plain.parser);
  EXPECT_EQ(c.splitLines, plain.splitLines);
  EXPECT_EQ(c.maxDatagramSize, plain.maxDatagramSize);
  EXPECT_EQ(c.receiveBufferSize, plain.receiveBufferSize);
  EXPECT_EQ(c.batchDatagrams, plain.batchDatagrams);
}

TEST(UdpInputConfig, AllOptions) {
  UdpInputConfig c = configOf(
      "listen: \"[::1]:0\"\nparser: json\nsplit_lines: true\nmax_datagram_size: 1KiB\n"
      "receive_buffer_size: 256KiB\nbatch_datagrams: 8\n");
  EXPECT_EQ(c.listen.host, "::1");
  EXPECT_EQ(c.listen.port, 0);
  EXPECT_EQ(c.listenText, "[::1]:0");
  EXPECT_EQ(c.parser, kinship::pipeline::Parser::kJson);
  EXPECT_TRUE(c.splitLines);
  EXPECT_EQ(c.maxDatagramSize, 1024u);
  EXPECT_EQ(c.receiveBufferSize, 256u * 1024u);
  EXPECT_EQ(c.batchDatagrams, 8);
}

TEST(UdpInputConfig, Errors) {
  EXPECT_THAT(configErrorOf("parser: raw"), HasSubstr("listen"));
  EXPECT_THAT(configErrorOf("listen: 127.0.0.1"), HasSubstr("missing port"));
  EXPECT_THAT(configErrorOf("listen: \"::1:5514\""), HasSubstr("must be in brackets"));
  EXPECT_THAT(configErrorOf("listen: 127.0.0.1:65536"), HasSubstr("0 to 65535"));
  EXPECT_THAT(configErrorOf("listen: 127.0.0.1:5514\nmax_datagram_size: 100"), HasSubstr("max_datagram_size"));
  EXPECT_THAT(configErrorOf("listen: 127.0.0.1:5514\nmax_datagram_size: 65KiB"), HasSubstr("max_datagram_size"));
  EXPECT_THAT(configErrorOf("listen: 127.0.0.1:5514\nbatch_datagrams: 0"), HasSubstr("batch_datagrams"));
  EXPECT_THAT(configErrorOf("listen: 127.0.0.1:5514\nbatch_datagrams: 1025"), HasSubstr("batch_datagrams"));
  EXPECT_THAT(configErrorOf("listen: 127.0.0.1:5514\nsplit_line: true"), HasSubstr("split_lines"));
  // The error names where it was written.
  EXPECT_THAT(configErrorOf("listen: nowhere"), HasSubstr("kinship.yaml:1:"));
}

TEST(SocketAddress, ParsesHostPort) {
  auto a = parseHostPort("0.0.0.0:5514");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "0.0.0.0");
  EXPECT_EQ(a->port, 5514);
  auto b = parseHostPort("[::]:0");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->host, "::");
  EXPECT_EQ(b->port, 0);
  auto c = parseHostPort("localhost:65535");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->host, "localhost");
  EXPECT_EQ(c->port, 65535);

  for (const char* bad : {"", ":5514", "host", "host:", "host:x", "host:-1", "host:5514x", "[::1]", "[::1:5514",
                          "[]:5514", "[nope]:5514", "a b:5514", "1::2:5514"}) {
    EXPECT_FALSE(parseHostPort(bad).has_value()) << bad;
  }
}

TEST(SocketAddress, ResolvesLiteralsWithoutTheResolver) {
  auto endpoints = resolveUdpEndpoints(*parseHostPort("127.0.0.1:5514"));
  ASSERT_TRUE(endpoints) << endpoints.error().message();
  ASSERT_EQ(endpoints->size(), 1u);
  EXPECT_EQ(endpoints->front().address().to_string(), "127.0.0.1");
  EXPECT_EQ(endpoints->front().port(), 5514);
}

// --- receiving -------------------------------------------------------------

TEST_F(UdpInputTest, OneRecordPerDatagram) {
  ASSERT_TRUE(start(config()));
  ASSERT_NE(input_->localPort(), 0);
  Sender sender(AF_INET, input_->localPort());
  sender.send("hello");
  sender.send("two words\n");
  sender.send(R"({"service":"web"})");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 3; }));
  EXPECT_EQ(records_, (Records{"hello", "two words\n", R"({"service":"web"})"}));
  EXPECT_EQ(received(), 3);
  EXPECT_EQ(metric("kinship_input_bytes_total"), 5 + 10 + 17);
}

TEST_F(UdpInputTest, SplitLines) {
  auto c = config();
  c.splitLines = true;
  ASSERT_TRUE(start(c));
  Sender sender(AF_INET, input_->localPort());
  sender.send("a\nb\r\nc");
  sender.send("x\n\n\n");
  sender.send("p\n\nq\n");
  sender.send("\n\r\n");
  sender.send("last");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 8; }));
  // Empty lines inside a datagram are records, as in files; those at its end are not.
  EXPECT_EQ(records_, (Records{"a", "b", "c", "x", "p", "", "q", "last"}));
  EXPECT_EQ(dropped("empty"), 1);
  EXPECT_EQ(received(), 8);
}

TEST_F(UdpInputTest, Ipv6) {
  {
    // Hosts without IPv6 (some containers) cannot run this test.
    int probe = ::socket(AF_INET6, SOCK_DGRAM, 0);
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    bool ok = probe >= 0 && ::bind(probe, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
    if (probe >= 0) ::close(probe);
    if (!ok) GTEST_SKIP() << "no IPv6 loopback";
  }
  ASSERT_TRUE(start(config("[::1]:0")));
  Sender sender(AF_INET6, input_->localPort());
  sender.send("over ipv6");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 1; }));
  EXPECT_EQ(records_, Records{"over ipv6"});
}

TEST_F(UdpInputTest, EmptyDatagramIsDroppedAndCounted) {
  ASSERT_TRUE(start(config()));
  Sender sender(AF_INET, input_->localPort());
  sender.send("");
  sender.send("after");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 1 && dropped("empty") == 1; }));
  EXPECT_EQ(records_, Records{"after"});
}

TEST_F(UdpInputTest, TruncatedDatagramIsDroppedNotShippedInPart) {
  auto c = config();
  c.maxDatagramSize = 512;
  ASSERT_TRUE(start(c));
  Sender sender(AF_INET, input_->localPort());
  sender.send(std::string(600, 'a'));
  sender.send(std::string(512, 'b'));
  sender.send(std::string(513, 'c'));
  sender.send(std::string(511, 'd'));
  ASSERT_TRUE(runUntil([&] { return records_.size() == 2 && dropped("truncated") == 2; }));
  EXPECT_EQ(records_, (Records{std::string(512, 'b'), std::string(511, 'd')}));
  EXPECT_EQ(received(), 2);
}

TEST_F(UdpInputTest, BinaryBytesAreShippedUnchanged) {
  ASSERT_TRUE(start(config()));
  Sender sender(AF_INET, input_->localPort());
  const std::string binary("\0\xff\xfe\n\r\x80 \xc3(\0", 11);
  sender.send(binary);
  ASSERT_TRUE(runUntil([&] { return records_.size() == 1; }));
  EXPECT_EQ(records_.front(), binary);
  EXPECT_EQ(metric("kinship_input_bytes_total"), 11);
}

TEST_F(UdpInputTest, JsonParserKeysRecords) {
  auto c = config();
  c.parser = kinship::pipeline::Parser::kJson;
  auto key = KeyTemplate::compile("{service}");
  ASSERT_TRUE(key);
  ASSERT_TRUE(start(c, 8 * 1024 * 1024, std::move(*key)));
  Sender sender(AF_INET, input_->localPort());
  // The parser reads ahead past the record: under ASan this checks the padding.
  sender.send(R"({"service":"web","msg":"hi"})");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 1; }));
  EXPECT_EQ(keys_.front(), "web");
}

TEST_F(UdpInputTest, QueueFullDropsAreCountedExactly) {
  // A 64 KiB queue that nobody drains fills after ~64 datagrams of 1000 bytes.
  ASSERT_TRUE(start(config(), 64 * 1024));
  Sender sender(AF_INET, input_->localPort());
  const std::string payload(1000, 'q');
  uint64_t sent = 0;
  for (int chunk = 0; chunk < 15; ++chunk) {
    for (int i = 0; i < 20; ++i, ++sent) sender.send(payload);
    ASSERT_TRUE(runUntil([&] { return accounted() == static_cast<double>(sent); }, 5s, /*collecting=*/false))
        << "accounted " << accounted() << " of " << sent;
  }
  EXPECT_GT(dropped("queue_full"), 0);
  EXPECT_GE(received(), 64);
  EXPECT_EQ(received() + dropped("queue_full") + dropped("kernel_overflow"), 300);

  // Once the queue is drained, datagrams are kept again.
  collect();
  const double before = received();
  sender.send("room again");
  ASSERT_TRUE(runUntil([&] { return received() == before + 1; }));
  EXPECT_EQ(records_.back(), "room again");
}

TEST_F(UdpInputTest, KernelOverflowIsCounted) {
  auto c = config();
  c.receiveBufferSize = 4 * 1024;  // a few datagrams' worth
  ASSERT_TRUE(start(c));
  Sender sender(AF_INET, input_->localPort());
  uint64_t sent = 0;
  // Nothing reads while these arrive: most overflow the socket buffer.
  for (int i = 0; i < 200; ++i, ++sent) sender.send("overflow " + std::to_string(i));
  ASSERT_TRUE(settle(sender, sent)) << "accounted " << accounted() << " of " << sent;
  EXPECT_GT(dropped("kernel_overflow"), 0);
  EXPECT_EQ(received() + dropped("kernel_overflow"), static_cast<double>(sent));
  collect();
  EXPECT_EQ(static_cast<double>(records_.size()), received());
}

// The tail of a flood: the datagrams the kernel drops after the last one it
// queued. SO_RXQ_OVFL reports drops only on a later datagram, so these must
// be counted from the socket's drop counter itself, with no datagram after
// them (no marker, unlike settle()).
TEST_F(UdpInputTest, KernelDropsAfterTheLastDatagramQueuedAreCounted) {
  auto c = config();
  c.receiveBufferSize = 4 * 1024;
  ASSERT_TRUE(start(c));
  Sender sender(AF_INET, input_->localPort());
  constexpr int kSent = 200;
  // Nothing reads while these arrive: the buffer fills with the first few,
  // and every drop comes after the last datagram queued.
  for (int i = 0; i < kSent; ++i) sender.send("tail " + std::to_string(i));
  EXPECT_TRUE(runUntil([&] { return accounted() == kSent; }, 5s, /*collecting=*/false))
      << "accounted " << accounted() << " of " << kSent << " (received " << received() << ", kernel_overflow "
      << dropped("kernel_overflow") << ")";
  EXPECT_GT(dropped("kernel_overflow"), 0);
  EXPECT_GT(received(), 0);
  EXPECT_EQ(received() + dropped("kernel_overflow"), static_cast<double>(kSent));
}

TEST_F(UdpInputTest, TenThousandDatagramsAreAllAccountedFor) {
  auto c = config();
  c.receiveBufferSize = 64 * 1024;
  ASSERT_TRUE(start(c, 64 * 1024));
  const uint16_t port = input_->localPort();
  constexpr int kCount = 10000;
  std::atomic<bool> done{false};
  std::thread blaster([&] {
    Sender sender(AF_INET, port);
    for (int i = 0; i < kCount; ++i) sender.send("datagram " + std::to_string(i) + " " + std::string(40, 'x'));
    done = true;
  });
  // Drain the queue only now and then, so it also fills up sometimes.
  int turns = 0;
  runUntil(
      [&] {
        if (++turns % 1000 == 0) collect();
        return done.load();
      },
      60s, /*collecting=*/false);
  blaster.join();

  Sender sender(AF_INET, port);
  uint64_t sent = kCount;
  collect();
  ASSERT_TRUE(settle(sender, sent)) << "accounted " << accounted() << " of " << sent;
  EXPECT_EQ(received() + dropped("queue_full") + dropped("kernel_overflow"), static_cast<double>(sent));
  std::cout << "[          ] " << sent << " sent: " << received() << " received, " << dropped("queue_full")
            << " dropped with the queue full, " << dropped("kernel_overflow") << " dropped by the kernel\n";

  // Each datagram arrived at most once, whole, in the order sent.
  collect();
  std::set<int> seen;
  int last = -1;
  for (const auto& r : records_) {
    if (r == "marker") continue;
    ASSERT_THAT(r, ::testing::StartsWith("datagram "));
    ASSERT_TRUE(r.ends_with(std::string(40, 'x'))) << r;
    int n = std::stoi(r.substr(9));
    EXPECT_TRUE(seen.insert(n).second) << "twice: " << n;
    EXPECT_GT(n, last);
    last = n;
  }
}

TEST_F(UdpInputTest, StopClosesTheSocketAndSubmitsNothingMore) {
  ASSERT_TRUE(start(config()));
  Sender sender(AF_INET, input_->localPort());
  sender.send("before");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 1; }));
  input_->stop();
  input_->stop();  // idempotent
  // The port is free again.
  asio::ip::udp::socket probe(io_);
  asio::error_code ec;
  probe.open(asio::ip::udp::v4(), ec);
  probe.bind(asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), input_->localPort()), ec);
  EXPECT_FALSE(ec) << ec.message();
  io_.restart();
  io_.poll();
  collect();
  EXPECT_EQ(records_, Records{"before"});
}

TEST_F(UdpInputTest, PortInUseFailsToStart) {
  asio::ip::udp::socket holder(io_, asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const auto port = holder.local_endpoint().port();
  auto result = start(config("127.0.0.1:" + std::to_string(port)));
  ASSERT_FALSE(result);
  EXPECT_THAT(result.message(), HasSubstr("cannot listen"));
  EXPECT_THAT(result.message(), HasSubstr("udp_0"));
}

TEST_F(UdpInputTest, MetricsCarryPipelineAndInputLabels) {
  ASSERT_TRUE(start(config()));
  for (const char* reason : {"truncated", "empty", "queue_full", "kernel_overflow"}) {
    EXPECT_EQ(dropped(reason), 0) << reason;
  }
  EXPECT_EQ(received(), 0);
  EXPECT_EQ(metric("kinship_input_bytes_total"), 0);
}

TEST_F(UdpInputTest, TheSendersAddressIsTheRecordsSource) {
  using namespace kinship::pipeline;
  KeyRules keys;
  keys.partitionKey.keyTemplate = *KeyTemplate::compile("{from}");
  auto pipeline = std::make_unique<Pipeline>(
      "app", std::move(keys), 8 * 1024 * 1024, registry_, RecordFilters{},
      std::vector<AddedField>{{.name = "from", .kind = AddedField::Kind::kSource, .text = {}}},
      EncodingOptions{.encoding = Encoding::kJson});
  ASSERT_TRUE(start(config(), std::move(pipeline)));
  Sender one(AF_INET, input_->localPort());
  Sender two(AF_INET, input_->localPort());
  one.send("a");
  two.send("b");
  one.send("c");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 3; }));
  const std::string first = "127.0.0.1:" + std::to_string(one.localPort());
  const std::string second = "127.0.0.1:" + std::to_string(two.localPort());
  EXPECT_EQ(records_, (Records{R"({"message":"a","from":")" + first + R"("})",
                               R"({"message":"b","from":")" + second + R"("})",
                               R"({"message":"c","from":")" + first + R"("})"}));
  EXPECT_EQ(keys_, (Records{first, second, first}));
}
