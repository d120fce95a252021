// File positions in the disk spool (issue 15): frames of type 2 carry where
// their batch ends in its file; a reopened spool reports the newest durable
// position of each file, including files whose segments were deleted
// (POSITIONS), never a position whose frame was not fsynced yet, and a
// damaged POSITIONS file costs only re-reading.

#include <gtest/gtest.h>

#include "spool/disk_spool.h"
#include "spool/source_positions.h"
#include "spool/spool_format.h"
#include "tests/support/fault_env.h"
#include "tests/support/manual_clock.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/spool/test_batches.h"

namespace kinship::spool {
namespace {

using kinship::testing::FaultEnv;
using kinship::testing::ManualClock;
using kinship::testing::TempDir;
using kinship::testing::readFileBytes;
using kinship::testing::writeFileBytes;
using test::makeBatch;
using namespace std::chrono_literals;

std::shared_ptr<const pipeline::SourceFile> fileOf(const std::string& input, uint64_t inode, std::string head = "first bytes") {
  return std::make_shared<const pipeline::SourceFile>(
      pipeline::SourceFile{input, 2049, inode, std::move(head), "/var/log/app/" + std::to_string(inode) + ".log"});
}

pipeline::RecordBatch fileBatch(int n, const std::shared_ptr<const pipeline::SourceFile>& file, uint64_t endOffset) {
  pipeline::RecordBatch b = makeBatch(n);
  b.setSource(nullptr, 1, endOffset);
  b.setSourceFile(file);
  b.setSourceTail("tail-" + std::to_string(endOffset));
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
  const std::string tail = std::string("\"msg\":\"bye\"}\n\x00", 15) + std::string(49, 't');
  ASSERT_EQ(tail.size(), format::kMaxTailBytes);
  batch.setSourceTail(tail);
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
  EXPECT_EQ(position.tail, tail);
  // Layout 2: the marker and the layout come first.
  EXPECT_EQ(payload.substr(0, 2), std::string("\x00\x02", 2));

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

// A source position in layout 1, as spools wrote it before the tail was
// kept (spool_format.h), built by hand.
std::string layout1Position(const pipeline::SourceFile& file, uint64_t offset) {
  std::string out;
  for (const std::string* text : {&file.input}) {
    format::putVarint32(out, static_cast<uint32_t>(text->size()));
    out += *text;
  }
  format::putFixed64(out, file.device);
  format::putFixed64(out, file.inode);
  format::putVarint32(out, static_cast<uint32_t>(file.fingerprint.size()));
  out += file.fingerprint;
  format::putVarint32(out, static_cast<uint32_t>(file.path.size()));
  out += file.path;
  format::putFixed64(out, offset);
  return out;
}

// A POSITIONS file with `version` in its header around `payload`.
std::string positionsFile(uint16_t version, const std::string& payload) {
  std::string out("KPOS", 4);
  format::putFixed16(out, version);
  format::putFixed16(out, 0);
  out.append(8, '\0');
  format::putFixed32(out.data() + 8, static_cast<uint32_t>(payload.size()));
  format::putFixed32(out.data() + 12, format::maskCrc(format::crc32c(0, payload.data(), payload.size())));
  return out + payload;
}

// Spools written before the tail was kept are still read: type 2 frames in
// layout 1 decode (with an empty tail, whatever the position held before).
TEST(SpoolFormatPositionsTest, AFrameWithAPositionOfTheOldLayoutStillDecodes) {
  auto file = fileOf("file_0", 77);
  std::string plain;
  pipeline::RecordBatch batch = makeBatch(5);
  format::appendBatchFrame(batch, 42, plain);
  const std::string payload = layout1Position(*file, 5000) + plain.substr(format::kFrameHeaderSize);

  pipeline::RecordBatch decoded;
  pipeline::SourcePosition position;
  position.tail = "left from the frame before";
  bool hasPosition = false;
  uint64_t appendMs = 0;
  ASSERT_TRUE(format::decodeFramePayload(format::kFrameTypeFileBatch, payload, decoded, appendMs, &position,
                                         &hasPosition));
  EXPECT_TRUE(hasPosition);
  EXPECT_EQ(appendMs, 42u);
  EXPECT_TRUE(test::sameBatch(decoded, batch));
  EXPECT_EQ(position.file.input, "file_0");
  EXPECT_EQ(position.file.inode, 77u);
  EXPECT_EQ(position.file.fingerprint, "first bytes");
  EXPECT_EQ(position.file.path, "/var/log/app/77.log");
  EXPECT_EQ(position.offset, 5000u);
  EXPECT_EQ(position.tail, "") << "layout 1 has no tail";
}

// Layout 2 refuses an unknown layout byte, a tail over 64 bytes and a tail
// longer than its offset.
TEST(SpoolFormatPositionsTest, APositionWithABadLayoutOrTailIsCorrupt) {
  auto file = fileOf("file_0", 77);
  std::string plain;
  format::appendBatchFrame(makeBatch(1), 42, plain);
  const std::string records = plain.substr(format::kFrameHeaderSize);
  auto payloadWith = [&](uint8_t layout, const std::string& tail, uint64_t offset) {
    std::string out("\x00", 1);
    out.push_back(static_cast<char>(layout));
    out += layout1Position(*file, offset);
    format::putVarint32(out, static_cast<uint32_t>(tail.size()));
    return out + tail + records;
  };
  pipeline::RecordBatch decoded;
  pipeline::SourcePosition position;
  uint64_t appendMs = 0;
  auto decodes = [&](const std::string& payload) {
    return format::decodeFramePayload(format::kFrameTypeFileBatch, payload, decoded, appendMs, &position, nullptr)
        .isOk();
  };
  EXPECT_TRUE(decodes(payloadWith(2, std::string(64, 't'), 100)));
  EXPECT_EQ(position.tail, std::string(64, 't'));
  EXPECT_FALSE(decodes(payloadWith(3, std::string(64, 't'), 100)));
  EXPECT_FALSE(decodes(payloadWith(2, std::string(65, 't'), 100)));
  EXPECT_FALSE(decodes(payloadWith(2, std::string(10, 't'), 9)));
}

TEST(SpoolFormatPositionsTest, ThePositionsFileRoundTripsAndRefusesDamage) {
  std::vector<pipeline::SourcePosition> positions{{*fileOf("file_0", 1), 10, "7\n8\n9\n"},
                                                  {*fileOf("file_1", 2), 20, ""}};
  std::string bytes = format::encodePositionsFile(positions);
  EXPECT_EQ(bytes.substr(0, 8), std::string("KPOS\x02\x00\x00\x00", 8)) << "version 2: layout 2 positions";
  std::vector<pipeline::SourcePosition> back;
  ASSERT_TRUE(format::decodePositionsFile(bytes, back));
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].tail, "7\n8\n9\n");
  EXPECT_EQ(back[1].file.input, "file_1");
  EXPECT_EQ(back[1].offset, 20u);
  EXPECT_EQ(back[1].tail, "");
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string flipped = bytes;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x40);
    EXPECT_FALSE(format::decodePositionsFile(flipped, back)) << "byte " << i;
    EXPECT_TRUE(back.empty());
  }
  EXPECT_FALSE(format::decodePositionsFile(bytes.substr(0, bytes.size() - 1), back));
  EXPECT_FALSE(format::decodePositionsFile("", back));
}

// A POSITIONS file of version 1 (layout 1 positions, no tails) still loads;
// each version must hold its own layout.
TEST(SpoolFormatPositionsTest, AVersion1PositionsFileStillLoads) {
  std::string payload;
  format::putVarint32(payload, 2);
  payload += layout1Position(*fileOf("file_0", 1), 10) + layout1Position(*fileOf("file_1", 2), 20);
  std::vector<pipeline::SourcePosition> back;
  ASSERT_TRUE(format::decodePositionsFile(positionsFile(1, payload), back));
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].file.input, "file_0");
  EXPECT_EQ(back[0].offset, 10u);
  EXPECT_EQ(back[0].tail, "");
  EXPECT_EQ(back[1].file.path, "/var/log/app/2.log");
  EXPECT_EQ(back[1].offset, 20u);
  EXPECT_FALSE(format::decodePositionsFile(positionsFile(2, payload), back)) << "layout 1 under version 2";
  EXPECT_TRUE(back.empty());
  std::string current = format::encodePositionsFile({{*fileOf("file_0", 1), 10, "9\n"}});
  EXPECT_FALSE(format::decodePositionsFile(positionsFile(1, current.substr(format::kPositionsHeaderSize)), back))
      << "layout 2 under version 1";
  EXPECT_FALSE(format::decodePositionsFile(positionsFile(3, payload), back));
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
  // From POSITIONS (file a's frames are all gone), tails included.
  for (const auto& position : s->positions()) EXPECT_EQ(position.tail, "tail-" + std::to_string(position.offset));
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
  std::string bytes = readFileBytes(path);
  ASSERT_FALSE(bytes.empty());
  bytes[bytes.size() - 1] ^= 1;
  writeFileBytes(path, bytes);
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

// The bytes before each position travel with it, through an fsync and
// through recovery; at one offset, a position that knows them wins over one
// that does not (a layout 1 frame next to a version 2 POSITIONS file).
TEST(SourcePositionsTest, TailsTravelWithTheirPositions) {
  SourcePositions positions;
  positions.appended(fileOf("file_0", 1), 10, "0123456789");
  positions.appended(fileOf("file_0", 1), 20, "abcdefghij");
  positions.synced();
  ASSERT_EQ(positions.durable().size(), 1u);
  EXPECT_EQ(positions.durable()[0].offset, 20u);
  EXPECT_EQ(positions.durable()[0].tail, "abcdefghij");

  SourcePositions recovered;
  recovered.recovered({*fileOf("file_0", 1), 20, "abcdefghij"});
  recovered.recovered({*fileOf("file_0", 1), 20, ""});
  ASSERT_EQ(recovered.durable().size(), 1u);
  EXPECT_EQ(recovered.durable()[0].tail, "abcdefghij");
  recovered.recovered({*fileOf("file_0", 1), 30, ""});
  EXPECT_EQ(recovered.durable()[0].offset, 30u);
  EXPECT_EQ(recovered.durable()[0].tail, "") << "further on, unknown";
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
