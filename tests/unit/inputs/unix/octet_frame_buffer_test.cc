// OctetFrameBuffer: RFC 6587 octet-counted frames as rsyslog and syslog-ng
// send them, cut across reads of every size; newlines inside and between
// frames; frames over the size limit or the memory budget skipped with the
// stream going on; lengths that are not numbers refused; a close in the
// middle of a frame.

#include "inputs/unix/octet_frame_buffer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "pipeline/pipeline.h"

using namespace kinship::inputs;
using kinship::Status;
using kinship::pipeline::kParsePadding;
using ::testing::HasSubstr;

namespace {

using Records = std::vector<std::string>;

struct Handler : LineHandler {
  Records records;
  std::vector<uint64_t> tooLong;
  std::vector<uint64_t> overBudget;
  unsigned paddingSum = 0;
  void onLine(std::string_view line) override {
    records.emplace_back(line);
    // Touch the promised padding so ASan reports a short buffer.
    for (size_t i = 0; i < kParsePadding; ++i) paddingSum += static_cast<unsigned char>(line.data()[line.size() + i]);
  }
  void onLineTooLong(uint64_t bytes) override { tooLong.push_back(bytes); }
  void onLineOverBudget(uint64_t bytes) override { overBudget.push_back(bytes); }
};

// Feeds `data` in reads of at most `chunk` bytes; the first error, if any.
Status feed(StreamFramer& framer, std::string_view data, size_t chunk, LineHandler& handler,
            size_t maxGrowth = SIZE_MAX) {
  while (!data.empty()) {
    auto room = framer.writable(maxGrowth);
    const size_t n = std::min({room.size(), chunk, data.size()});
    std::memcpy(room.data(), data.data(), n);
    data.remove_prefix(n);
    if (Status s = framer.commit(n, handler); !s) return s;
  }
  return Status::ok();
}

std::string frame(const std::string& message) { return std::to_string(message.size()) + " " + message; }

const size_t kChunks[] = {1, 2, 3, 5, 16, 100, 1 << 20};

}  // namespace

TEST(OctetFrameBuffer, CutsFramesAcrossReadsOfAnySize) {
  const Records messages = {
      "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - 'su root' failed for lonvick",
      "<165>1 2003-10-11T22:14:15.003Z host evntslog - ID47 [exampleSDID@32473 iut=\"3\"] two\nlines",
      "<13>Dec  7 06:00:01 web-1 app: a stack trace\n\tat a.B.c(B.java:1)\n\tat d.E.f(E.java:2)",
      "x",
  };
  std::string data;
  for (const auto& m : messages) data += frame(m);
  for (size_t chunk : kChunks) {
    OctetFrameBuffer buffer(16, 1024);
    Handler h;
    ASSERT_TRUE(feed(buffer, data, chunk, h).isOk()) << chunk;
    EXPECT_EQ(h.records, messages) << chunk;
    EXPECT_TRUE(buffer.finish(h).isOk()) << chunk;
    EXPECT_EQ(buffer.pendingBytes(), 0u);
  }
}

// Some senders end each frame with a newline, inside the count or after it.
TEST(OctetFrameBuffer, NewlinesBetweenFramesAndAtTheEndOfAMessageAreLeftOut) {
  const std::string data = "6 hello\n\n" + frame("with lf\n") + "\r\n" + frame("with crlf\r\n") + frame("") + "0 " +
                           frame("keeps\n\ninner\n\n");
  for (size_t chunk : kChunks) {
    OctetFrameBuffer buffer(16, 1024);
    Handler h;
    ASSERT_TRUE(feed(buffer, data, chunk, h).isOk()) << chunk;
    EXPECT_EQ(h.records, (Records{"hello", "with lf", "with crlf", "", "", "keeps\n\ninner\n"})) << chunk;
  }
}

TEST(OctetFrameBuffer, AFrameOverTheLimitIsSkippedAndTheStreamGoesOn) {
  const std::string big(100, 'B');
  const std::string data = frame("before") + frame(big) + frame("after") + "50 " + std::string(50, 'e');
  for (size_t chunk : kChunks) {
    OctetFrameBuffer buffer(16, 50);
    Handler h;
    ASSERT_TRUE(feed(buffer, data, chunk, h).isOk()) << chunk;
    EXPECT_EQ(h.records, (Records{"before", "after", std::string(50, 'e')})) << chunk;
    EXPECT_EQ(h.tooLong, std::vector<uint64_t>{100}) << chunk;
  }
}

// A frame whose body would take the buffer past what the caller allows is
// skipped whole (reported at the next read), and the buffer given back.
TEST(OctetFrameBuffer, AFrameOverTheBudgetIsSkippedAndTheMemoryGivenBack) {
  OctetFrameBuffer buffer(64, 1 << 20);
  const size_t first = buffer.allocatedBytes();
  Handler h;
  const std::string body(10000, 'b');
  ASSERT_TRUE(feed(buffer, frame(body) + frame("next"), 100, h, /*maxGrowth=*/1000).isOk());
  EXPECT_EQ(h.records, Records{"next"});
  EXPECT_EQ(h.overBudget, std::vector<uint64_t>{10000});
  EXPECT_EQ(buffer.allocatedBytes(), first);
  // With room, the same frame is kept whole.
  ASSERT_TRUE(feed(buffer, frame(body), 100, h).isOk());
  EXPECT_EQ(h.records.back(), body);
}

TEST(OctetFrameBuffer, ABigFrameGrowsTheBufferWhichShrinksAfterwards) {
  OctetFrameBuffer buffer(64 * 1024, 4 << 20);
  const size_t first = buffer.allocatedBytes();
  Handler h;
  const std::string body(1 << 20, 'b');
  ASSERT_TRUE(feed(buffer, frame(body) + frame("small"), 64 * 1024, h).isOk());
  EXPECT_EQ(h.records, (Records{body, "small"}));
  EXPECT_EQ(buffer.allocatedBytes(), first);
}

// Where the next frame starts is unknown after a length that is not one:
// the stream cannot go on.
TEST(OctetFrameBuffer, ALengthThatIsNotANumberIsAnError) {
  // The message shows what came where the length belongs (as far as read).
  const std::pair<std::string, std::string> cases[] = {
      {"<34>Oct 11 22:14:15 host su: newline framing", "must begin with its length, got \"<"},
      {"12x hello", "must be followed by a space, got \"12x"},
      {"007 abcdefg", "\"00"},
      {"12345678901 x", "\"12345678901"},
      {" 5 hello", "must begin with its length, got \" "},
      {"\x01\xff", "got \"\\x01"},
  };
  for (const auto& [data, message] : cases) {
    for (size_t chunk : kChunks) {
      OctetFrameBuffer buffer(16, 1024);
      Handler h;
      Status s = feed(buffer, frame("fine") + data, chunk, h);
      ASSERT_FALSE(s.isOk()) << data << " " << chunk;
      EXPECT_THAT(s.message(), HasSubstr(message)) << chunk;
      EXPECT_EQ(h.records, Records{"fine"});
    }
  }
}

TEST(OctetFrameBuffer, ACloseInTheMiddleOfAFrameIsAnError) {
  for (size_t chunk : kChunks) {
    OctetFrameBuffer buffer(16, 1024);
    Handler h;
    ASSERT_TRUE(feed(buffer, frame("whole") + "20 only ten b", chunk, h).isOk());
    Status s = buffer.finish(h);
    EXPECT_THAT(s.message(), HasSubstr("closed 10 bytes into a frame of 20")) << chunk;
    EXPECT_EQ(h.records, Records{"whole"});
  }
  OctetFrameBuffer buffer(16, 1024);
  Handler h;
  ASSERT_TRUE(feed(buffer, "12", 1, h).isOk());
  EXPECT_THAT(buffer.finish(h).message(), HasSubstr("closed in a frame length (\"12\")"));
  // Only newlines after the last frame: nothing is lost.
  ASSERT_TRUE(feed(buffer, frame("a") + "\n", 1, h).isOk());
  EXPECT_TRUE(buffer.finish(h).isOk());
  // A frame being skipped as too long is not an error when cut short.
  OctetFrameBuffer small(16, 4);
  ASSERT_TRUE(feed(small, "100 abc", 3, h).isOk());
  EXPECT_TRUE(small.finish(h).isOk());
}
