#include "inputs/file/file_tailer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "pipeline/pipeline.h"
#include "tests/support/fault_env.h"

using namespace kinship::inputs;
using kinship::pipeline::kParsePadding;

namespace {

struct Collector : LineReceiver {
  std::vector<std::string> lines;
  std::vector<uint64_t> endOffsets;
  std::vector<std::pair<std::string, uint64_t>> tooLong;
  int splits = 0;
  int rewinds = 0;
  unsigned paddingSum = 0;

  void onLineSplit() override { ++splits; }
  void onRewind() override { ++rewinds; }
  void onLine(std::string_view line, uint64_t endOffset) override {
    lines.emplace_back(line);
    endOffsets.push_back(endOffset);
    // The contract: kParsePadding bytes after the line are readable. Touch
    // them all so ASan reports a short buffer.
    for (size_t i = 0; i < kParsePadding; ++i) paddingSum += static_cast<unsigned char>(line.data()[line.size() + i]);
  }
  void onLineTooLong(const std::string& path, uint64_t bytes) override { tooLong.emplace_back(path, bytes); }
};

class FileTailerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kinship-tailer-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/app.log";
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  void write(const std::string& content) {  // replaces the file
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out << content;
  }
  void append(const std::string& content) {
    std::ofstream out(path_, std::ios::binary | std::ios::app);
    out << content;
  }

  std::unique_ptr<FileTailer> open(bool startAtEnd, FileTailer::Options options) {
    auto t = FileTailer::open(kinship::posixEnv(), path_, startAtEnd, options);
    EXPECT_TRUE(t.has_value()) << (t ? "" : t.error().message());
    return t ? std::move(*t) : nullptr;
  }

  // Reads until end of file; returns the number of kData blocks.
  static int drain(FileTailer& tailer, Collector& c) {
    int blocks = 0;
    for (int i = 0; i < 100000; ++i) {
      auto r = tailer.readBlock(c);
      EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message());
      if (!r || *r == FileTailer::ReadOutcome::kEndOfFile) return blocks;
      ++blocks;
    }
    ADD_FAILURE() << "no end of file";
    return blocks;
  }

  static FileTailer::Options small(size_t buffer, size_t maxLine = 1024, LongLines longLines = LongLines::kDrop) {
    FileTailer::Options o;
    o.readBufferSize = buffer;
    o.maxLineSize = maxLine;
    o.longLines = longLines;
    return o;
  }

  std::string dir_;
  std::string path_;
};

using Lines = std::vector<std::string>;

}  // namespace

TEST_F(FileTailerTest, SplitsLinesAcrossBlockBoundaries) {
  const std::string content = "alpha\nbravo-charlie-delta-echo\n\nfoxtrot\n" + std::string(50, 'g') + "\nh\n";
  const Lines expected = {"alpha", "bravo-charlie-delta-echo", "", "foxtrot", std::string(50, 'g'), "h"};
  write(content);
  for (size_t buffer : {1u, 2u, 3u, 5u, 7u, 16u, 17u, 64u, 4096u}) {
    auto t = open(false, small(buffer));
    ASSERT_NE(t, nullptr);
    Collector c;
    int blocks = drain(*t, c);
    EXPECT_EQ(c.lines, expected) << "buffer " << buffer;
    EXPECT_EQ(c.endOffsets, (std::vector<uint64_t>{6, 31, 32, 40, 91, 93})) << "buffer " << buffer;
    EXPECT_TRUE(c.tooLong.empty()) << "buffer " << buffer;
    EXPECT_EQ(t->consumedOffset(), content.size()) << "buffer " << buffer;
    EXPECT_EQ(t->readOffset(), content.size()) << "buffer " << buffer;
    if (buffer == 16) {
      EXPECT_GE(blocks, static_cast<int>(content.size() / 16));
    }
  }
}

TEST_F(FileTailerTest, StripsCrlf) {
  // The CR of "...\r\n" sits at the end of the first 16-byte block.
  const std::string content = std::string(15, 'a') + "\r\nb\r\n\r\nc\rd\n\r\n";
  write(content);
  auto t = open(false, small(16));
  Collector c;
  drain(*t, c);
  EXPECT_EQ(c.lines, (Lines{std::string(15, 'a'), "b", "", "c\rd", ""}));
  EXPECT_EQ(c.endOffsets, (std::vector<uint64_t>{17, 20, 22, 26, 28}));
}

TEST_F(FileTailerTest, FinalLineWithoutNewlineIsHeld) {
  write("one\ntw");
  auto t = open(false, small(16));
  Collector c;
  drain(*t, c);
  EXPECT_EQ(c.lines, Lines{"one"});
  EXPECT_EQ(t->consumedOffset(), 4u);
  EXPECT_EQ(t->readOffset(), 6u);

  append("o\nthr");
  drain(*t, c);
  EXPECT_EQ(c.lines, (Lines{"one", "two"}));
  EXPECT_EQ(t->consumedOffset(), 8u);
  EXPECT_EQ(t->readOffset(), 11u);

  append("ee");
  drain(*t, c);
  EXPECT_EQ(c.lines, (Lines{"one", "two"}));
  EXPECT_EQ(t->consumedOffset(), 8u);

  append("\n");
  drain(*t, c);
  EXPECT_EQ(c.lines, (Lines{"one", "two", "three"}));
  EXPECT_EQ(t->consumedOffset(), 14u);
  EXPECT_EQ(t->readOffset(), 14u);
}

TEST_F(FileTailerTest, HeldLineLongerThanTheBufferCompletesLater) {
  write("start\n" + std::string(40, 'p'));
  auto t = open(false, small(16, 100));
  Collector c;
  drain(*t, c);
  EXPECT_EQ(c.lines, Lines{"start"});
  EXPECT_EQ(t->consumedOffset(), 6u);
  append(std::string(10, 'q') + "\nend\n");
  drain(*t, c);
  EXPECT_EQ(c.lines, (Lines{"start", std::string(40, 'p') + std::string(10, 'q'), "end"}));
  EXPECT_TRUE(c.tooLong.empty());
}

TEST_F(FileTailerTest, EmptyLinesAreDelivered) {
  write("\n\n\nx\n\n");
  auto t = open(false, small(4096));
  Collector c;
  drain(*t, c);
  EXPECT_EQ(c.lines, (Lines{"", "", "", "x", ""}));
}

TEST_F(FileTailerTest, StartAtEndSkipsExistingContent) {
  write("old1\nold2\n");
  auto t = open(true, small(4096));
  Collector c;
  auto r = t->readBlock(c);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, FileTailer::ReadOutcome::kEndOfFile);
  EXPECT_TRUE(c.lines.empty());
  EXPECT_EQ(t->consumedOffset(), 10u);
  append("new\n");
  drain(*t, c);
  EXPECT_EQ(c.lines, Lines{"new"});
}

TEST_F(FileTailerTest, StartAtBeginningReadsExistingContent) {
  write("old1\nold2\n");
  auto t = open(false, small(4096));
  EXPECT_EQ(t->consumedOffset(), 0u);
  Collector c;
  drain(*t, c);
  EXPECT_EQ(c.lines, (Lines{"old1", "old2"}));
}

TEST_F(FileTailerTest, LongLineInsideOneBlockIsDropped) {
  write("short\n" + std::string(20, 'x') + "\nafter\n" + std::string(10, 'y') + "\n" + std::string(11, 'z') +
        "\r\nlast\n");
  auto t = open(false, small(4096, 10));
  Collector c;
  drain(*t, c);
  EXPECT_EQ(c.lines, (Lines{"short", "after", std::string(10, 'y'), "last"}));
  ASSERT_EQ(c.tooLong.size(), 2u);
  EXPECT_EQ(c.tooLong[0], std::make_pair(path_, uint64_t{20}));
  EXPECT_EQ(c.tooLong[1], std::make_pair(path_, uint64_t{11}));
}

TEST_F(FileTailerTest, LineOfExactlyMaxSizeWithCrlfIsKept) {
  // The buffer grows to maxLineSize + 2 so the line and its CRLF fit.
  write("a\n" + std::string(40, 'm') + "\r\nb\n");
  auto t = open(false, small(16, 40));
  Collector c;
  drain(*t, c);
  EXPECT_EQ(c.lines, (Lines{"a", std::string(40, 'm'), "b"}));
  EXPECT_TRUE(c.tooLong.empty());
}

TEST_F(FileTailerTest, LongLineSpanningBlocksIsDropped) {
  // maxLineSize above the buffer size: the buffer grows, then gives up.
  write("first\n" + std::string(100, 'x') + "\nsecond\nthird\n");
  auto t = open(false, small(16, 40));
  Collector c;
  drain(*t, c);
  EXPECT_EQ(c.lines, (Lines{"first", "second", "third"}));
  ASSERT_EQ(c.tooLong.size(), 1u);
  EXPECT_EQ(c.tooLong[0].first, path_);
  EXPECT_EQ(c.tooLong[0].second, 100u);
  EXPECT_EQ(t->consumedOffset(), 6u + 101u + 7u + 6u);
}

TEST_F(FileTailerTest, LongLineSpanningBlocksBelowBufferSize) {
  // maxLineSize below the buffer size.
  write("first\n" + std::string(100, 'x') + "\nsecond\n" + std::string(9, 'n') + "\nthird\n");
  auto t = open(false, small(16, 8));
  Collector c;
  drain(*t, c);
  EXPECT_EQ(c.lines, (Lines{"first", "second", "third"}));
  ASSERT_EQ(c.tooLong.size(), 2u);
  EXPECT_EQ(c.tooLong[0].second, 100u);
  EXPECT_EQ(c.tooLong[1].second, 9u);
}

TEST_F(FileTailerTest, ConsecutiveLongLinesAndLongLineAtTheEnd) {
  write(std::string(70, 'a') + "\n" + std::string(80, 'b') + "\nok\n" + std::string(90, 'c'));
  auto t = open(false, small(16, 20));
  Collector c;
  drain(*t, c);
  EXPECT_EQ(c.lines, Lines{"ok"});
  ASSERT_EQ(c.tooLong.size(), 2u);
  EXPECT_EQ(c.tooLong[0].second, 70u);
  EXPECT_EQ(c.tooLong[1].second, 80u);

  // The unfinished long line ends later: reported, and the next line arrives.
  append(std::string(10, 'c') + "\nafter\n");
  drain(*t, c);
  EXPECT_EQ(c.lines, (Lines{"ok", "after"}));
  ASSERT_EQ(c.tooLong.size(), 3u);
  EXPECT_EQ(c.tooLong[2].second, 100u);
}

TEST_F(FileTailerTest, LongLineWithDefaultSizedBuffer) {
  // A 3000-byte line with a 1 KiB limit and 256-byte reads.
  write("x\n" + std::string(3000, 'L') + "\ny\n");
  auto t = open(false, small(256, 1024));
  Collector c;
  drain(*t, c);
  EXPECT_EQ(c.lines, (Lines{"x", "y"}));
  ASSERT_EQ(c.tooLong.size(), 1u);
  EXPECT_EQ(c.tooLong[0].second, 3000u);
}

TEST_F(FileTailerTest, NulAndInvalidUtf8PassThrough) {
  const std::string odd1("a\0b\0", 4);
  const std::string odd2 = "\xff\xfe\xc3 \x80\xed\xa0\x80";
  write(odd1 + "\n" + odd2 + "\n" + std::string(1, '\0') + "\n");
  auto t = open(false, small(5));
  Collector c;
  drain(*t, c);
  EXPECT_EQ(c.lines, (Lines{odd1, odd2, std::string(1, '\0')}));
}

TEST_F(FileTailerTest, CopyTruncateRestartsFromTheStart) {
  write("line one is long\nline two is long\n");
  auto t = open(false, small(4096));
  Collector c;
  drain(*t, c);
  EXPECT_EQ(c.lines, (Lines{"line one is long", "line two is long"}));
  EXPECT_EQ(t->consumedOffset(), 34u);

  ASSERT_EQ(::truncate(path_.c_str(), 0), 0);
  append("new1\nnew2\n");
  drain(*t, c);
  EXPECT_EQ(c.lines, (Lines{"line one is long", "line two is long", "new1", "new2"}));
  EXPECT_EQ(c.endOffsets.back(), 10u);
  EXPECT_EQ(c.rewinds, 1);
  EXPECT_EQ(t->consumedOffset(), 10u);
}

TEST_F(FileTailerTest, CopyTruncateDropsAHeldPartialLine) {
  write("abc\npartial line");
  auto t = open(false, small(4096));
  Collector c;
  drain(*t, c);
  EXPECT_EQ(c.lines, Lines{"abc"});
  ASSERT_EQ(::truncate(path_.c_str(), 0), 0);
  append("x\n");
  drain(*t, c);
  EXPECT_EQ(c.lines, (Lines{"abc", "x"}));
}

TEST_F(FileTailerTest, CopyTruncateWhileSkippingALongLine) {
  write("a\n" + std::string(100, 'x'));
  auto t = open(false, small(16, 20));
  Collector c;
  drain(*t, c);
  EXPECT_EQ(c.lines, Lines{"a"});
  ASSERT_EQ(::truncate(path_.c_str(), 0), 0);
  append("fresh\n");
  drain(*t, c);
  EXPECT_EQ(c.lines, (Lines{"a", "fresh"}));
  EXPECT_TRUE(c.tooLong.empty());
}

TEST_F(FileTailerTest, DeletedWhileOpenIsReadToItsEnd) {
  write("a\n");
  auto t = open(false, small(16));
  Collector c;
  drain(*t, c);
  EXPECT_EQ(c.lines, Lines{"a"});

  int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::unlink(path_.c_str()), 0);
  const std::string more = "b\nwritten after unlink\nc";
  ASSERT_EQ(::write(fd, more.data(), more.size()), static_cast<ssize_t>(more.size()));
  ::close(fd);

  t->setDraining();
  EXPECT_TRUE(t->draining());
  drain(*t, c);
  EXPECT_EQ(c.lines, (Lines{"a", "b", "written after unlink"}));
  EXPECT_EQ(t->consumedOffset(), 2u + 2u + 21u);
}

TEST_F(FileTailerTest, IdentityAndPath) {
  write("x\n");
  auto t = open(false, small(16));
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(t->identity(), (FileIdentity{st.st_dev, st.st_ino}));
  EXPECT_EQ(t->path(), path_);
  EXPECT_FALSE(t->draining());
  t->setPath(dir_ + "/app.log.1");
  EXPECT_EQ(t->path(), dir_ + "/app.log.1");
  // onLineTooLong reports the current path.
  append(std::string(2000, 'x') + "\n");
  Collector c;
  FileTailer::Options o = small(16, 100);
  auto t2 = open(false, o);
  t2->setPath("renamed");
  drain(*t2, c);
  ASSERT_EQ(c.tooLong.size(), 1u);
  EXPECT_EQ(c.tooLong[0].first, "renamed");
}

TEST_F(FileTailerTest, OpenErrors) {
  auto missing = FileTailer::open(kinship::posixEnv(), dir_ + "/nope.log", false, FileTailer::Options{});
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), kinship::Status::Code::kIoError);
  EXPECT_NE(missing.error().message().find(dir_ + "/nope.log"), std::string::npos);

  auto directory = FileTailer::open(kinship::posixEnv(), dir_, false, FileTailer::Options{});
  ASSERT_FALSE(directory.has_value());
  EXPECT_EQ(directory.error().code(), kinship::Status::Code::kInvalidArgument);
  EXPECT_EQ(directory.error().message(), dir_ + " is not a regular file");
}

// A failing disk under a tailed file: the read reports the error (the file
// input logs it and tries again at its next pass), nothing is cut out of a
// block that was not read, and the next read carries on where it stopped.
TEST_F(FileTailerTest, AReadErrorIsReportedAndTheNextReadCarriesOn) {
  write("one\ntwo\nthr");
  kinship::testing::FaultEnv env;
  auto opened = FileTailer::open(env, path_, false, small(8));
  ASSERT_TRUE(opened.has_value()) << opened.error().message();
  FileTailer& t = **opened;
  Collector c;
  ASSERT_TRUE(t.readBlock(c).has_value());
  EXPECT_EQ(c.lines, (Lines{"one", "two"}));

  env.failRead(EIO);
  auto failed = t.readBlock(c);
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().code(), kinship::Status::Code::kIoError);
  EXPECT_NE(failed.error().message().find(path_), std::string::npos) << failed.error().message();
  EXPECT_NE(failed.error().message().find("Input/output error"), std::string::npos) << failed.error().message();
  EXPECT_EQ(c.lines, (Lines{"one", "two"}));
  EXPECT_EQ(t.readOffset(), 8u);

  append("ee\n");
  drain(t, c);
  EXPECT_EQ(c.lines, (Lines{"one", "two", "three"}));
  EXPECT_EQ(t.consumedOffset(), 14u);
}

// What the file input reads beside the blocks (the first bytes, the bytes
// before a position, the size) reports a failing disk the same way.
TEST_F(FileTailerTest, HeadTailAndSizeReportReadErrors) {
  write("one\ntwo\n");
  kinship::testing::FaultEnv env;
  auto opened = FileTailer::open(env, path_, false, small(64));
  ASSERT_TRUE(opened.has_value()) << opened.error().message();
  FileTailer& t = **opened;
  env.failRead(EIO);
  EXPECT_FALSE(t.readHead(64).has_value());
  env.failRead(EIO);
  std::string tail = "stale";
  EXPECT_FALSE(t.readBefore(8, 4, tail));
  EXPECT_TRUE(tail.empty());
  env.failStat(EIO);
  EXPECT_FALSE(t.size().has_value());
  env.failStat(EIO);
  Collector c;
  ASSERT_TRUE(t.readBlock(c).has_value()) << "a failed fstat only leaves the size as it was";
  EXPECT_EQ(c.lines, (Lines{"one", "two"}));
  EXPECT_EQ(*t.readHead(64), "one\ntwo\n");
}

TEST_F(FileTailerTest, OpenThroughAFailingDiskIsAnError) {
  write("one\n");
  kinship::testing::FaultEnv env;
  env.failOpenReadable(EACCES);
  auto refused = FileTailer::open(env, path_, false, small(64));
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), kinship::Status::Code::kIoError);
  EXPECT_NE(refused.error().message().find("Permission denied"), std::string::npos);
  env.failStat(EIO);
  auto unstated = FileTailer::open(env, path_, false, small(64));
  ASSERT_FALSE(unstated.has_value());
  EXPECT_EQ(unstated.error().code(), kinship::Status::Code::kIoError);
}

TEST_F(FileTailerTest, EmptyFileIsEndOfFile) {
  write("");
  auto t = open(false, small(16));
  Collector c;
  auto r = t->readBlock(c);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, FileTailer::ReadOutcome::kEndOfFile);
  EXPECT_EQ(t->consumedOffset(), 0u);
}

namespace {

TEST_F(FileTailerTest, ConsumedOffsetStaysAtTheStartOfALineBeingDropped) {
  // A checkpoint taken while a too-long line is being skipped must point at
  // its start, so a restart drops it again instead of shipping its tail.
  write("first\n" + std::string(100, 'x'));
  auto t = open(false, small(16, 40));
  Collector c;
  drain(*t, c);
  EXPECT_EQ(c.lines, (Lines{"first"}));
  EXPECT_EQ(t->consumedOffset(), 6u);
  append("x\nnext\n");
  drain(*t, c);
  EXPECT_EQ(c.lines, (Lines{"first", "next"}));
  EXPECT_EQ(t->consumedOffset(), 6u + 102u + 5u);
}

TEST_F(FileTailerTest, ResumesAtAGivenOffsetAndReadsItsHead) {
  write("one\ntwo\nthree\n");
  auto t = open(false, {});
  t->resumeAt(4);
  Collector c;
  drain(*t, c);
  EXPECT_EQ(c.lines, (Lines{"two", "three"}));
  auto head = t->readHead(6);
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(*head, "one\ntw");
  EXPECT_EQ(t->size().value(), 14u);
}

}  // namespace

// Truncated and written past the old offset between two looks: the size
// alone does not show it, the first bytes do.
TEST_F(FileTailerTest, RewrittenPastTheOldOffsetIsReadAgainFromTheStart) {
  write("old-1\nold-2\n");
  auto tailer = open(false, small(4096));
  Collector c;
  drain(*tailer, c);
  tailer->checkRewritten();  // learns the first bytes
  write("new-1 is longer than before\nnew-2\n");
  tailer->checkRewritten();
  EXPECT_EQ(tailer->readOffset(), 0u);
  drain(*tailer, c);
  EXPECT_EQ(c.lines, (Lines{"old-1", "old-2", "new-1 is longer than before", "new-2"}));
}

TEST_F(FileTailerTest, AppendsDoNotLookLikeARewrite) {
  write("a-1\n");
  auto tailer = open(false, small(4096));
  Collector c;
  drain(*tailer, c);
  tailer->checkRewritten();
  append("a-2\n");
  tailer->checkRewritten();
  EXPECT_EQ(tailer->readOffset(), 4u);
  drain(*tailer, c);
  EXPECT_EQ(c.lines, (Lines{"a-1", "a-2"}));
}

// partial_line_timeout: the held last line goes out whole when the input
// decides its writer is done with it.
TEST_F(FileTailerTest, FlushPartialLineHandsOutTheHeldLine) {
  write("one\ntw");
  auto t = open(false, small(16));
  Collector c;
  drain(*t, c);
  EXPECT_TRUE(t->holdsPartialLine());
  t->flushPartialLine(c);
  EXPECT_FALSE(t->holdsPartialLine());
  EXPECT_EQ(c.lines, (Lines{"one", "tw"}));
  EXPECT_EQ(c.endOffsets, (std::vector<uint64_t>{4, 6}));
  EXPECT_EQ(t->consumedOffset(), 6u);
  t->flushPartialLine(c);  // nothing held: nothing happens
  EXPECT_EQ(c.lines.size(), 2u);

  // Its late newline ends it and makes no empty line; later ones do.
  append("\n\nthree\n");
  drain(*t, c);
  EXPECT_EQ(c.lines, (Lines{"one", "tw", "", "three"}));
  EXPECT_EQ(t->consumedOffset(), 14u);
}

TEST_F(FileTailerTest, FlushedPartialLineContinuedLaterIsANewLine) {
  write("abc");
  auto t = open(false, small(4096));
  Collector c;
  drain(*t, c);
  t->flushPartialLine(c);
  append("def");
  drain(*t, c);
  t->flushPartialLine(c);  // flushed twice in a row: the writer is slow
  append("\r\nghi\n");
  drain(*t, c);
  EXPECT_EQ(c.lines, (Lines{"abc", "def", "ghi"}));
  EXPECT_EQ(c.endOffsets, (std::vector<uint64_t>{3, 6, 12}));
}

TEST_F(FileTailerTest, FlushPartialLineLeavesATrailingCrOut) {
  write("x\r");
  auto t = open(false, small(4096));
  Collector c;
  drain(*t, c);
  t->flushPartialLine(c);
  append("\ny\n");
  drain(*t, c);
  EXPECT_EQ(c.lines, (Lines{"x", "y"}));
}

TEST_F(FileTailerTest, FlushPartialLineReportsALongLineBeingDropped) {
  write("a\n" + std::string(100, 'x'));
  auto t = open(false, small(16, 20));
  Collector c;
  drain(*t, c);
  EXPECT_FALSE(t->holdsPartialLine());  // no timeout ends a line being dropped
  EXPECT_EQ(t->consumedOffset(), 2u);
  t->flushPartialLine(c);  // closing the file does
  EXPECT_EQ(c.lines, Lines{"a"});
  ASSERT_EQ(c.tooLong.size(), 1u);
  EXPECT_EQ(c.tooLong[0].second, 100u);
  EXPECT_EQ(t->consumedOffset(), 102u);
}

// long_lines: split.
TEST_F(FileTailerTest, SplitCutsLongLinesIntoMaxSizePieces) {
  const std::string content = "short\n" + std::string(10, 'a') + std::string(10, 'b') + "ccccc\n" +
                              std::string(10, 'd') + "\r\n" + std::string(20, 'e') + "\nend\n";
  write(content);
  for (size_t buffer : {1u, 3u, 7u, 11u, 12u, 16u, 64u, 4096u}) {
    auto t = open(false, small(buffer, 10, LongLines::kSplit));
    Collector c;
    drain(*t, c);
    EXPECT_EQ(c.lines, (Lines{"short", std::string(10, 'a'), std::string(10, 'b'), "ccccc", std::string(10, 'd'),
                              std::string(10, 'e'), std::string(10, 'e'), "end"}))
        << "buffer " << buffer;
    // Every piece ends at its own offset, so a checkpoint there resumes at the next piece.
    EXPECT_EQ(c.endOffsets, (std::vector<uint64_t>{6, 16, 26, 32, 44, 54, 65, 69}))
        << "buffer " << buffer;
    EXPECT_EQ(c.splits, 3) << "buffer " << buffer;
    EXPECT_TRUE(c.tooLong.empty());
    EXPECT_EQ(t->consumedOffset(), content.size());
  }
}

TEST_F(FileTailerTest, SplitResumesInsideALineAtAPieceBoundary) {
  write("x\n" + std::string(25, 'p') + "\n");
  auto t = open(false, small(4096, 10, LongLines::kSplit));
  t->resumeAt(12);  // after the first piece
  Collector c;
  drain(*t, c);
  EXPECT_EQ(c.lines, (Lines{std::string(10, 'p'), std::string(5, 'p')}));
  EXPECT_EQ(c.splits, 1);
}

TEST_F(FileTailerTest, SplitHandsOutPiecesBeforeTheLineEnds) {
  // A long line still being written: the full pieces go out, the rest is held.
  write(std::string(25, 'q'));
  auto t = open(false, small(8, 10, LongLines::kSplit));
  Collector c;
  drain(*t, c);
  EXPECT_EQ(c.lines, (Lines{std::string(10, 'q'), std::string(10, 'q')}));
  EXPECT_EQ(t->consumedOffset(), 20u);
  append("\n");
  drain(*t, c);
  EXPECT_EQ(c.lines, (Lines{std::string(10, 'q'), std::string(10, 'q'), std::string(5, 'q')}));
  EXPECT_EQ(c.splits, 2);
}

TEST_F(FileTailerTest, SplitFlushesAHeldLongLineInPieces) {
  write(std::string(11, 'r'));  // one byte over, no newline yet
  auto t = open(false, small(4096, 10, LongLines::kSplit));
  Collector c;
  drain(*t, c);
  EXPECT_TRUE(c.lines.empty());
  t->flushPartialLine(c);
  EXPECT_EQ(c.lines, (Lines{std::string(10, 'r'), "r"}));
  EXPECT_EQ(c.endOffsets, (std::vector<uint64_t>{10, 11}));
  EXPECT_EQ(c.splits, 1);
}

TEST_F(FileTailerTest, LagBytesIsWhatIsNotReadYet) {
  write("0123456789\n");
  auto t = open(false, small(4));
  EXPECT_EQ(t->lagBytes(), 0u);  // size not looked at yet
  t->refreshSize();
  EXPECT_EQ(t->lagBytes(), 11u);
  Collector c;
  ASSERT_TRUE(t->readBlock(c).has_value());
  EXPECT_EQ(t->lagBytes(), 7u);
  drain(*t, c);
  EXPECT_EQ(t->lagBytes(), 0u);
  append("more\n");
  t->refreshSize();
  EXPECT_EQ(t->lagBytes(), 5u);
}

// Issue 19: the tailers of an input read through one ReadBuffer, one at a
// time, and keep only their unfinished line.
namespace {

class SharedBufferTest : public FileTailerTest {
 protected:
  std::string pathOf(int i) const { return dir_ + "/f" + std::to_string(i) + ".log"; }
  static void appendTo(const std::string& path, const std::string& content) {
    std::ofstream out(path, std::ios::binary | std::ios::app);
    out << content;
  }
  std::unique_ptr<FileTailer> openShared(const std::string& path, const FileTailer::Options& options) {
    auto t = FileTailer::open(kinship::posixEnv(), path, false, options);
    EXPECT_TRUE(t.has_value()) << (t ? "" : t.error().message());
    return t ? std::move(*t) : nullptr;
  }
  // Reads one block of `t`; false at its end.
  static bool readOne(FileTailer& t, Collector& c) {
    auto r = t.readBlock(c);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message());
    return r && *r == FileTailer::ReadOutcome::kData;
  }
  static FileTailer::Options shared(size_t buffer, size_t maxLine = 1024, LongLines longLines = LongLines::kDrop) {
    FileTailer::Options o = small(buffer, maxLine, longLines);
    o.buffer = std::make_shared<ReadBuffer>(buffer);
    return o;
  }
};

}  // namespace

TEST_F(SharedBufferTest, ManyFilesThroughOneBufferDeliverEveryLineOnce) {
  // 200 files, each written in five appends cut anywhere (mostly inside a
  // line), read round robin one 64-byte block at a time: lines of every
  // length cross block ends while the block is used by other files.
  constexpr int kFiles = 200;
  FileTailer::Options options = shared(64);
  std::vector<std::unique_ptr<FileTailer>> tailers;
  std::vector<Collector> got(kFiles);
  std::vector<Lines> expected(kFiles);
  std::vector<std::string> contents(kFiles);
  for (int i = 0; i < kFiles; ++i) {
    for (int l = 0; l < 12; ++l) {
      std::string line = "file " + std::to_string(i) + " line " + std::to_string(l) + " " +
                         std::string(static_cast<size_t>((i * 7 + l * 13) % 150), 'a' + l % 26);
      expected[i].push_back(line);
      contents[i] += line + (l % 4 == 3 ? "\r\n" : "\n");
    }
    appendTo(pathOf(i), "");
    tailers.push_back(openShared(pathOf(i), options));
  }
  // The tailers hold the one buffer; none has one of its own.
  EXPECT_EQ(options.buffer.use_count(), kFiles + 1);

  for (int step = 0; step < 5; ++step) {
    for (int i = 0; i < kFiles; ++i) {
      const size_t size = contents[i].size();
      const size_t from = size * step / 5 + (step == 0 ? 0 : static_cast<size_t>(i % 11));
      const size_t to = step == 4 ? size : size * (step + 1) / 5 + static_cast<size_t>(i % 11);
      appendTo(pathOf(i), contents[i].substr(from, to - from));
    }
    // One block per file per turn, until every file is at its end.
    for (bool more = true; more;) {
      more = false;
      for (int i = 0; i < kFiles; ++i) more = readOne(*tailers[i], got[i]) || more;
    }
  }
  for (int i = 0; i < kFiles; ++i) {
    EXPECT_EQ(got[i].lines, expected[i]) << "file " << i;
    EXPECT_TRUE(got[i].tooLong.empty()) << "file " << i;
    EXPECT_EQ(tailers[i]->consumedOffset(), contents[i].size()) << "file " << i;
    EXPECT_EQ(got[i].endOffsets.back(), contents[i].size()) << "file " << i;
    // Every line ended: nothing held, no memory of its own.
    EXPECT_FALSE(tailers[i]->holdsPartialLine());
    EXPECT_EQ(tailers[i]->heldCapacity(), 0u) << "file " << i;
  }
}

TEST_F(SharedBufferTest, UnfinishedLinesAreKeptAcrossReadsOfOtherFiles) {
  FileTailer::Options options = shared(4096);
  appendTo(pathOf(0), "one\ntw");
  appendTo(pathOf(1), "alpha\nbra");
  auto a = openShared(pathOf(0), options);
  auto b = openShared(pathOf(1), options);
  Collector ca;
  Collector cb;
  EXPECT_TRUE(readOne(*a, ca));
  // What a held is its own: b's read overwrites the block.
  EXPECT_EQ(a->heldBytes(), 2u);
  EXPECT_GE(a->heldCapacity(), 2u + kParsePadding);
  EXPECT_TRUE(readOne(*b, cb));
  EXPECT_EQ(b->heldBytes(), 3u);
  EXPECT_FALSE(readOne(*a, ca));
  EXPECT_FALSE(readOne(*b, cb));
  EXPECT_EQ(ca.lines, Lines{"one"});
  EXPECT_EQ(cb.lines, Lines{"alpha"});
  EXPECT_EQ(a->consumedOffset(), 4u);
  EXPECT_EQ(b->consumedOffset(), 6u);

  appendTo(pathOf(1), "vo\r");
  appendTo(pathOf(0), "o\nthree\nfo");
  EXPECT_TRUE(readOne(*b, cb));  // b's line grows, still unfinished
  EXPECT_TRUE(readOne(*a, ca));
  EXPECT_EQ(ca.lines, (Lines{"one", "two", "three"}));
  EXPECT_EQ(ca.endOffsets, (std::vector<uint64_t>{4, 8, 14}));
  EXPECT_EQ(b->heldBytes(), 6u);
  appendTo(pathOf(1), "\ncharlie\n");
  EXPECT_TRUE(readOne(*b, cb));
  EXPECT_EQ(cb.lines, (Lines{"alpha", "bravo", "charlie"}));
  EXPECT_EQ(cb.endOffsets, (std::vector<uint64_t>{6, 13, 21}));
  EXPECT_EQ(b->heldBytes(), 0u);
  EXPECT_EQ(b->heldCapacity(), 0u);

  // A held line handed out by the timeout comes from the tailer's own copy,
  // whatever the block holds now.
  EXPECT_EQ(a->heldBytes(), 2u);
  appendTo(pathOf(1), "delta\n");
  EXPECT_TRUE(readOne(*b, cb));
  a->flushPartialLine(ca);
  EXPECT_EQ(ca.lines, (Lines{"one", "two", "three", "fo"}));
  EXPECT_EQ(ca.endOffsets.back(), 16u);
  EXPECT_EQ(a->heldCapacity(), 0u);
}

TEST_F(SharedBufferTest, AnOversizedUnfinishedLineInOneFileDoesNotAffectTheOthers) {
  // max_line_size 100, 32-byte reads. File 0 writes a line that never ends
  // while file 1 writes short lines; the reads alternate.
  for (LongLines mode : {LongLines::kDrop, LongLines::kSplit}) {
    SCOPED_TRACE(mode == LongLines::kDrop ? "drop" : "split");
    std::filesystem::remove(pathOf(0));
    std::filesystem::remove(pathOf(1));
    FileTailer::Options options = shared(32, 100, mode);
    appendTo(pathOf(0), "");
    appendTo(pathOf(1), "");
    auto big = openShared(pathOf(0), options);
    auto other = openShared(pathOf(1), options);
    Collector cbig;
    Collector cother;
    Lines otherExpected;
    size_t maxHeld = 0;
    for (int round = 0; round < 40; ++round) {
      appendTo(pathOf(0), std::string(13, 'L'));
      std::string line = "other " + std::to_string(round);
      otherExpected.push_back(line);
      appendTo(pathOf(1), line + "\n");
      while (readOne(*big, cbig)) maxHeld = std::max(maxHeld, big->heldCapacity());
      while (readOne(*other, cother)) {
      }
      EXPECT_EQ(cother.lines, otherExpected) << "round " << round;
      EXPECT_FALSE(other->holdsPartialLine());
    }
    // Its own copy never grows past the limit, plus the CR of a CRLF, the
    // newline and the padding, whatever the line's length (520 bytes here).
    EXPECT_LE(maxHeld, 100u + 2u + kParsePadding);
    EXPECT_GT(maxHeld, 0u);
    appendTo(pathOf(0), "\nafter\n");
    while (readOne(*big, cbig)) {
    }
    if (mode == LongLines::kDrop) {
      EXPECT_EQ(cbig.lines, Lines{"after"});
      ASSERT_EQ(cbig.tooLong.size(), 1u);
      EXPECT_EQ(cbig.tooLong[0].second, 520u);
    } else {
      EXPECT_EQ(cbig.lines, (Lines{std::string(100, 'L'), std::string(100, 'L'), std::string(100, 'L'),
                                   std::string(100, 'L'), std::string(100, 'L'), std::string(20, 'L'), "after"}));
      EXPECT_EQ(cbig.endOffsets, (std::vector<uint64_t>{100, 200, 300, 400, 500, 521, 527}));
      EXPECT_EQ(cbig.splits, 5);
    }
    EXPECT_EQ(big->consumedOffset(), 527u);
    EXPECT_EQ(big->heldCapacity(), 0u);
    EXPECT_TRUE(cother.tooLong.empty());
  }
}

// Whatever the appends and the reads of other files in between, the lines,
// their offsets and the cuts are those of the whole file read at once.
TEST_F(SharedBufferTest, LinesDoNotDependOnHowTheFilesWereCutIntoReads) {
  for (LongLines mode : {LongLines::kDrop, LongLines::kSplit}) {
    SCOPED_TRACE(mode == LongLines::kDrop ? "drop" : "split");
    constexpr int kFiles = 8;
    constexpr size_t kMax = 40;
    std::mt19937 random(19);
    std::vector<std::string> contents(kFiles);
    for (int i = 0; i < kFiles; ++i) {
      std::filesystem::remove(pathOf(i));
      for (int l = 0; l < 150; ++l) {
        // Mostly short lines, some at and around the limit, some far over it.
        size_t length = random() % 10 == 0  ? kMax - 2 + random() % 5
                        : random() % 4 == 0 ? random() % 200
                                            : random() % 30;
        std::string line(length, static_cast<char>('a' + l % 26));
        contents[i] += line + (random() % 3 == 0 ? "\r\n" : "\n");
      }
    }
    // The reference: each file whole, read through a block bigger than it.
    std::vector<Collector> reference(kFiles);
    for (int i = 0; i < kFiles; ++i) {
      appendTo(pathOf(i), contents[i]);
      auto t = openShared(pathOf(i), shared(64 * 1024, kMax, mode));
      while (readOne(*t, reference[i])) {
      }
      std::filesystem::remove(pathOf(i));
      appendTo(pathOf(i), "");
    }
    // The same files appended in random pieces, read through one shared
    // 16-byte block in a random order.
    FileTailer::Options options = shared(16, kMax, mode);
    std::vector<std::unique_ptr<FileTailer>> tailers;
    for (int i = 0; i < kFiles; ++i) tailers.push_back(openShared(pathOf(i), options));
    std::vector<Collector> got(kFiles);
    std::vector<size_t> written(kFiles, 0);
    for (bool more = true; more;) {
      more = false;
      for (int i = 0; i < kFiles; ++i) {
        size_t piece = std::min<size_t>(random() % 60, contents[i].size() - written[i]);
        appendTo(pathOf(i), contents[i].substr(written[i], piece));
        written[i] += piece;
        more = more || written[i] < contents[i].size();
      }
      for (int reads = 0; reads < kFiles * 3; ++reads) {
        int i = static_cast<int>(random() % kFiles);
        readOne(*tailers[i], got[i]);
        EXPECT_LE(tailers[i]->heldCapacity(), kMax + 2 + kParsePadding);
      }
    }
    for (int i = 0; i < kFiles; ++i) {
      while (readOne(*tailers[i], got[i])) {
      }
      EXPECT_EQ(got[i].lines, reference[i].lines) << "file " << i;
      EXPECT_EQ(got[i].endOffsets, reference[i].endOffsets) << "file " << i;
      EXPECT_EQ(got[i].splits, reference[i].splits) << "file " << i;
      EXPECT_EQ(got[i].tooLong.size(), reference[i].tooLong.size()) << "file " << i;
      EXPECT_EQ(tailers[i]->consumedOffset(), contents[i].size()) << "file " << i;
    }
  }
}
