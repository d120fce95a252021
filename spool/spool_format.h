#pragma once
// The spool's on-disk format: every byte of a segment file. The writer
// (disk_spool.cc), the reader (segment_reader.cc) and the tests agree on
// these constants and helpers only; nothing else knows the layout.
//
// Directory
//   <dir>/<seq>.seg     a segment; <seq> is a 20-digit, zero-padded decimal
//                       uint64 (so names sort like numbers), assigned in
//                       increasing order, never reused within one directory.
//   <dir>/<seq>.seg.bad a segment whose header was unreadable, set aside by
//                       recovery (kept for inspection, no longer part of the
//                       spool or its size cap).
//   <dir>/ACKED         the acknowledgement state (below, and ack_state.h),
//                       written in place.
//   <dir>/POSITIONS     file positions of deleted segments (below).
//   <dir>/LOCK          empty; an open spool holds flock(LOCK_EX) on it, so
//                       a second process (another kinship with the same
//                       data_dir) cannot open the directory too.
//   Any other name is ignored.
//
// Segment = header, then frames back to back until the end of the file.
//
// Segment header (kSegmentHeaderSize = 8 bytes)
//   [0..4)  magic   "KSPL" (0x4B 0x53 0x50 0x4C)
//   [4..6)  version u16 little-endian, kFormatVersion (1)
//   [6..8)  flags   u16 little-endian, must be 0 (reserved)
//
// Frame (kFrameHeaderSize = 9 bytes of header, then the payload)
//   [0..4)  masked CRC32C, u32 little-endian, of bytes [4..9) followed by
//           the payload (that is: length, type, payload). CRC32C is the
//           Castagnoli polynomial (iSCSI, computed by ISA-L's crc32_iscsi
//           with the usual ~0 pre- and post-inversion). Masking as in
//           LevelDB: rot-right-15 plus 0xa282ead8, so that a CRC computed
//           over bytes that themselves contain CRCs does not come out zero.
//   [4..8)  payload length, u32 little-endian, at most kMaxPayloadBytes
//   [8]     type, u8: kFrameTypeBatch (1) or kFrameTypeFileBatch (2); every
//           other value is corrupt
//   [9..)   payload
//
// Batch payload (type 1): one RecordBatch
//   u64 LE   append time, milliseconds since the Unix epoch (wall clock of
//            the appender; used for the "oldest record age" gauge only)
//   varint32 record count N (LEB128: 7 bits per byte, low group first,
//            high bit = more; at most 5 bytes)
//   N times: varint32 data length, varint32 partition-key length,
//            varint32 explicit-hash-key length (0: none), then that many
//            bytes of data, key and explicit hash key
//   The payload must end exactly after the N-th record; anything else is
//   corrupt.
//
// File batch payload (type 2): a batch read from a file, with where it ends
// in that file, so that a restart resumes the file after what the spool
// holds (the input's checkpoint may be older: it is saved on a timer)
//   a source position (below; writers use layout 2, readers take either),
//   then a batch payload as for type 1
//
// Source position, layout 2 (kSourcePositionLayout; written since the tail
// was added). Its first byte is 0, which never starts layout 1 (there the
// first byte is the length of an input id, never empty), so a reader tells
// the two apart:
//   u8       0 (the layout marker)
//   u8       layout, 2; any other value is corrupt
//   varint32 length + bytes: input id within the pipeline ("file_0")
//   u64 LE   device, u64 LE inode
//   varint32 length + bytes: the file's first bytes (at most 64)
//   varint32 length + bytes: the file's path (informational)
//   u64 LE   offset after the batch's last record
//   varint32 length + bytes: the tail, the file's bytes just before offset
//            (at most kMaxTailBytes, and at most offset; empty: not known).
//            A file whose first bytes match but whose bytes there differ
//            was rewritten, and is read again from its start.
//
// Source position, layout 1 (written before the tail was added; read, never
// written): as layout 2 without the marker, the layout byte and the tail.
//
// Positions file POSITIONS: the newest durable source position of every
// file, as of the last segment deletion; recovery starts from it and takes
// the furthest offset per file from it and the frames left. Written before
// a segment is deleted (POSITIONS.tmp, fsync, rename over POSITIONS), so the
// positions of deleted frames are never lost; a missing or damaged file
// only costs re-reading (at least once), never loss.
//   [0..4)   magic   "KPOS"
//   [4..6)   version u16 LE, kPositionsVersion (2); version 1 files (source
//            positions in layout 1) are read too
//   [6..8)   flags   u16 LE, 0
//   [8..12)  payload length, u32 LE
//   [12..16) masked CRC32C of the payload, u32 LE
//   [16..)   payload: varint32 count, then that many source positions, in
//            layout 2 (version 2) or layout 1 (version 1)
//
// Acknowledgement file ACKED: version 2, the floor plus which records of
// the frames above it are done, in two slots written in turn, is laid out
// in ack_state.h. Version 1, below, was written by kinship before
// record-level acknowledgements and is still read (kAckFileSize = 28
// bytes): every frame before (segment, offset) is acknowledged; recovery
// does not deliver them again. Either is written without fsync: losing it,
// or finding it damaged, only means redelivery (at least once), never loss.
//   [0..4)   magic   "KACK"
//   [4..6)   version u16 LE, kFormatVersion (1)
//   [6..8)   flags   u16 LE, 0
//   [8..16)  segment sequence, u64 LE
//   [16..24) byte offset in that segment, u64 LE (a frame's start, or 0)
//   [24..28) masked CRC32C (as for frames) of bytes [0..24), u32 LE
//
// Frame id = (segment sequence, byte offset of the frame's header in that
// segment). It is unique and ordered for the life of the directory, costs
// nothing to persist (it is where the frame is) and lets ack() find the
// segment without a lookup table.

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "pipeline/record_batch.h"

namespace kinship::spool::format {

inline constexpr char kMagic[4] = {'K', 'S', 'P', 'L'};
inline constexpr uint16_t kFormatVersion = 1;
inline constexpr size_t kSegmentHeaderSize = 8;
inline constexpr size_t kFrameHeaderSize = 9;
inline constexpr uint8_t kFrameTypeBatch = 1;
inline constexpr uint8_t kFrameTypeFileBatch = 2;
// Bounds the buffer a (possibly corrupt) length field can make the reader
// allocate. A Kinesis request is at most 5 MiB, so batches are far smaller.
inline constexpr uint32_t kMaxPayloadBytes = 128u << 20;
inline constexpr size_t kSegmentNameDigits = 20;
inline constexpr std::string_view kSegmentSuffix = ".seg";
inline constexpr std::string_view kAckFileName = "ACKED";
inline constexpr char kAckMagic[4] = {'K', 'A', 'C', 'K'};
inline constexpr size_t kAckFileSize = 28;
inline constexpr std::string_view kLockFileName = "LOCK";
inline constexpr std::string_view kPositionsFileName = "POSITIONS";
inline constexpr std::string_view kPositionsTempFileName = "POSITIONS.tmp";
inline constexpr char kPositionsMagic[4] = {'K', 'P', 'O', 'S'};
inline constexpr size_t kPositionsHeaderSize = 16;
inline constexpr uint16_t kPositionsVersion = 2;
inline constexpr uint16_t kPositionsVersionWithoutTails = 1;
inline constexpr uint8_t kSourcePositionLayout = 2;
inline constexpr size_t kMaxTailBytes = 64;

uint32_t crc32c(uint32_t crc, const void* data, size_t n);  // crc: a previous result, or 0 to start

inline uint32_t maskCrc(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }
inline uint32_t unmaskCrc(uint32_t masked) {
  uint32_t rot = masked - 0xa282ead8u;
  return (rot >> 17) | (rot << 15);
}

inline void putFixed16(std::string& out, uint16_t v) {
  char b[2] = {static_cast<char>(v & 0xff), static_cast<char>(v >> 8)};
  out.append(b, 2);
}
inline void putFixed32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
inline void putFixed64(std::string& out, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out.append(b, 8);
}
inline uint16_t getFixed16(const char* p) {
  return static_cast<uint16_t>(static_cast<uint8_t>(p[0]) | (static_cast<uint8_t>(p[1]) << 8));
}
inline uint32_t getFixed32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
inline uint64_t getFixed64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
inline void putVarint32(std::string& out, uint32_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
// Reads a varint32 from the front of `in` and consumes it; false when it is
// truncated or longer than 5 bytes.
bool getVarint32(std::string_view& in, uint32_t& v);

// The 8-byte segment header.
std::string segmentHeader();
// Checks a segment header; the message says what is wrong.
Status checkSegmentHeader(std::string_view header);

// The ACKED file's bytes for a floor, and back (corruption: wrong size,
// magic, version, flags or CRC).
std::string encodeAckFile(uint64_t segment, uint64_t offset);
Status decodeAckFile(std::string_view bytes, uint64_t& segment, uint64_t& offset);

// "<20 digits>.seg" for a sequence number, and back (false: not a segment name).
std::string segmentFileName(uint64_t seq);
bool parseSegmentFileName(std::string_view name, uint64_t& seq);

// Appends a whole frame (header + payload) for `batch` to `out`: type 2
// with its source position when the batch has a source file, else type 1.
void appendBatchFrame(const pipeline::RecordBatch& batch, uint64_t appendWallMs, std::string& out);
// The encoded size of that frame, without encoding it.
size_t batchFrameSize(const pipeline::RecordBatch& batch);

// Decodes a batch payload (CRC already checked) into `out` (cleared first).
Status decodeBatchPayload(std::string_view payload, pipeline::RecordBatch& out, uint64_t& appendWallMs);
// Decodes a frame's payload of either type; for type 2 also its source
// position into `position` (when not null; untouched for type 1), with an
// empty tail when the frame was written in layout 1.
Status decodeFramePayload(uint8_t type, std::string_view payload, pipeline::RecordBatch& out, uint64_t& appendWallMs,
                          pipeline::SourcePosition* position, bool* hasPosition);

// The POSITIONS file's bytes (version 2), and back (version 2 or 1;
// corruption: short, wrong magic, version, flags, length or CRC, or a
// payload that does not parse).
std::string encodePositionsFile(const std::vector<pipeline::SourcePosition>& positions);
Status decodePositionsFile(std::string_view bytes, std::vector<pipeline::SourcePosition>& positions);

}  // namespace kinship::spool::format
