// SegmentReader: one test for every outcome of checkHeader() and
// readFrame(), on hand-made files.

#include "spool/segment_reader.h"

#include <gtest/gtest.h>

#include "spool/spool_format.h"
#include "tests/support/fault_env.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/spool/test_batches.h"

namespace kinship::spool {
namespace {

using Outcome = SegmentReader::Outcome;
using kinship::testing::FaultEnv;
using kinship::testing::TempDir;
using kinship::testing::writeFileBytes;
using test::makeBatch;

class SegmentReaderTest : public ::testing::Test {
 protected:
  // A segment with a header and `frames` frames; offsets_ gets each frame's start.
  std::string segment(int frames) {
    std::string s = format::segmentHeader();
    offsets_.clear();
    for (int i = 0; i < frames; ++i) {
      offsets_.push_back(s.size());
      format::appendBatchFrame(makeBatch(i), 1000 + i, s);
    }
    return s;
  }
  SegmentReader open(std::string_view bytes) {
    writeFileBytes(path_, bytes);
    auto f = env_.openReadable(path_);
    EXPECT_TRUE(f.has_value());
    return SegmentReader(std::move(*f));
  }

  TempDir dir_;
  std::string path_ = dir_.path() + "/" + format::segmentFileName(1);
  FaultEnv env_;
  std::vector<uint64_t> offsets_;
};

TEST_F(SegmentReaderTest, ReadsEveryFrameThenEnd) {
  std::string s = segment(3);
  SegmentReader r = open(s);
  ASSERT_TRUE(r.checkHeader().isOk());
  uint64_t off = format::kSegmentHeaderSize;
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(r.readFrame(off, s.size()), Outcome::kFrame);
    EXPECT_EQ(off, offsets_[i]);
    pipeline::RecordBatch b;
    uint64_t ms;
    ASSERT_TRUE(format::decodeBatchPayload(r.payload(), b, ms).isOk());
    EXPECT_EQ(ms, 1000u + i);
    off = r.next();
  }
  EXPECT_EQ(r.readFrame(off, s.size()), Outcome::kEnd);
}

TEST_F(SegmentReaderTest, HeaderOfEmptyFile) {
  SegmentReader r = open("");
  EXPECT_EQ(r.checkHeader().code(), Status::Code::kCorruption);
}

TEST_F(SegmentReaderTest, HeaderCutShort) {
  SegmentReader r = open("KSPL\x01");
  EXPECT_EQ(r.checkHeader().code(), Status::Code::kCorruption);
}

TEST_F(SegmentReaderTest, HeaderBadMagic) {
  std::string s = segment(1);
  s[0] = 'X';
  SegmentReader r = open(s);
  EXPECT_EQ(r.checkHeader().code(), Status::Code::kCorruption);
}

TEST_F(SegmentReaderTest, HeaderBadVersion) {
  std::string s = segment(1);
  s[4] = 9;
  SegmentReader r = open(s);
  EXPECT_EQ(r.checkHeader().code(), Status::Code::kCorruption);
}

TEST_F(SegmentReaderTest, HeaderUnknownFlags) {
  std::string s = segment(1);
  s[7] = 1;
  SegmentReader r = open(s);
  EXPECT_EQ(r.checkHeader().code(), Status::Code::kCorruption);
}

TEST_F(SegmentReaderTest, HeaderReadError) {
  SegmentReader r = open(segment(1));
  env_.failRead(EIO);
  EXPECT_EQ(r.checkHeader().code(), Status::Code::kIoError);
}

TEST_F(SegmentReaderTest, FrameHeaderCutByLimit) {
  std::string s = segment(1);
  SegmentReader r = open(s);
  EXPECT_EQ(r.readFrame(offsets_[0], offsets_[0] + format::kFrameHeaderSize - 1), Outcome::kTruncated);
  EXPECT_EQ(r.status().code(), Status::Code::kCorruption);
}

TEST_F(SegmentReaderTest, FrameHeaderCutByEndOfFile) {
  std::string s = segment(1);
  s.resize(offsets_[0] + 4);
  SegmentReader r = open(s);
  // The caller believed the file was longer: it shrank.
  EXPECT_EQ(r.readFrame(offsets_[0], 1000), Outcome::kTruncated);
}

TEST_F(SegmentReaderTest, LengthPastLimit) {
  std::string s = segment(1);
  SegmentReader r = open(s);
  EXPECT_EQ(r.readFrame(offsets_[0], s.size() - 1), Outcome::kTruncated);
}

TEST_F(SegmentReaderTest, LengthFieldPointsPastEndOfFile) {
  std::string s = segment(1);
  format::putFixed32(s.data() + offsets_[0] + 4, 1u << 20);
  SegmentReader r = open(s);
  EXPECT_EQ(r.readFrame(offsets_[0], s.size()), Outcome::kTruncated);
}

TEST_F(SegmentReaderTest, PayloadCutByEndOfFile) {
  std::string s = segment(1);
  s.resize(s.size() - 3);
  SegmentReader r = open(s);
  EXPECT_EQ(r.readFrame(offsets_[0], s.size() + 3), Outcome::kTruncated);
}

TEST_F(SegmentReaderTest, LengthOverMaximumIsCorrupt) {
  std::string s = segment(1);
  format::putFixed32(s.data() + offsets_[0] + 4, format::kMaxPayloadBytes + 1);
  SegmentReader r = open(s);
  // Even with a limit that would allow it: never allocate what a bad length says.
  EXPECT_EQ(r.readFrame(offsets_[0], UINT64_MAX / 2), Outcome::kCorrupt);
}

TEST_F(SegmentReaderTest, ChecksumMismatchInPayload) {
  std::string s = segment(2);
  s[offsets_[0] + format::kFrameHeaderSize + 12] ^= 0x01;
  SegmentReader r = open(s);
  EXPECT_EQ(r.readFrame(offsets_[0], s.size()), Outcome::kCorrupt);
  EXPECT_NE(r.status().message().find("checksum"), std::string::npos);
}

TEST_F(SegmentReaderTest, ChecksumMismatchInLengthField) {
  std::string s = segment(2);
  // A shorter length still inside the file: only the CRC can tell.
  uint32_t len = format::getFixed32(s.data() + offsets_[0] + 4);
  format::putFixed32(s.data() + offsets_[0] + 4, len - 1);
  SegmentReader r = open(s);
  EXPECT_EQ(r.readFrame(offsets_[0], s.size()), Outcome::kCorrupt);
}

TEST_F(SegmentReaderTest, ChecksumFieldDamaged) {
  std::string s = segment(1);
  s[offsets_[0]] ^= 0x80;
  SegmentReader r = open(s);
  EXPECT_EQ(r.readFrame(offsets_[0], s.size()), Outcome::kCorrupt);
}

TEST_F(SegmentReaderTest, UnknownTypeWithValidChecksum) {
  std::string s = segment(1);
  char* h = s.data() + offsets_[0];
  h[8] = 7;
  format::putFixed32(h, format::maskCrc(format::crc32c(0, h + 4, s.size() - offsets_[0] - 4)));
  SegmentReader r = open(s);
  EXPECT_EQ(r.readFrame(offsets_[0], s.size()), Outcome::kCorrupt);
  EXPECT_NE(r.status().message().find("type"), std::string::npos);
}

TEST_F(SegmentReaderTest, ReadErrorOnFrameHeader) {
  std::string s = segment(1);
  SegmentReader r = open(s);
  env_.failRead(EIO);
  EXPECT_EQ(r.readFrame(offsets_[0], s.size()), Outcome::kIoError);
  EXPECT_EQ(r.status().code(), Status::Code::kIoError);
  // Transient: the same frame reads fine afterwards.
  EXPECT_EQ(r.readFrame(offsets_[0], s.size()), Outcome::kFrame);
}

TEST_F(SegmentReaderTest, ReadErrorOnPayload) {
  std::string s = segment(1);
  writeFileBytes(path_, s);
  // The frame header reads, the payload read fails.
  class FailSecond final : public ReadableFile {
   public:
    explicit FailSecond(std::unique_ptr<ReadableFile> f) : f_(std::move(f)) {}
    Result<size_t> read(uint64_t offset, size_t n, char* scratch) override {
      if (++calls_ == 2) return fail(Status::ioError("pread: Input/output error"));
      return f_->read(offset, n, scratch);
    }
    Result<size_t> readSome(uint64_t offset, size_t n, char* scratch) override { return f_->readSome(offset, n, scratch); }
    Result<uint64_t> size() override { return f_->size(); }
    Result<FileInfo> info() override { return f_->info(); }

   private:
    std::unique_ptr<ReadableFile> f_;
    int calls_ = 0;
  };
  auto f = env_.openReadable(path_);
  ASSERT_TRUE(f.has_value());
  SegmentReader r2(std::make_unique<FailSecond>(std::move(*f)));
  EXPECT_EQ(r2.readFrame(offsets_[0], s.size()), Outcome::kIoError);
}

}  // namespace
}  // namespace kinship::spool
