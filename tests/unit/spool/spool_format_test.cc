// The byte layout of spool_format.h, pinned by hand-built bytes, and every
// way decoding a batch payload can fail.

#include "spool/spool_format.h"

#include <gtest/gtest.h>

#include "tests/unit/spool/test_batches.h"

namespace kinship::spool::format {
namespace {

using test::makeBatch;
using test::sameBatch;

TEST(SpoolFormat, Crc32cIsCastagnoliAndChains) {
  // The standard check value of CRC-32C.
  EXPECT_EQ(crc32c(0, "123456789", 9), 0xe3069283u);
  EXPECT_EQ(crc32c(crc32c(0, "1234", 4), "56789", 5), 0xe3069283u);
  EXPECT_EQ(unmaskCrc(maskCrc(0xe3069283u)), 0xe3069283u);
  EXPECT_NE(maskCrc(0xe3069283u), 0xe3069283u);
}

TEST(SpoolFormat, SegmentHeaderBytes) {
  EXPECT_EQ(segmentHeader(), std::string("KSPL\x01\x00\x00\x00", 8));
  EXPECT_TRUE(checkSegmentHeader(segmentHeader()).isOk());
  EXPECT_EQ(checkSegmentHeader("KSPL").code(), Status::Code::kCorruption);
  EXPECT_EQ(checkSegmentHeader(std::string("XSPL\x01\x00\x00\x00", 8)).code(), Status::Code::kCorruption);
  EXPECT_EQ(checkSegmentHeader(std::string("KSPL\x02\x00\x00\x00", 8)).code(), Status::Code::kCorruption);
  EXPECT_EQ(checkSegmentHeader(std::string("KSPL\x01\x00\x01\x00", 8)).code(), Status::Code::kCorruption);
}

TEST(SpoolFormat, SegmentNames) {
  EXPECT_EQ(segmentFileName(42), "00000000000000000042.seg");
  uint64_t seq = 0;
  EXPECT_TRUE(parseSegmentFileName("00000000000000000042.seg", seq));
  EXPECT_EQ(seq, 42u);
  EXPECT_TRUE(parseSegmentFileName(segmentFileName(UINT64_MAX), seq));
  EXPECT_EQ(seq, UINT64_MAX);
  EXPECT_FALSE(parseSegmentFileName("0000000000000000042.seg", seq));
  EXPECT_FALSE(parseSegmentFileName("0000000000000000004x.seg", seq));
  EXPECT_FALSE(parseSegmentFileName("00000000000000000042.tmp", seq));
  EXPECT_FALSE(parseSegmentFileName("99999999999999999999.seg", seq));  // over uint64
}

TEST(SpoolFormat, FrameBytesByHand) {
  pipeline::RecordBatch b;
  b.append("hi", "k", "7");
  std::string frame;
  appendBatchFrame(b, 0x0102030405060708ull, frame);
  // payload: timestamp (8), count 1, lengths 2 1 1, "hi" "k" "7"
  std::string payload("\x08\x07\x06\x05\x04\x03\x02\x01\x01\x02\x01\x01hik7", 16);
  ASSERT_EQ(frame.size(), kFrameHeaderSize + payload.size());
  EXPECT_EQ(frame.size(), batchFrameSize(b));
  EXPECT_EQ(getFixed32(frame.data() + 4), payload.size());
  EXPECT_EQ(static_cast<uint8_t>(frame[8]), kFrameTypeBatch);
  EXPECT_EQ(frame.substr(kFrameHeaderSize), payload);
  EXPECT_EQ(unmaskCrc(getFixed32(frame.data())), crc32c(0, frame.data() + 4, frame.size() - 4));
}

TEST(SpoolFormat, BatchRoundTripWithLongVarints) {
  pipeline::RecordBatch b = makeBatch(3, 5, 300);  // lengths over 127: two-byte varints
  b.append(std::string(70000, 'x'), "", "");       // three-byte varint, empty key
  std::string frame;
  appendBatchFrame(b, 99, frame);
  EXPECT_EQ(frame.size(), batchFrameSize(b));
  pipeline::RecordBatch out;
  uint64_t ms = 0;
  ASSERT_TRUE(decodeBatchPayload(std::string_view(frame).substr(kFrameHeaderSize), out, ms).isOk());
  EXPECT_EQ(ms, 99u);
  EXPECT_TRUE(sameBatch(b, out));
}

TEST(SpoolFormat, VarintLimits) {
  std::string s;
  putVarint32(s, UINT32_MAX);
  EXPECT_EQ(s.size(), 5u);
  std::string_view in = s;
  uint32_t v = 0;
  EXPECT_TRUE(getVarint32(in, v));
  EXPECT_EQ(v, UINT32_MAX);
  EXPECT_TRUE(in.empty());
  std::string_view tooLong("\xff\xff\xff\xff\x7f", 5);  // 35 bits
  EXPECT_FALSE(getVarint32(tooLong, v));
  std::string_view cut("\x80\x80", 2);
  EXPECT_FALSE(getVarint32(cut, v));
  std::string_view empty;
  EXPECT_FALSE(getVarint32(empty, v));
}

TEST(SpoolFormat, AckFileRoundTripAndDamage) {
  std::string b = encodeAckFile(7, 1234);
  ASSERT_EQ(b.size(), kAckFileSize);
  EXPECT_EQ(b.substr(0, 8), std::string("KACK\x01\x00\x00\x00", 8));
  uint64_t seg = 0, off = 0;
  ASSERT_TRUE(decodeAckFile(b, seg, off).isOk());
  EXPECT_EQ(seg, 7u);
  EXPECT_EQ(off, 1234u);
  EXPECT_FALSE(decodeAckFile(b.substr(0, 27), seg, off).isOk());
  EXPECT_FALSE(decodeAckFile(b + "x", seg, off).isOk());
  std::string flipped = b;
  flipped[9] ^= 1;
  EXPECT_FALSE(decodeAckFile(flipped, seg, off).isOk());
  std::string magic = b;
  magic[0] = 'X';
  putFixed32(magic.data() + 24, maskCrc(crc32c(0, magic.data(), 24)));
  EXPECT_FALSE(decodeAckFile(magic, seg, off).isOk());
  std::string version = b;
  version[4] = 2;
  putFixed32(version.data() + 24, maskCrc(crc32c(0, version.data(), 24)));
  EXPECT_FALSE(decodeAckFile(version, seg, off).isOk());
}

// Every way decodeBatchPayload refuses a payload.
TEST(SpoolFormat, DecodeRejectsPayloadShorterThanTimestamp) {
  pipeline::RecordBatch out;
  uint64_t ms;
  EXPECT_EQ(decodeBatchPayload(std::string(7, '\0'), out, ms).code(), Status::Code::kCorruption);
}

TEST(SpoolFormat, DecodeRejectsBadRecordCount) {
  pipeline::RecordBatch out;
  uint64_t ms;
  EXPECT_EQ(decodeBatchPayload(std::string(8, '\0') + "\x80", out, ms).code(), Status::Code::kCorruption);
}

TEST(SpoolFormat, DecodeRejectsBadRecordLengths) {
  pipeline::RecordBatch out;
  uint64_t ms;
  EXPECT_EQ(decodeBatchPayload(std::string(8, '\0') + "\x01\x01\x01", out, ms).code(), Status::Code::kCorruption);
}

TEST(SpoolFormat, DecodeRejectsRecordPastPayload) {
  pipeline::RecordBatch out;
  uint64_t ms;
  EXPECT_EQ(decodeBatchPayload(std::string(8, '\0') + "\x01\x05\x00\x00" + "abc", out, ms).code(), Status::Code::kCorruption);
}

TEST(SpoolFormat, DecodeRejectsTrailingBytes) {
  pipeline::RecordBatch out;
  uint64_t ms;
  EXPECT_EQ(decodeBatchPayload(std::string(8, '\0') + std::string("\x01\x01\x00\x00", 4) + "ab", out, ms).code(),
            Status::Code::kCorruption);
}

TEST(SpoolFormat, DecodeRejectsMoreRecordsThanPresent) {
  pipeline::RecordBatch out;
  uint64_t ms;
  EXPECT_EQ(decodeBatchPayload(std::string(8, '\0') + std::string("\x02\x01\x00\x00", 4) + "a", out, ms).code(),
            Status::Code::kCorruption);
}

}  // namespace
}  // namespace kinship::spool::format
