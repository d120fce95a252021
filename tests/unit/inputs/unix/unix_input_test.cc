#include "inputs/unix/unix_input.h"

#include <grp.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <yaml-cpp/yaml.h>

#include <asio/io_context.hpp>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "inputs/unix/line_buffer.h"
#include "inputs/unix/unix_input_config.h"
#include "inputs/unix/unix_stream_input.h"
#include "pipeline/pipeline.h"
#include "tests/support/metrics_reader.h"

using namespace kinship::inputs;
using kinship::config::ConfigError;
using kinship::config::EnvLookup;
using kinship::config::Section;
using kinship::pipeline::kParsePadding;
using kinship::pipeline::Pipeline;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

namespace {

const EnvLookup kNoEnv = [](std::string_view) -> std::optional<std::string> { return std::nullopt; };

UnixInputConfig configOf(const std::string& yaml) {
  Section s = Section::validate(YAML::Load(yaml), unixInputSchema(), "kinship.yaml", "pipelines.app.inputs.0", kNoEnv);
  return unixInputConfigFrom(s);
}

std::string configErrorOf(const std::string& yaml) {
  try {
    configOf(yaml);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "<no error>";
}

sockaddr_un addressOf(const std::string& path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::memcpy(a.sun_path, path.data(), path.size());
  return a;
}

// A socket bound at `path` (and listening, for streams), as another process would hold it.
int bindAt(const std::string& path, int type, bool listening) {
  int fd = ::socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
  EXPECT_GE(fd, 0);
  auto a = addressOf(path);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0) << std::strerror(errno);
  if (listening) {
    EXPECT_EQ(::listen(fd, 8), 0);
  }
  return fd;
}

std::string modeOf(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return "<missing>";
  char text[8];
  std::snprintf(text, sizeof(text), "%04o", st.st_mode & 07777);
  return text;
}

class UnixInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kinship-unix-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/in.sock";
  }
  void TearDown() override {
    if (input_) input_->stop();
    input_.reset();
    for (int fd : clients_) ::close(fd);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  UnixInputConfig config(UnixInputConfig::Mode mode = UnixInputConfig::Mode::kStream) {
    UnixInputConfig c;
    c.path = path_;
    c.mode = mode;
    return c;
  }

  ::testing::AssertionResult start(UnixInputConfig c, size_t queueBytes = 8 * 1024 * 1024) {
    if (!pipeline_) pipeline_ = std::make_unique<Pipeline>("app", std::nullopt, queueBytes, registry_);
    input_ = makeUnixInput(InputContext{io_, *pipeline_, registry_, "unix_0", dir_}, std::move(c));
    auto s = input_->start();
    if (!s) return ::testing::AssertionFailure() << s.message();
    return ::testing::AssertionSuccess();
  }

  std::string startError(UnixInputConfig c) {
    auto result = start(std::move(c));
    return result ? "<started>" : result.message();
  }

  void collect() {
    while (auto batch = pipeline_->queue().tryPop()) {
      for (size_t i = 0; i < batch->size(); ++i) records_.emplace_back(batch->data(i));
    }
  }

  bool runUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout = 10s, bool collecting = true) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (collecting) collect();
      if (done()) return true;
      if (std::chrono::steady_clock::now() >= deadline) return false;
      if (io_.stopped()) io_.restart();
      io_.run_one_for(10ms);
      if (afterStep_) afterStep_();
    }
  }

  // A connected stream client, closed at teardown unless closed before.
  int connectStream() {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    auto a = addressOf(path_);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0) << std::strerror(errno);
    clients_.push_back(fd);
    return fd;
  }
  void closeClient(int fd) {
    ::close(fd);
    std::erase(clients_, fd);
  }

  // Writes all of `data`, running the I/O loop whenever the socket is full
  // (the input is on this thread).
  void sendAll(int fd, std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd, data.data(), data.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n > 0) {
        data.remove_prefix(static_cast<size_t>(n));
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (io_.stopped()) io_.restart();
        io_.run_one_for(10ms);
        if (afterStep_) afterStep_();
        collect();
      } else {
        FAIL() << "send: " << std::strerror(errno);
      }
    }
  }

  void sendDatagram(std::string_view data) {
    int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    auto a = addressOf(path_);
    ssize_t n = ::sendto(fd, data.data(), data.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    EXPECT_EQ(n, static_cast<ssize_t>(data.size())) << std::strerror(errno);
    ::close(fd);
  }

  double metric(const std::string& name, const std::string& reason = "") {
    std::map<std::string, std::string> labels{{"pipeline", "app"}, {"input", "unix_0"}};
    if (!reason.empty()) labels["reason"] = reason;
    return kinship::testing::metricValue(registry_, name, labels);
  }
  double dropped(const std::string& reason) { return metric("kinship_input_dropped_total", reason); }

  std::string dir_;
  std::string path_;
  asio::io_context io_;
  prometheus::Registry registry_;
  std::unique_ptr<Pipeline> pipeline_;
  std::unique_ptr<Input> input_;
  std::vector<int> clients_;
  std::vector<std::string> records_;
  std::function<void()> afterStep_;  // runs after each turn of the I/O loop
};

using Records = std::vector<std::string>;

struct CollectingHandler : LineHandler {
  Records lines;
  std::vector<uint64_t> tooLong;
  unsigned paddingSum = 0;
  void onLine(std::string_view line) override {
    lines.emplace_back(line);
    // Touch the promised padding so ASan reports a short buffer.
    for (size_t i = 0; i < kParsePadding; ++i) paddingSum += static_cast<unsigned char>(line.data()[line.size() + i]);
  }
  void onLineTooLong(uint64_t bytes) override { tooLong.push_back(bytes); }
  void onLineOverBudget(uint64_t bytes) override { overBudget.push_back(bytes); }
  std::vector<uint64_t> overBudget;
};

// Feeds `data` through a LineBuffer in reads of at most `chunk` bytes.
// `maxGrowth`: what each writable() may add to the buffer.
void feed(LineBuffer& buffer, std::string_view data, size_t chunk, LineHandler& handler,
          size_t maxGrowth = SIZE_MAX) {
  while (!data.empty()) {
    auto room = buffer.writable(maxGrowth);
    size_t n = std::min({room.size(), chunk, data.size()});
    std::memcpy(room.data(), data.data(), n);
    data.remove_prefix(n);
    buffer.commit(n, handler);
  }
}

}  // namespace

// --- configuration ---------------------------------------------------------

TEST(UnixInputConfig, Defaults) {
  UnixInputConfig c = configOf("path: /run/kinship/app.sock");
  UnixInputConfig plain;
  EXPECT_EQ(c.path, "/run/kinship/app.sock");
  EXPECT_EQ(c.mode, UnixInputConfig::Mode::kStream);
  EXPECT_EQ(c.parser, kinship::pipeline::Parser::kRaw);
  EXPECT_EQ(c.socketMode, 0660u);
  EXPECT_FALSE(c.socketGroup.has_value());
  EXPECT_EQ(c.maxLineSize, 1023u * 1024u);
  EXPECT_EQ(c.maxConnections, 256);
  EXPECT_EQ(c.maxBufferSize, 64u * 1024u * 1024u);
  EXPECT_EQ(c.maxBufferSize, plain.maxBufferSize);
  EXPECT_EQ(c.mode, plain.mode);
  EXPECT_EQ(c.socketMode, plain.socketMode);
  EXPECT_EQ(c.maxLineSize, plain.maxLineSize);
  EXPECT_EQ(c.maxConnections, plain.maxConnections);
}

TEST(UnixInputConfig, AllOptions) {
  UnixInputConfig c = configOf(
      "path: /dev/log\nmode: datagram\nparser: json\nsocket_mode: \"0666\"\nsocket_group: adm\n"
      "max_line_size: 8KiB\nmax_connections: 4\n");
  EXPECT_EQ(c.mode, UnixInputConfig::Mode::kDatagram);
  EXPECT_EQ(c.parser, kinship::pipeline::Parser::kJson);
  EXPECT_EQ(c.socketMode, 0666u);
  EXPECT_EQ(c.socketGroup, "adm");
  EXPECT_EQ(c.maxLineSize, 8192u);
  EXPECT_EQ(c.maxConnections, 4);
  EXPECT_EQ(configOf("path: /x\nsocket_mode: 600\n").socketMode, 0600u);
  EXPECT_EQ(configOf("path: /x\nsocket_mode: \"0777\"\n").socketMode, 0777u);
}

TEST(UnixInputConfig, Errors) {
  EXPECT_THAT(configErrorOf("mode: stream"), HasSubstr("path"));
  EXPECT_THAT(configErrorOf("path: \"\""), HasSubstr("empty"));
  EXPECT_THAT(configErrorOf("path: /" + std::string(120, 'p')), HasSubstr("at most 107"));
  EXPECT_THAT(configErrorOf("path: /x\nmode: seqpacket"), HasSubstr("mode"));
  EXPECT_THAT(configErrorOf("path: /x\nsocket_mode: \"0689\""), HasSubstr("not an octal permission"));
  EXPECT_THAT(configErrorOf("path: /x\nsocket_mode: rw-rw----"), HasSubstr("socket_mode"));
  EXPECT_THAT(configErrorOf("path: /x\nsocket_mode: \"4755\""), HasSubstr("at most 0777"));
  EXPECT_THAT(configErrorOf("path: /x\nsocket_group: \"\""), HasSubstr("socket_group"));
  EXPECT_THAT(configErrorOf("path: /x\nmax_connections: 0"), HasSubstr("max_connections"));
  EXPECT_THAT(configErrorOf("path: /x\nmax_line_size: 0"), HasSubstr("max_line_size"));
  EXPECT_THAT(configErrorOf("path: /x\nmax_buffer_size: 64KiB"), HasSubstr("max_buffer_size"));
  // One client alone must be able to send a line of max_line_size.
  EXPECT_THAT(configErrorOf("path: /x\nmax_line_size: 1MiB\nmax_buffer_size: 1MiB"),
              HasSubstr("less than max_line_size + 64KiB"));
  EXPECT_EQ(configOf("path: /x\nmax_line_size: 1MiB\nmax_buffer_size: 1088KiB").maxBufferSize, 1088u * 1024u);
  EXPECT_EQ(configOf("path: /x\nmode: datagram\nmax_buffer_size: 128KiB").maxBufferSize, 128u * 1024u);
}

// --- LineBuffer --------------------------------------------------------------

TEST(LineBuffer, CutsLinesAcrossReadsOfAnySize) {
  const std::string data = "alpha\nbravo\r\n\ncharlie-delta-echo-foxtrot\nlast";
  for (size_t chunk : {1u, 2u, 3u, 7u, 16u, 1000u}) {
    LineBuffer buffer(8, 1024);
    CollectingHandler h;
    feed(buffer, data, chunk, h);
    EXPECT_EQ(h.lines, (Records{"alpha", "bravo", "", "charlie-delta-echo-foxtrot"})) << chunk;
    buffer.finish(h);
    EXPECT_EQ(h.lines.back(), "last") << chunk;
    EXPECT_TRUE(h.tooLong.empty()) << chunk;
  }
}

TEST(LineBuffer, DropsLongLinesAndCarriesOn) {
  for (size_t chunk : {1u, 5u, 64u, 100000u}) {
    LineBuffer buffer(16, 20);
    CollectingHandler h;
    feed(buffer,
         "ok\n" + std::string(21, 'x') + "\n" + std::string(20, 'y') + "\r\n" + std::string(5000, 'z') + "\nafter\n",
         chunk, h);
    EXPECT_EQ(h.lines, (Records{"ok", std::string(20, 'y'), "after"})) << chunk;
    ASSERT_EQ(h.tooLong.size(), 2u) << chunk;
    EXPECT_GE(h.tooLong[0], 21u);
    EXPECT_GE(h.tooLong[1], 5000u);
    EXPECT_LE(buffer.capacity(), 64u);
  }
}

TEST(LineBuffer, UnterminatedLongLineAtTheEndIsReported) {
  LineBuffer buffer(16, 20);
  CollectingHandler h;
  feed(buffer, std::string(100, 'x'), 7, h);
  buffer.finish(h);
  EXPECT_TRUE(h.lines.empty());
  ASSERT_EQ(h.tooLong.size(), 1u);
  EXPECT_EQ(h.tooLong[0], 100u);
}

TEST(LineBuffer, LineThatWouldGrowThePastTheAllowanceIsDroppedAndTheMemoryGivenBack) {
  for (size_t chunk : {1u, 7u, 100000u}) {
    LineBuffer buffer(16, 1000);
    CollectingHandler h;
    const size_t first = buffer.allocatedBytes();
    // 16 more bytes may double the 16-byte buffer once; not twice.
    feed(buffer, "ok\n" + std::string(20, 'a') + "\n", chunk, h, 16);
    feed(buffer, std::string(40, 'x') + "\nafter\n", chunk, h, 16);
    EXPECT_EQ(h.lines, (Records{"ok", std::string(20, 'a'), "after"})) << chunk;
    EXPECT_TRUE(h.tooLong.empty()) << chunk;
    ASSERT_EQ(h.overBudget.size(), 1u) << chunk;
    EXPECT_GE(h.overBudget[0], 32u);
    EXPECT_LE(buffer.allocatedBytes(), first + 16) << chunk;
    // Nothing more may be allocated: an unfinished line at the end too.
    feed(buffer, std::string(100, 'y'), chunk, h, 0);
    buffer.finish(h);
    ASSERT_EQ(h.overBudget.size(), 2u) << chunk;
    EXPECT_EQ(h.overBudget[1], 100u);
  }
}

TEST(LineBuffer, ShrinksAfterAVeryLongLine) {
  LineBuffer buffer(64 * 1024, 4 * 1024 * 1024);
  CollectingHandler h;
  feed(buffer, std::string(1024 * 1024, 'b') + "\nsmall\n", 1 << 20, h);
  ASSERT_EQ(h.lines.size(), 2u);
  EXPECT_EQ(h.lines[0].size(), 1024u * 1024u);
  EXPECT_EQ(buffer.capacity(), 64u * 1024u);
}

// --- stream mode -------------------------------------------------------------

TEST_F(UnixInputTest, FiftyClientsAHundredLinesEach) {
  ASSERT_TRUE(start(config()));
  constexpr int kClients = 50;
  constexpr int kLines = 100;
  std::vector<int> fds;
  for (int c = 0; c < kClients; ++c) fds.push_back(connectStream());
  auto lineOf = [](int client, int line) {
    return "client " + std::to_string(client) + " line " + std::to_string(line) + " " + std::string(client, '.');
  };
  // Every line goes out in two writes, the clients taking turns, so the
  // input sees halves of lines from many connections at once.
  for (int l = 0; l < kLines; ++l) {
    for (int half = 0; half < 2; ++half) {
      for (int c = 0; c < kClients; ++c) {
        std::string line = lineOf(c, l) + "\n";
        size_t cut = line.size() / 2;
        sendAll(fds[c], half == 0 ? std::string_view(line).substr(0, cut) : std::string_view(line).substr(cut));
      }
      if (io_.stopped()) io_.restart();
      io_.poll();
    }
  }
  for (int fd : fds) closeClient(fd);
  ASSERT_TRUE(runUntil([&] {
    return records_.size() >= kClients * kLines && metric("kinship_input_connections") == 0;
  })) << records_.size();
  ASSERT_EQ(records_.size(), static_cast<size_t>(kClients * kLines));

  std::map<int, int> next;  // client -> next expected line
  for (const auto& r : records_) {
    int client = -1, line = -1;
    ASSERT_EQ(std::sscanf(r.c_str(), "client %d line %d", &client, &line), 2) << r;
    ASSERT_EQ(r, lineOf(client, line)) << "interleaved or cut";
    EXPECT_EQ(line, next[client]++) << "out of order for client " << client;
  }
  EXPECT_EQ(next.size(), static_cast<size_t>(kClients));
  EXPECT_EQ(metric("kinship_input_records_total"), kClients * kLines);
}

TEST_F(UnixInputTest, UnterminatedLastLineCountsWhenTheClientCloses) {
  ASSERT_TRUE(start(config()));
  int fd = connectStream();
  sendAll(fd, "abc\r\ndef");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 1; }));
  EXPECT_EQ(records_, Records{"abc"});
  closeClient(fd);
  ASSERT_TRUE(runUntil([&] { return records_.size() == 2; }));
  EXPECT_EQ(records_, (Records{"abc", "def"}));
  EXPECT_EQ(metric("kinship_input_bytes_total"), 6);
}

TEST_F(UnixInputTest, OverLongLineIsDroppedAndTheConnectionKeepsGoing) {
  auto c = config();
  c.maxLineSize = 100;
  ASSERT_TRUE(start(c));
  int fd = connectStream();
  // One longer than a read buffer (so it is skipped up to its newline), one
  // longer than the limit but within a read, one exactly at the limit.
  sendAll(fd, "short\n" + std::string(200 * 1024, 'x') + "\n" + std::string(150, 'y') + "\nafter\n" +
                  std::string(100, 'z') + "\n");
  closeClient(fd);
  ASSERT_TRUE(runUntil([&] { return records_.size() == 3 && metric("kinship_input_connections") == 0; }));
  EXPECT_EQ(records_, (Records{"short", "after", std::string(100, 'z')}));
  EXPECT_EQ(dropped("line_too_long"), 2);
}

TEST_F(UnixInputTest, ExcessConnectionsAreClosed) {
  auto c = config();
  c.maxConnections = 2;
  ASSERT_TRUE(start(c));
  int a = connectStream();
  int b = connectStream();
  ASSERT_TRUE(runUntil([&] { return metric("kinship_input_connections") == 2; }));
  int extra = connectStream();
  ASSERT_TRUE(runUntil([&] { return metric("kinship_input_connections_rejected_total") == 1; }));
  char byte;
  EXPECT_EQ(::recv(extra, &byte, 1, 0), 0);  // closed by the input
  EXPECT_EQ(metric("kinship_input_connections"), 2);

  // A slot frees up when a client leaves.
  closeClient(a);
  ASSERT_TRUE(runUntil([&] { return metric("kinship_input_connections") == 1; }));
  int late = connectStream();
  sendAll(late, "late\n");
  sendAll(b, "b\n");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 2; }));
  EXPECT_THAT(records_, ::testing::UnorderedElementsAre("late", "b"));
}

// Clients that each hold a long unfinished line cannot take more memory than
// max_buffer_size: lines that would pass it are dropped (counted) and other
// clients' lines still arrive.
TEST_F(UnixInputTest, UnfinishedLinesOfManyClientsStayWithinMaxBufferSize) {
  auto c = config();
  c.maxLineSize = 256 * 1024;
  c.maxBufferSize = 1024 * 1024;
  ASSERT_TRUE(start(c));
  auto* stream = dynamic_cast<UnixStreamInput*>(input_.get());
  ASSERT_NE(stream, nullptr);
  size_t peak = 0;
  afterStep_ = [&] { peak = std::max(peak, stream->bufferedBytes()); };

  int good = connectStream();
  constexpr int kHolders = 10;
  std::vector<int> holders;
  for (int i = 0; i < kHolders; ++i) holders.push_back(connectStream());
  ASSERT_TRUE(runUntil([&] { return metric("kinship_input_connections") == kHolders + 1; }));
  const std::string big(200 * 1024, 'h');
  for (int fd : holders) sendAll(fd, big);
  // Until the input has read every byte the holders sent.
  ASSERT_TRUE(runUntil([&] {
    for (int fd : holders) {
      int unread = 0;
      if (::ioctl(fd, SIOCOUTQ, &unread) != 0 || unread != 0) return false;
    }
    return true;
  }));
  EXPECT_GT(peak, c.maxBufferSize / 2);  // the holders did press on the limit
  sendAll(good, "good 1\ngood 2\n");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 2; }));
  EXPECT_EQ(records_, (Records{"good 1", "good 2"}));
  EXPECT_LE(peak, c.maxBufferSize);

  // The holders finish their lines: those that got the memory arrive whole,
  // the others were dropped and are counted.
  for (int fd : holders) sendAll(fd, "\n");
  for (int fd : holders) closeClient(fd);
  ASSERT_TRUE(runUntil([&] {
    return metric("kinship_input_connections") == 1 &&
           static_cast<double>(records_.size() - 2) + dropped("buffer_limit") == kHolders;
  })) << records_.size() << " " << dropped("buffer_limit");
  EXPECT_GE(dropped("buffer_limit"), 1);
  for (size_t i = 2; i < records_.size(); ++i) EXPECT_EQ(records_[i], big);
  EXPECT_LE(peak, c.maxBufferSize);
  sendAll(good, "good 3\n");
  ASSERT_TRUE(runUntil([&] { return records_.size() >= 3 && records_.back() == "good 3"; }));
  EXPECT_LE(stream->bufferedBytes(), 2 * (kStreamReadBufferSize + kParsePadding));
}

TEST_F(UnixInputTest, ConnectionsBeyondMaxBufferSizeAreClosed) {
  auto c = config();
  c.maxLineSize = 1000;
  c.maxBufferSize = 2 * (kStreamReadBufferSize + kParsePadding);
  ASSERT_TRUE(start(c));
  int a = connectStream();
  int b = connectStream();
  ASSERT_TRUE(runUntil([&] { return metric("kinship_input_connections") == 2; }));
  int extra = connectStream();
  ASSERT_TRUE(runUntil([&] { return metric("kinship_input_connections_rejected_total") == 1; }));
  char byte;
  EXPECT_EQ(::recv(extra, &byte, 1, 0), 0);  // closed by the input
  sendAll(a, "a\n");
  sendAll(b, "b\n");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 2; }));
  EXPECT_THAT(records_, ::testing::UnorderedElementsAre("a", "b"));
}

TEST_F(UnixInputTest, PausesWhileTheQueueIsFullAndLosesNothing) {
  constexpr size_t kQueueBytes = 64 * 1024;
  ASSERT_TRUE(start(config(), kQueueBytes));
  constexpr int kLines = 10000;
  auto lineOf = [](int i) { return "line " + std::to_string(i) + " " + std::string(90, 'p'); };
  int fd = connectStream();
  std::atomic<bool> written{false};
  // The writer blocks whenever the input stops reading: a thread of its own.
  std::thread writer([fd, &lineOf, &written] {
    std::string all;
    for (int i = 0; i < kLines; ++i) all += lineOf(i) + "\n";
    // Large writes: the writer outpaces the input whenever it may.
    for (std::string_view rest = all; !rest.empty();) {
      ssize_t n = ::send(fd, rest.data(), rest.size(), MSG_NOSIGNAL);
      if (n <= 0) break;
      rest.remove_prefix(static_cast<size_t>(n));
    }
    written = true;
  });

  size_t fullTimes = 0;
  size_t maxQueued = 0;
  size_t growthWhilePaused = 0;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (records_.size() < kLines && std::chrono::steady_clock::now() < deadline) {
    if (io_.stopped()) io_.restart();
    io_.run_one_for(10ms);
    maxQueued = std::max(maxQueued, pipeline_->queue().queuedBytes());
    if (pipeline_->queue().full()) {
      if (++fullTimes <= 3) {
        // Paused, the input reads nothing more (a read already under way
        // may still land); without the pause it would take the socket's
        // whole backlog in these turns of the loop.
        const size_t atFull = pipeline_->queue().queuedBytes();
        for (int i = 0; i < 20; ++i) io_.run_one_for(10ms);
        growthWhilePaused = std::max(growthWhilePaused, pipeline_->queue().queuedBytes() - atFull);
      }
      collect();  // the sink catches up; the input resumes by itself
    } else if (written) {
      collect();
    }
  }
  const bool ok = records_.size() >= kLines;
  writer.join();
  collect();
  ASSERT_TRUE(ok) << records_.size() << " of " << kLines;
  EXPECT_GT(fullTimes, 0u) << "the queue never filled: the test proves nothing";
  // Bounded: the queue plus what reads already under way bring.
  EXPECT_LE(growthWhilePaused, 64u * 1024u + 64u * 1024u / 100u * 32u);
  EXPECT_LE(maxQueued, kQueueBytes + 256 * 1024);
  ASSERT_EQ(records_.size(), static_cast<size_t>(kLines));
  for (int i = 0; i < kLines; ++i) ASSERT_EQ(records_[i], lineOf(i));
}

TEST_F(UnixInputTest, StopEmitsPendingLinesAndRemovesTheSocket) {
  ASSERT_TRUE(start(config()));
  int fd = connectStream();
  sendAll(fd, "complete\nhalf");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 1; }));
  input_->stop();
  collect();
  EXPECT_EQ(records_, (Records{"complete", "half"}));
  EXPECT_FALSE(std::filesystem::exists(path_));
  char byte;
  EXPECT_EQ(::recv(fd, &byte, 1, 0), 0);  // the connection was closed
  input_->stop();                         // idempotent
}

// --- datagram mode -----------------------------------------------------------

TEST_F(UnixInputTest, DatagramsAreRecordsLessOneNewline) {
  ASSERT_TRUE(start(config(UnixInputConfig::Mode::kDatagram)));
  sendDatagram("hello\n");
  sendDatagram("world");
  sendDatagram("crlf\r\n");
  sendDatagram("two\nlines\n\n");
  sendDatagram("");
  sendDatagram("\n");
  sendDatagram(std::string("bin\0\xff", 5));
  ASSERT_TRUE(runUntil([&] { return records_.size() == 5 && dropped("empty") == 2; }));
  EXPECT_EQ(records_, (Records{"hello", "world", "crlf", "two\nlines\n", std::string("bin\0\xff", 5)}));
  EXPECT_EQ(metric("kinship_input_records_total"), 5);
}

TEST_F(UnixInputTest, DatagramLongerThanMaxLineSizeIsDropped) {
  auto c = config(UnixInputConfig::Mode::kDatagram);
  c.maxLineSize = 10;
  ASSERT_TRUE(start(c));
  sendDatagram("0123456789\r\n");  // at the limit once the ending goes
  sendDatagram("0123456789A");     // one over
  sendDatagram(std::string(5000, 'x'));
  sendDatagram("ok");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 2 && dropped("line_too_long") == 2; }));
  EXPECT_EQ(records_, (Records{"0123456789", "ok"}));
}

TEST_F(UnixInputTest, DatagramsDroppedWhileTheQueueIsFullAreCounted) {
  ASSERT_TRUE(start(config(UnixInputConfig::Mode::kDatagram), 16 * 1024));
  const std::string payload(1000, 'd');
  int sent = 0;
  for (int chunk = 0; chunk < 10; ++chunk) {
    for (int i = 0; i < 10; ++i, ++sent) sendDatagram(payload);
    ASSERT_TRUE(runUntil([&] { return metric("kinship_input_records_total") + dropped("queue_full") == sent; }, 10s,
                         /*collecting=*/false));
  }
  EXPECT_GT(dropped("queue_full"), 0);
  EXPECT_GE(metric("kinship_input_records_total"), 16);
}

TEST_F(UnixInputTest, DatagramStopRemovesTheSocket) {
  ASSERT_TRUE(start(config(UnixInputConfig::Mode::kDatagram)));
  EXPECT_TRUE(std::filesystem::is_socket(path_));
  input_->stop();
  EXPECT_FALSE(std::filesystem::exists(path_));
}

// --- the socket file ---------------------------------------------------------

TEST_F(UnixInputTest, StaleSocketIsReplaced) {
  for (auto mode : {UnixInputConfig::Mode::kStream, UnixInputConfig::Mode::kDatagram}) {
    ::close(bindAt(path_, mode == UnixInputConfig::Mode::kStream ? SOCK_STREAM : SOCK_DGRAM,
                   mode == UnixInputConfig::Mode::kStream));
    ASSERT_TRUE(std::filesystem::is_socket(path_));  // left behind, as by a crash
    ASSERT_TRUE(start(config(mode)));
    if (mode == UnixInputConfig::Mode::kStream) {
      int fd = connectStream();
      sendAll(fd, "fresh\n");
    } else {
      sendDatagram("fresh");
    }
    ASSERT_TRUE(runUntil([&] { return records_.size() == 1; }));
    EXPECT_EQ(records_, Records{"fresh"});
    input_->stop();
    records_.clear();
  }
}

TEST_F(UnixInputTest, SocketInUseIsRefused) {
  int other = bindAt(path_, SOCK_STREAM, /*listening=*/true);
  struct stat before {};
  ASSERT_EQ(::lstat(path_.c_str(), &before), 0);
  EXPECT_THAT(startError(config()), HasSubstr(path_ + " is in use: another process is listening on it"));
  // A stream input does not take a live datagram socket either.
  EXPECT_THAT(startError(config(UnixInputConfig::Mode::kDatagram)), HasSubstr("is in use"));
  struct stat after {};
  ASSERT_EQ(::lstat(path_.c_str(), &after), 0);
  EXPECT_EQ(before.st_ino, after.st_ino);  // untouched
  ::close(other);
}

TEST_F(UnixInputTest, RegularFileIsRefused) {
  { std::ofstream(path_) << "precious\n"; }
  EXPECT_EQ(startError(config()), path_ + " exists and is not a socket; refusing to remove it");
  EXPECT_THAT(startError(config(UnixInputConfig::Mode::kDatagram)),
              HasSubstr("exists and is not a socket; refusing to remove it"));
  std::ifstream in(path_);
  std::string content;
  std::getline(in, content);
  EXPECT_EQ(content, "precious");
}

TEST_F(UnixInputTest, MissingDirectoryIsRefused) {
  auto c = config();
  c.path = dir_ + "/no/such/dir/in.sock";
  EXPECT_THAT(startError(c), HasSubstr("directory " + dir_ + "/no/such/dir does not exist"));
}

TEST_F(UnixInputTest, SocketModeIsAppliedExactly) {
  auto c = config();
  c.socketMode = 0600;
  ASSERT_TRUE(start(c));
  EXPECT_EQ(modeOf(path_), "0600");
  input_->stop();

  // The umask would take group and other write away; the mode asked for wins.
  mode_t old = ::umask(022);
  c.socketMode = 0666;
  c.mode = UnixInputConfig::Mode::kDatagram;
  auto started = start(c);
  ::umask(old);
  ASSERT_TRUE(started);
  EXPECT_EQ(modeOf(path_), "0666");
}

TEST_F(UnixInputTest, SocketGroup) {
  group* mine = ::getgrgid(::getegid());
  ASSERT_NE(mine, nullptr);
  auto c = config();
  c.socketGroup = mine->gr_name;
  ASSERT_TRUE(start(c));
  struct stat st {};
  ASSERT_EQ(::lstat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_gid, ::getegid());
  input_->stop();

  c.socketGroup = "kinship-no-such-group";
  EXPECT_THAT(startError(c), HasSubstr("no group named 'kinship-no-such-group'"));
  EXPECT_FALSE(std::filesystem::exists(path_));  // refused before creating anything
}

TEST_F(UnixInputTest, StopLeavesAReplacedPathAlone) {
  ASSERT_TRUE(start(config()));
  ASSERT_EQ(::unlink(path_.c_str()), 0);
  { std::ofstream(path_) << "someone else's\n"; }
  input_->stop();
  EXPECT_TRUE(std::filesystem::is_regular_file(path_));
}

// --- the record's source ---------------------------------------------------

TEST_F(UnixInputTest, TheSocketsPathIsTheRecordsSourceInBothModes) {
  using namespace kinship::pipeline;
  for (auto mode : {UnixInputConfig::Mode::kStream, UnixInputConfig::Mode::kDatagram}) {
    SCOPED_TRACE(mode == UnixInputConfig::Mode::kStream ? "stream" : "datagram");
    if (input_) input_->stop();
    input_.reset();  // before the pipeline it feeds
    records_.clear();
    pipeline_ = std::make_unique<Pipeline>(
        "app", KeyRules{}, 8 * 1024 * 1024, registry_, RecordFilters{},
        std::vector<AddedField>{{.name = "sock", .kind = AddedField::Kind::kSource, .text = {}}},
        EncodingOptions{.encoding = Encoding::kJson});
    ASSERT_TRUE(start(config(mode)));
    if (mode == UnixInputConfig::Mode::kStream) {
      sendAll(connectStream(), "hello\n");
    } else {
      sendDatagram("hello\n");
    }
    ASSERT_TRUE(runUntil([&] { return records_.size() == 1; }));
    EXPECT_EQ(records_[0], R"({"message":"hello","sock":")" + path_ + R"("})");
  }
}

// --- octet-counted framing ---------------------------------------------------

TEST(UnixInputConfig, Framing) {
  EXPECT_EQ(configOf("path: /x").framing, UnixInputConfig::Framing::kNewline);
  EXPECT_EQ(configOf("path: /x\nframing: octet_counted").framing, UnixInputConfig::Framing::kOctetCounted);
  EXPECT_EQ(configOf("path: /x\nframing: newline").framing, UnixInputConfig::Framing::kNewline);
  EXPECT_THAT(configErrorOf("path: /x\nframing: lf"), HasSubstr("framing"));
  EXPECT_THAT(configErrorOf("path: /x\nmode: datagram\nframing: octet_counted"),
              HasSubstr("`framing` applies to mode: stream only"));
}

namespace {

std::string frameOf(const std::string& message) { return std::to_string(message.size()) + " " + message; }

}  // namespace

// rsyslog forwarding with TCP_Framing="octet-counted": messages that hold
// newlines stay whole, whatever the writes cut.
TEST_F(UnixInputTest, OctetCountedFramesKeepTheirNewlines) {
  auto c = config();
  c.framing = UnixInputConfig::Framing::kOctetCounted;
  ASSERT_TRUE(start(c));
  int a = connectStream();
  int b = connectStream();
  const std::string trace = "<11>1 2024-05-01T12:00:00Z web-1 app 42 - - boom\n\tat a.B.c(B.java:1)\n\tat d.E.f(E.java:2)";
  const std::string data = frameOf(trace) + frameOf("<14>1 - - - - - - second");
  sendAll(a, data.substr(0, 10));
  sendAll(b, frameOf("from b"));
  ASSERT_TRUE(runUntil([&] { return records_.size() == 1; }));
  sendAll(a, data.substr(10));
  ASSERT_TRUE(runUntil([&] { return records_.size() == 3; }));
  EXPECT_EQ(records_, (Records{"from b", trace, "<14>1 - - - - - - second"}));
}

TEST_F(UnixInputTest, AnOversizedFrameIsSkippedAndTheConnectionGoesOn) {
  auto c = config();
  c.framing = UnixInputConfig::Framing::kOctetCounted;
  c.maxLineSize = 100;
  ASSERT_TRUE(start(c));
  int fd = connectStream();
  sendAll(fd, frameOf("before") + frameOf(std::string(200 * 1024, 'x')) + frameOf("after"));
  ASSERT_TRUE(runUntil([&] { return records_.size() == 2; }));
  EXPECT_EQ(records_, (Records{"before", "after"}));
  EXPECT_EQ(dropped("line_too_long"), 1);
  EXPECT_EQ(metric("kinship_input_connections"), 1);
}

// A client that writes newline-delimited lines to an octet-counted socket
// (or garbage): where its next frame starts is unknown, so its connection
// is closed and counted; the other clients go on.
TEST_F(UnixInputTest, ABadFrameLengthClosesThatConnectionOnly) {
  auto c = config();
  c.framing = UnixInputConfig::Framing::kOctetCounted;
  ASSERT_TRUE(start(c));
  int good = connectStream();
  int bad = connectStream();
  sendAll(bad, frameOf("first") + "<34>Oct 11 22:14:15 host su: not framed\n");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 1 && metric("kinship_input_connections") == 1; }));
  EXPECT_EQ(dropped("bad_frame"), 1);
  char byte;
  EXPECT_EQ(::recv(bad, &byte, 1, 0), 0);  // closed by the input
  sendAll(good, frameOf("still here"));
  ASSERT_TRUE(runUntil([&] { return records_.size() == 2; }));
  EXPECT_EQ(records_, (Records{"first", "still here"}));
}

TEST_F(UnixInputTest, AFrameCutShortByTheClientClosingIsCounted) {
  auto c = config();
  c.framing = UnixInputConfig::Framing::kOctetCounted;
  ASSERT_TRUE(start(c));
  int fd = connectStream();
  sendAll(fd, frameOf("whole") + "100 cut short");
  closeClient(fd);
  ASSERT_TRUE(runUntil([&] { return metric("kinship_input_connections") == 0 && records_.size() == 1; }));
  runUntil([&] { return dropped("bad_frame") == 1; }, 1s);
  EXPECT_EQ(records_, Records{"whole"});
  EXPECT_EQ(dropped("bad_frame"), 1);
}
