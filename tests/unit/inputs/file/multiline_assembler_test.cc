#include "inputs/file/multiline_assembler.h"

#include <gtest/gtest.h>
#include <re2/re2.h>

#include <chrono>
#include <string>
#include <vector>

#include "pipeline/pipeline.h"

using namespace kinship::inputs;
using namespace std::chrono_literals;
using kinship::pipeline::kParsePadding;

namespace {

struct Records : RecordReceiver {
  std::vector<std::string> records;
  std::vector<uint64_t> endOffsets;
  int cuts = 0;
  unsigned paddingSum = 0;

  void onRecord(std::string_view record, uint64_t endOffset, const kinship::pipeline::ContainerLine*) override {
    records.emplace_back(record);
    endOffsets.push_back(endOffset);
    // The padding after the record must be readable (ASan checks).
    for (size_t i = 0; i < kParsePadding; ++i) paddingSum += static_cast<unsigned char>(record.data()[record.size() + i]);
  }
  void onRecordCut() override { ++cuts; }
};

using Strings = std::vector<std::string>;
using Offsets = std::vector<uint64_t>;

class MultilineAssemblerTest : public ::testing::Test {
 protected:
  // Feeds lines as a file would: each ends one byte (its newline) after the
  // previous line's end.
  void feed(MultilineAssembler& m, const Strings& lines) {
    for (const auto& line : lines) {
      offset_ += line.size() + 1;
      add(m, line, offset_);
    }
  }
  // As the tailer hands lines out: with readable padding after them.
  void add(MultilineAssembler& m, const std::string& line, uint64_t endOffset, bool continuesLine = false) {
    std::string padded = line + std::string(kParsePadding, '\0');
    m.addLine(std::string_view(padded.data(), line.size()), endOffset, now_, out_, continuesLine);
  }

  const re2::RE2 timestamp_{R"(^\d{4}-\d{2}-\d{2} )"};
  kinship::Clock::TimePoint now_{};
  uint64_t offset_ = 0;
  Records out_;
};

}  // namespace

TEST_F(MultilineAssemblerTest, JoinsAJavaStackTrace) {
  MultilineAssembler m(timestamp_, 1 << 20, 1s, 0);
  feed(m, {
              "2024-05-01 12:00:00 INFO started",
              "2024-05-01 12:00:01 ERROR request failed",
              "java.lang.IllegalStateException: boom",
              "\tat com.example.Service.handle(Service.java:42)",
              "\tat com.example.Server.run(Server.java:7)",
              "Caused by: java.io.IOException: closed",
              "\t... 2 more",
              "2024-05-01 12:00:02 INFO next",
          });
  EXPECT_EQ(out_.records, (Strings{
                              "2024-05-01 12:00:00 INFO started",
                              "2024-05-01 12:00:01 ERROR request failed\n"
                              "java.lang.IllegalStateException: boom\n"
                              "\tat com.example.Service.handle(Service.java:42)\n"
                              "\tat com.example.Server.run(Server.java:7)\n"
                              "Caused by: java.io.IOException: closed\n"
                              "\t... 2 more",
                          }));
  // Each record's offset is past its own last line; the record still
  // being joined is not covered.
  EXPECT_EQ(out_.endOffsets, (Offsets{33, 33 + 41 + 38 + 48 + 42 + 39 + 12}));
  EXPECT_TRUE(m.holdsRecord());
  m.flush(out_);
  EXPECT_FALSE(m.holdsRecord());
  EXPECT_EQ(out_.records.back(), "2024-05-01 12:00:02 INFO next");
  EXPECT_EQ(out_.endOffsets.back(), offset_);
  EXPECT_EQ(out_.cuts, 0);
}

TEST_F(MultilineAssemblerTest, LinesBeforeTheFirstStartAreRecordsOfTheirOwn) {
  MultilineAssembler m(timestamp_, 1 << 20, 1s, 100);
  feed(m, {"\tat orphan.Frame(A.java:1)", "", "more", "2024-05-01 start", "cont"});
  EXPECT_EQ(out_.records, (Strings{"\tat orphan.Frame(A.java:1)", "", "more"}));
  m.flush(out_);
  EXPECT_EQ(out_.records.back(), "2024-05-01 start\ncont");
}

TEST_F(MultilineAssemblerTest, TimeoutShipsTheHeldRecord) {
  MultilineAssembler m(timestamp_, 1 << 20, 1s, 0);
  EXPECT_EQ(m.deadline(), std::nullopt);
  feed(m, {"2024-05-01 a", "x"});
  ASSERT_TRUE(m.deadline().has_value());
  EXPECT_EQ(*m.deadline(), now_ + 1s);

  EXPECT_FALSE(m.flushIfIdle(now_ + 999ms, out_));
  now_ += 600ms;
  feed(m, {"y"});  // a new line restarts the clock
  EXPECT_FALSE(m.flushIfIdle(now_ + 999ms, out_));
  EXPECT_TRUE(out_.records.empty());
  EXPECT_TRUE(m.flushIfIdle(now_ + 1s, out_));
  EXPECT_EQ(out_.records, Strings{"2024-05-01 a\nx\ny"});
  EXPECT_EQ(m.deadline(), std::nullopt);
  EXPECT_FALSE(m.flushIfIdle(now_ + 1h, out_));

  // Lines after a timeout that do not start a record are joined into one
  // record of their own (the rest of a slow trace), not shipped one by one.
  feed(m, {"z1", "z2"});
  m.flush(out_);
  EXPECT_EQ(out_.records, (Strings{"2024-05-01 a\nx\ny", "z1\nz2"}));
}

TEST_F(MultilineAssemblerTest, MaxSizeShipsTheRecordAndTheRestContinues) {
  // 2024-05-01 s = 12 bytes; each "+ 1234567" line adds 10 with its "\n".
  MultilineAssembler m(timestamp_, 40, 1s, 0);
  feed(m, {"2024-05-01 s", "+ 1234567", "+ 1234567", "+ 1234567", "+ 1234567", "+ 1234567"});
  ASSERT_EQ(out_.records.size(), 1u);
  EXPECT_EQ(out_.records[0], "2024-05-01 s\n+ 1234567\n+ 1234567");  // 32 bytes: 42 would not fit
  EXPECT_EQ(out_.endOffsets[0], 13u + 10 + 10);
  EXPECT_EQ(out_.cuts, 1);
  m.flush(out_);
  EXPECT_EQ(out_.records[1], "+ 1234567\n+ 1234567\n+ 1234567");
  EXPECT_EQ(out_.endOffsets[1], offset_);
  for (const auto& r : out_.records) EXPECT_LE(r.size(), 40u);
}

TEST_F(MultilineAssemblerTest, ALineLongerThanMaxSizeIsCutIntoPieces) {
  MultilineAssembler m(timestamp_, 12, 1s, 50);
  feed(m, {"2024-05-01 start line is long", "c"});
  // Pieces of one line carry the offset of that line's start: a restart
  // after them reads the whole line again rather than lose its rest.
  EXPECT_EQ(out_.records, (Strings{"2024-05-01 s", "tart line is"}));
  EXPECT_EQ(out_.endOffsets, (Offsets{50, 50}));
  EXPECT_EQ(out_.cuts, 2);
  m.flush(out_);
  EXPECT_EQ(out_.records.back(), " long\nc");
  EXPECT_EQ(out_.endOffsets.back(), offset_);
}

TEST_F(MultilineAssemblerTest, RewindShipsTheHeldRecordAndForgetsTheStart) {
  MultilineAssembler m(timestamp_, 1 << 20, 1s, 0);
  feed(m, {"2024-05-01 old", "old cont"});
  m.rewind(0, out_);
  EXPECT_EQ(out_.records, Strings{"2024-05-01 old\nold cont"});
  offset_ = 0;
  feed(m, {"before any start"});
  EXPECT_EQ(out_.records.back(), "before any start");
  EXPECT_EQ(out_.endOffsets.back(), 17u);
}

TEST_F(MultilineAssemblerTest, AnEmptyStartLineIsARecord) {
  const re2::RE2 anything{""};  // every line starts a record
  MultilineAssembler m(anything, 100, 1s, 0);
  feed(m, {"", "a", ""});
  m.flush(out_);
  EXPECT_EQ(out_.records, (Strings{"", "a", ""}));
}

// Pieces of a line that long_lines: split cut join without a "\n", and a
// piece never starts a record even when it looks like a start line.
TEST_F(MultilineAssemblerTest, PiecesOfASplitLineJoinWithoutSeparator) {
  MultilineAssembler m(timestamp_, 1 << 20, 1s, 0);
  add(m, "2024-05-01 start", 17);
  add(m, "long line, piece 1;", 36);
  add(m, "2024-05-01 piece 2", 54, /*continuesLine=*/true);
  add(m, "2024-05-01 next", 70);
  EXPECT_EQ(out_.records, Strings{"2024-05-01 start\nlong line, piece 1;2024-05-01 piece 2"});
  EXPECT_EQ(out_.endOffsets, Offsets{54});
}
