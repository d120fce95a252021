// ContainerLogAssembler on the lines runtimes write: containerd's P/F
// pieces, Docker's pieces without a newline, stdout and stderr interleaved,
// lines that are not of the format, lines joined past max_line_size (split
// or dropped), timeouts, closing and truncation; and the offsets each record
// carries for the checkpoint.

#include "inputs/file/container_log_assembler.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "pipeline/pipeline.h"

using namespace kinship::inputs;
using namespace std::chrono_literals;
using kinship::pipeline::ContainerLine;
using kinship::pipeline::ContainerLogReader;
using kinship::pipeline::kParsePadding;
using kinship::pipeline::parseFailureName;
using kinship::pipeline::ParserKind;

namespace {

struct Record {
  std::string log;
  uint64_t endOffset;
  std::string time;
  std::string stream;
  std::string failure;  // empty: none
  bool operator==(const Record&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Record& r) {
  return os << "{" << r.log.substr(0, 60) << (r.log.size() > 60 ? "..." : "") << " (" << r.log.size() << " B), "
            << r.endOffset << ", " << r.time << ", " << r.stream << ", " << r.failure << "}";
}

struct Receiver : ContainerRecordReceiver {
  std::vector<Record> records;
  int splits = 0;
  std::vector<uint64_t> tooLong;
  unsigned paddingSum = 0;

  void onContainerRecord(std::string_view log, uint64_t endOffset, const ContainerLine& c) override {
    records.push_back({std::string(log), endOffset, std::string(c.time), std::string(c.stream),
                       c.failure ? std::string(parseFailureName(*c.failure)) : ""});
    // The padding after the record must be readable (ASan checks).
    for (size_t i = 0; i < kParsePadding; ++i) paddingSum += static_cast<unsigned char>(log.data()[log.size() + i]);
  }
  void onContainerLineSplit() override { ++splits; }
  void onContainerLineTooLong(uint64_t bytes) override { tooLong.push_back(bytes); }
};

using Records = std::vector<Record>;

class ContainerLogAssemblerTest : public ::testing::Test {
 protected:
  ContainerLogAssembler make(ParserKind format, size_t maxSize = 1 << 20, LongLines longLines = LongLines::kSplit) {
    reader_ = std::make_unique<ContainerLogReader>(format);
    return ContainerLogAssembler(*reader_, maxSize, longLines, 5s, 0);
  }
  // Feeds lines as a file would: each ends one byte (its newline) after
  // the previous line's end, with readable padding after it. Returns the
  // offset past the last.
  uint64_t feed(ContainerLogAssembler& a, const std::vector<std::string>& lines) {
    for (const auto& line : lines) {
      offset_ += line.size() + 1;
      std::string padded = line + std::string(kParsePadding, '\0');
      a.addLine(std::string_view(padded.data(), line.size()), offset_, now_, out_);
    }
    return offset_;
  }

  std::unique_ptr<ContainerLogReader> reader_;
  kinship::Clock::TimePoint now_{};
  uint64_t offset_ = 0;
  Receiver out_;
};

std::string cri(const std::string& stream, const std::string& tag, const std::string& log,
                const std::string& time = "2023-10-06T00:17:09.669794202Z") {
  return time + " " + stream + " " + tag + " " + log;
}

}  // namespace

TEST_F(ContainerLogAssemblerTest, CriFullLinesPassThrough) {
  auto a = make(ParserKind::kCri);
  const std::string one = cri("stdout", "F", R"({"level":"info","msg":"up"})");
  const std::string two = cri("stderr", "F", "W1006 warning", "2023-10-06T00:17:10.000000001Z");
  feed(a, {one, two});
  EXPECT_EQ(out_.records, (Records{
                              {R"({"level":"info","msg":"up"})", one.size() + 1, "2023-10-06T00:17:09.669794202Z",
                               "stdout", ""},
                              {"W1006 warning", one.size() + two.size() + 2, "2023-10-06T00:17:10.000000001Z",
                               "stderr", ""},
                          }));
  EXPECT_FALSE(a.holdsLine());
  EXPECT_EQ(a.deadline(), std::nullopt);
}

// containerd cuts a 40 KiB line into 16 KiB pieces: P, P, F.
TEST_F(ContainerLogAssemblerTest, CriPartialPiecesAreJoinedWithTheFirstPiecesTime) {
  auto a = make(ParserKind::kCri);
  const std::string p1(16384, 'a'), p2(16384, 'b'), p3(7232, 'c');
  const uint64_t end = feed(a, {cri("stdout", "P", p1, "2023-10-06T00:17:09.1Z"),
                                cri("stdout", "P", p2, "2023-10-06T00:17:09.2Z")});
  EXPECT_TRUE(out_.records.empty());
  EXPECT_TRUE(a.holdsLine());
  EXPECT_EQ(a.deadline(), now_ + 5s);
  const uint64_t end2 = feed(a, {cri("stdout", "F", p3, "2023-10-06T00:17:09.3Z")});
  ASSERT_GT(end2, end);
  EXPECT_EQ(out_.records, (Records{{p1 + p2 + p3, end2, "2023-10-06T00:17:09.1Z", "stdout", ""}}));
  EXPECT_FALSE(a.holdsLine());
}

// Runtimes interleave the streams: a stderr line between two pieces of a
// stdout line goes out at once, but its checkpoint offset stays before the
// stdout line's first piece, so a restart reads that line again whole.
TEST_F(ContainerLogAssemblerTest, StreamsAreJoinedApartAndOffsetsStayBeforeAHeldLine) {
  auto a = make(ParserKind::kCri);
  const uint64_t afterFirst = feed(a, {cri("stdout", "F", "before")});
  feed(a, {cri("stdout", "P", "Exception in thread \"main\" "), cri("stderr", "F", "E1006 on stderr")});
  const uint64_t end = feed(a, {cri("stdout", "F", "java.lang.RuntimeException")});
  EXPECT_EQ(out_.records,
            (Records{
                {"before", afterFirst, "2023-10-06T00:17:09.669794202Z", "stdout", ""},
                {"E1006 on stderr", afterFirst, "2023-10-06T00:17:09.669794202Z", "stderr", ""},
                {"Exception in thread \"main\" java.lang.RuntimeException", end, "2023-10-06T00:17:09.669794202Z",
                 "stdout", ""},
            }));
}

TEST_F(ContainerLogAssemblerTest, ALineNotOfTheFormatGoesOutWholeWithTheReason) {
  auto a = make(ParserKind::kCri);
  feed(a, {cri("stdout", "P", "held ")});
  feed(a, {"a line some other program wrote", cri("stdin", "F", "x")});
  const uint64_t end = feed(a, {cri("stdout", "F", "rest")});
  EXPECT_EQ(out_.records, (Records{
                              {"a line some other program wrote", 0, "", "", "bad_time"},
                              {cri("stdin", "F", "x"), 0, "", "", "bad_stream"},
                              {"held rest", end, "2023-10-06T00:17:09.669794202Z", "stdout", ""},
                          }));
}

TEST_F(ContainerLogAssemblerTest, DockerPiecesWithoutANewlineAreJoinedAndUnescaped) {
  auto a = make(ParserKind::kDocker);
  const uint64_t end = feed(a, {
      R"({"log":"{\"msg\":\"caf\u00e9 ","stream":"stdout","time":"2023-10-06T00:17:09.1Z"})",
      R"({"log":"stderr line\r\n","stream":"stderr","time":"2023-10-06T00:17:09.2Z"})",
      R"({"log":"\ud83d\ude00\"}\n","stream":"stdout","time":"2023-10-06T00:17:09.3Z"})",
      R"({"log":"\n","stream":"stdout","time":"2023-10-06T00:17:09.4Z"})",
      "not json",
  });
  ASSERT_EQ(out_.records.size(), 4u);
  EXPECT_EQ(out_.records[0], (Record{"stderr line", 0, "2023-10-06T00:17:09.2Z", "stderr", ""}));
  EXPECT_EQ(out_.records[1].log, "{\"msg\":\"caf\xc3\xa9 \xf0\x9f\x98\x80\"}");
  EXPECT_EQ(out_.records[1].time, "2023-10-06T00:17:09.1Z");
  EXPECT_EQ(out_.records[2], (Record{"", out_.records[2].endOffset, "2023-10-06T00:17:09.4Z", "stdout", ""}));
  EXPECT_EQ(out_.records[3], (Record{"not json", end, "", "", "invalid_json"}));
}

TEST_F(ContainerLogAssemblerTest, ALineJoinedPastMaxSizeIsSplitWhenLongLinesSplit) {
  auto a = make(ParserKind::kCri, 10, LongLines::kSplit);
  const uint64_t before = feed(a, {cri("stdout", "F", "short")});
  feed(a, {cri("stdout", "P", "0123456"), cri("stdout", "P", "789abcdef")});
  const uint64_t end = feed(a, {cri("stdout", "F", "ghijklmnopqrstu")});
  const std::string t = "2023-10-06T00:17:09.669794202Z";
  EXPECT_EQ(out_.records, (Records{
                              {"short", before, t, "stdout", ""},
                              {"0123456789", before, t, "stdout", ""},  // pieces: before the line
                              {"abcdefghij", before, t, "stdout", ""},
                              {"klmnopqrst", before, t, "stdout", ""},
                              {"u", end, t, "stdout", ""},
                          }));
  EXPECT_EQ(out_.splits, 3);
}

TEST_F(ContainerLogAssemblerTest, ALineJoinedPastMaxSizeIsDroppedWholeWhenLongLinesDrop) {
  auto a = make(ParserKind::kCri, 10, LongLines::kDrop);
  const uint64_t before = feed(a, {cri("stdout", "P", "0123456"), cri("stdout", "P", "789abc")});
  // While the rest is skipped, the offset stays before the dropped line.
  feed(a, {cri("stderr", "F", "other"), cri("stdout", "P", "more"), cri("stdout", "F", "end")});
  const uint64_t end = feed(a, {cri("stdout", "F", "next")});
  const std::string t = "2023-10-06T00:17:09.669794202Z";
  EXPECT_EQ(out_.records, (Records{{"other", 0, t, "stderr", ""}, {"next", end, t, "stdout", ""}}));
  EXPECT_EQ(out_.tooLong, (std::vector<uint64_t>{13}));
  EXPECT_EQ(out_.splits, 0);
  (void)before;
}

TEST_F(ContainerLogAssemblerTest, ALastPieceThatAloneIsTooLongIsDroppedAndNothingIsSkippedAfterIt) {
  auto a = make(ParserKind::kDocker, 4, LongLines::kDrop);
  const uint64_t end = feed(a, {R"({"log":"0123456789\n","stream":"stdout"})", R"({"log":"ok\n","stream":"stdout"})"});
  EXPECT_EQ(out_.records, (Records{{"ok", end, "", "stdout", ""}}));
  EXPECT_EQ(out_.tooLong, (std::vector<uint64_t>{10}));
}

TEST_F(ContainerLogAssemblerTest, AHeldLineGoesOutOnItsTimeoutAndWhenFlushed) {
  auto a = make(ParserKind::kCri);
  const uint64_t afterOut = feed(a, {cri("stdout", "P", "out ")});
  now_ += 2s;
  const uint64_t afterErr = feed(a, {cri("stderr", "P", "err ")});
  EXPECT_EQ(a.deadline(), kinship::Clock::TimePoint{} + 5s);
  EXPECT_FALSE(a.flushIfIdle(now_ + 2999ms, out_));
  EXPECT_TRUE(a.flushIfIdle(now_ + 3s, out_));
  // stdout went out as far as it came; the checkpoint stays before stderr's.
  EXPECT_EQ(out_.records, (Records{{"out ", afterOut, "2023-10-06T00:17:09.669794202Z", "stdout", ""}}));
  EXPECT_EQ(a.deadline(), now_ + 5s);
  a.flush(out_);
  ASSERT_EQ(out_.records.size(), 2u);
  EXPECT_EQ(out_.records[1], (Record{"err ", afterErr, "2023-10-06T00:17:09.669794202Z", "stderr", ""}));
  EXPECT_FALSE(a.holdsLine());
  EXPECT_EQ(a.deadline(), std::nullopt);
}

TEST_F(ContainerLogAssemblerTest, ALineBeingDroppedStopsBeingSkippedOnItsTimeout) {
  auto a = make(ParserKind::kCri, 4, LongLines::kDrop);
  feed(a, {cri("stdout", "P", "0123456789")});
  EXPECT_EQ(a.deadline(), now_ + 5s);
  EXPECT_FALSE(a.flushIfIdle(now_ + 5s, out_));  // nothing to ship, but no longer dropping
  EXPECT_EQ(a.deadline(), std::nullopt);
  const uint64_t end = feed(a, {cri("stdout", "F", "tail")});
  EXPECT_EQ(out_.records, (Records{{"tail", end, "2023-10-06T00:17:09.669794202Z", "stdout", ""}}));
}

TEST_F(ContainerLogAssemblerTest, RewindShipsWhatIsHeldAndStartsAgain) {
  auto a = make(ParserKind::kCri);
  const uint64_t end = feed(a, {cri("stdout", "P", "half")});
  a.rewind(0, out_);
  EXPECT_EQ(out_.records, (Records{{"half", end, "2023-10-06T00:17:09.669794202Z", "stdout", ""}}));
  offset_ = 0;
  const uint64_t again = feed(a, {cri("stdout", "F", "new")});
  EXPECT_EQ(out_.records.back().endOffset, again);
}

// Offsets never go back, whatever the interleaving.
TEST_F(ContainerLogAssemblerTest, OffsetsNeverGoBack) {
  auto a = make(ParserKind::kCri, 8, LongLines::kSplit);
  const char* streams[] = {"stdout", "stderr"};
  uint32_t rng = 12345;
  for (int i = 0; i < 2000; ++i) {
    rng = rng * 1103515245 + 12345;
    const std::string stream = streams[(rng >> 16) & 1];
    const std::string tag = ((rng >> 17) & 3) == 0 ? "F" : "P";
    const std::string log(((rng >> 19) & 7), 'x');
    if (((rng >> 22) & 15) == 0) {
      feed(a, {"garbage"});
    } else {
      feed(a, {cri(stream, tag, log)});
    }
    if (((rng >> 26) & 31) == 0) a.flushIfIdle(now_ + 10s, out_);
  }
  a.flush(out_);
  uint64_t last = 0;
  for (const auto& r : out_.records) {
    EXPECT_GE(r.endOffset, last);
    last = r.endOffset;
  }
  EXPECT_EQ(last, offset_);
}

// A long line's buffer is given back once it is shipped (or dropped): a
// node follows a file per container.
TEST_F(ContainerLogAssemblerTest, ALongLinesBufferIsGivenBack) {
  for (LongLines longLines : {LongLines::kSplit, LongLines::kDrop}) {
    auto a = make(ParserKind::kCri, 1 << 20, longLines);
    const std::string piece(300 * 1024, 'p');
    feed(a, {cri("stdout", "P", piece), cri("stdout", "P", piece)});
    EXPECT_GE(a.allocatedBytes(), 600u * 1024u);
    feed(a, {cri("stdout", "P", piece), cri("stdout", "F", "end")});
    EXPECT_LT(a.allocatedBytes(), 64u * 1024u);
    feed(a, {cri("stdout", "P", "small "), cri("stdout", "F", "one")});
    EXPECT_LT(a.allocatedBytes(), 64u * 1024u);
  }
  EXPECT_EQ(out_.records.back().log, "small one");
}
