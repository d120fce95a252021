// File positions in the disk spool (issue 15): frames of type 2 carry where
// their batch ends in its file; a reopened spool reports the newest durable
// position of each file, including files whose segments were deleted
// (POSITIONS), never a position whose frame was not fsynced yet, and a
// damaged POSITIONS file costs only re-reading.

#include <gtest/gtest.h>

#include "fault_env.h"
#include "spool/disk_spool.h"
#include "spool/source_positions.h"
#include "spool/spool_format.h"

namespace kinship::spool {
namespace {

using test::FaultEnv;
using test::makeBatch;
using test::ManualClock;
using test::TempDir;
using namespace std::chrono_literals;

std::shared_ptr<const pipeline::SourceFile> fileOf(const std::string& input, uint64_t inode, std::string head = "first bytes") {
  return std::make_shared<const pipeline::SourceFile>(
      pipeline::SourceFile{input, 2049, inode, std::move(head), "/var/log/app/" + std::to_string(inode) + ".log"});
}

pipeline::RecordBatch fileBatch(int n, const std::shared_ptr<const pipeline::SourceFile>& file, uint64_t endOffset) {
  pipeline::RecordBatch b = makeBatch(n);
  b.setSource(nullptr, 1, endOffset);
  b.setSourceFile(file);
  return b;
}

// input/inode -> offset
std::map<std::string, uint64_t> offsets(const std::vector<pipeline::SourcePosition>& positions) {
  std::map<std::string, uint64_t> out;
  for (const auto& p : positions) out[p.file.input + "/" + std::to_string(p.file.inode)] = p.offset;
  return out;
}

class SpoolPositionsTest : public ::testing::Test {
 protected:
  SpoolOptions options(FsyncPolicy fsync = FsyncPolicy::kNever) {
    SpoolOptions o;
    o.dir = dir_.path() + "/spool";
    o.env = &env_;
    o.clock = &clock_;
    o.segmentBytes = 1024;
    o.maxTotalBytes = 1 << 20;
    o.fsync = fsync;
    o.fsyncInterval = 1s;
    return o;
  }
  std::unique_ptr<Spool> open(const SpoolOptions& o) {
    auto s = openDiskSpool(o);
    EXPECT_TRUE(s.has_value()) << s.error().message();
    return s ? std::move(*s) : nullptr;
  }

  TempDir dir_;
  FaultEnv env_;
  ManualClock clock_;
};

TEST(SpoolFormatPositionsTest, AFileBatchFrameRoundTripsWithItsPosition) {
  auto file = fileOf("file_0", 77, std::string("\x00\xff{\"a\":1}", 10));
  pipeline::RecordBatch batch = fileBatch(5, file, 123456);
  std::string frame;
  format::appendBatchFrame(batch, 42, frame);
  EXPECT_EQ(frame.size(), format::batchFrameSize(batch));
  EXPECT_EQ(static_cast<uint8_t>(frame[8]), format::kFrameTypeFileBatch);

  pipeline::RecordBatch decoded;
  pipeline::SourcePosition position;
  bool hasPosition = false;
  uint64_t appendMs = 0;
  std::string_view payload = std::string_view(frame).substr(format::kFrameHeaderSize);
  ASSERT_TRUE(format::decodeFramePayload(format::kFrameTypeFileBatch, payload, decoded, appendMs, &position, &hasPosition));
  EXPECT_TRUE(hasPosition);
  EXPECT_EQ(appendMs, 42u);
  EXPECT_TRUE(test::sameBatch(decoded, batch));
  EXPECT_EQ(position.file.input, "file_0");
  EXPECT_EQ(position.file.device, 2049u);
  EXPECT_EQ(position.file.inode, 77u);
  EXPECT_EQ(position.file.fingerprint, file->fingerprint);
  EXPECT_EQ(position.file.path, "/var/log/app/77.log");
  EXPECT_EQ(position.offset, 123456u);

  // A batch without a source file is a plain type 1 frame, as before.
  std::string plain;
  format::appendBatchFrame(makeBatch(5), 42, plain);
  EXPECT_EQ(static_cast<uint8_t>(plain[8]), format::kFrameTypeBatch);
  // Cut anywhere inside the position, the payload is corrupt.
  for (size_t cut = 1; cut < 20; ++cut) {
    EXPECT_FALSE(format::decodeFramePayload(format::kFrameTypeFileBatch, payload.substr(0, cut), decoded, appendMs,
                                            &position, &hasPosition))
        << cut;
  }
}

TEST(SpoolFormatPositionsTest, ThePositionsFileRoundTripsAndRefusesDamage) {
  std::vector<pipeline::SourcePosition> positions{{*fileOf("file_0", 1), 10}, {*fileOf("file_1", 2), 20}};
  std::string bytes = format::encodePositionsFile(positions);
  std::vector<pipeline::SourcePosition> back;
  ASSERT_TRUE(format::decodePositionsFile(bytes, back));
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[1].file.input, "file_1");
  EXPECT_EQ(back[1].offset, 20u);
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string flipped = bytes;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x40);
    EXPECT_FALSE(format::decodePositionsFile(flipped, back)) << "byte " << i;
    EXPECT_TRUE(back.empty());
  }
  EXPECT_FALSE(format::decodePositionsFile(bytes.substr(0, bytes.size() - 1), back));
  EXPECT_FALSE(format::decodePositionsFile("", back));
}

TEST_F(SpoolPositionsTest, AReopenedSpoolGivesTheNewestPositionOfEachFile) {
  auto a = fileOf("file_0", 1);
  auto b = fileOf("file_0", 2);
  {
    auto s = open(options());
    ASSERT_TRUE(s->append(fileBatch(0, a, 100)));
    ASSERT_TRUE(s->append(fileBatch(1, b, 50)));
    ASSERT_TRUE(s->append(fileBatch(2, a, 200)));
    ASSERT_TRUE(s->append(makeBatch(3)));  // a socket's batch: no position
    EXPECT_EQ(offsets(s->positions()), (std::map<std::string, uint64_t>{{"file_0/1", 200}, {"file_0/2", 50}}));
  }
  auto s = open(options());
  EXPECT_EQ(offsets(s->positions()), (std::map<std::string, uint64_t>{{"file_0/1", 200}, {"file_0/2", 50}}));
  auto positions = s->positions();
  EXPECT_EQ(positions[0].file.fingerprint, "first bytes");
}

TEST_F(SpoolPositionsTest, PositionsOutliveTheSegmentsTheyCameFrom) {
  auto a = fileOf("file_0", 1);
  auto b = fileOf("file_0", 2);
  {
    auto s = open(options());
    // File a's frames fill several segments, then file b's fill several
    // more; everything is read and acknowledged, so every sealed segment,
    // and with them every frame of file a, is deleted.
    for (int n = 0; n < 30; ++n) ASSERT_TRUE(s->append(fileBatch(n, a, 100 * (n + 1))));
    for (int n = 30; n < 60; ++n) ASSERT_TRUE(s->append(fileBatch(n, b, 10 * n)));
    for (;;) {
      auto r = s->readNext();
      ASSERT_TRUE(r.has_value());
      if (!*r) break;
      ASSERT_TRUE(s->ack((*r)->id));
    }
    EXPECT_LT(s->stats().segments, 3u) << "segments were deleted";
  }
  auto s = open(options());
  EXPECT_EQ(offsets(s->positions()), (std::map<std::string, uint64_t>{{"file_0/1", 3000}, {"file_0/2", 590}}));
}

TEST_F(SpoolPositionsTest, APositionCountsOnlyOnceItsFrameIsFsynced) {
  auto a = fileOf("file_0", 1);
  auto s = open(options(FsyncPolicy::kInterval));
  ASSERT_TRUE(s->append(fileBatch(0, a, 100)));  // within the interval: written, not fsynced
  EXPECT_TRUE(s->positions().empty());
  ASSERT_TRUE(s->sync());
  EXPECT_EQ(offsets(s->positions()), (std::map<std::string, uint64_t>{{"file_0/1", 100}}));
  clock_.advance(100ms);
  ASSERT_TRUE(s->append(fileBatch(1, a, 200)));
  EXPECT_EQ(offsets(s->positions()), (std::map<std::string, uint64_t>{{"file_0/1", 100}}));
  clock_.advance(1s);
  ASSERT_TRUE(s->append(fileBatch(2, a, 300)));  // the interval is over: this append fsyncs
  EXPECT_EQ(offsets(s->positions()), (std::map<std::string, uint64_t>{{"file_0/1", 300}}));
}

TEST_F(SpoolPositionsTest, ADamagedPositionsFileCostsOnlyItsPositions) {
  auto a = fileOf("file_0", 1);
  auto b = fileOf("file_1", 9);
  {
    auto s = open(options());
    for (int n = 0; n < 30; ++n) ASSERT_TRUE(s->append(fileBatch(n, a, 100 * (n + 1))));
    for (;;) {
      auto r = s->readNext();
      ASSERT_TRUE(r.has_value());
      if (!*r) break;
      ASSERT_TRUE(s->ack((*r)->id));
    }
    ASSERT_TRUE(s->append(fileBatch(30, b, 7)));
  }
  const std::string path = options().dir + "/POSITIONS";
  std::string bytes = test::readFileBytes(path);
  ASSERT_FALSE(bytes.empty());
  bytes[bytes.size() - 1] ^= 1;
  test::writeFileBytes(path, bytes);
  auto s = open(options());
  // file_0's frames are gone with their segments (only the last one is
  // left); file_1's frame is still there.
  auto got = offsets(s->positions());
  EXPECT_EQ(got["file_1/9"], 7u);
  EXPECT_LE(got.count("file_0/1") ? got["file_0/1"] : 0, 3000u);
  EXPECT_EQ(s->stats().positionsErrorsTotal, 1u);
}

// Two daemons with one data_dir would deliver and delete each other's
// records: the second cannot open the directory while the first has it.
TEST_F(SpoolPositionsTest, ASecondSpoolInTheSameDirectoryIsRefusedWhileTheFirstIsOpen) {
  auto first = open(options());
  ASSERT_NE(first, nullptr);
  auto second = openDiskSpool(options());
  ASSERT_FALSE(second.has_value());
  EXPECT_NE(second.error().message().find("is in use by another process"), std::string::npos)
      << second.error().message();
  first.reset();
  EXPECT_TRUE(openDiskSpool(options()).has_value()) << "free again once the first is closed";
}

TEST(SourcePositionsTest, AFailedFsyncDropsWhatWasPendingAndTheOldestFileIsForgottenPastTheCap) {
  SourcePositions positions;
  positions.appended(fileOf("file_0", 1), 10);
  positions.synced();
  positions.appended(fileOf("file_0", 1), 20);
  positions.syncFailed();
  positions.synced();
  ASSERT_EQ(positions.durable().size(), 1u);
  EXPECT_EQ(positions.durable()[0].offset, 10u);

  for (uint64_t inode = 2; inode < SourcePositions::kMaxFiles + 2; ++inode) {
    positions.appended(fileOf("file_0", inode), inode);
  }
  positions.synced();
  auto all = offsets(positions.durable());
  EXPECT_EQ(all.size(), SourcePositions::kMaxFiles);
  EXPECT_EQ(all.count("file_0/1"), 0u) << "the least recently appended file is the one forgotten";
}

}  // namespace
}  // namespace kinship::spool
