#pragma once
// The acknowledgement state in <dir>/ACKED: how far delivery has reached,
// down to single records, so that a restart re-sends only the records the
// sink had not seen answered (its in-flight window), not whole frames.
//
// ACKED, version 2: two slots of kAckSlotBytes, slot 0 at byte 0 and slot 1
// at byte kAckSlotBytes. Writes alternate between them, in place, without
// fsync or rename (one pwrite per sink answer); each slot carries a
// sequence number, and recovery takes the valid slot with the higher one. A
// write torn by a power loss (or failed) damages only the slot it was
// writing, so the other, one write older, is used: an older state has fewer
// acknowledgements, so it costs redelivery, never loss.
//   Slot
//   [0..4)   magic   "KACK"
//   [4..6)   version u16 LE, 2
//   [6..8)   flags   u16 LE, 0
//   [8..12)  payload length u32 LE, at most kAckSlotBytes - kAckSlotHeaderSize
//   [12..16) masked CRC32C (spool_format.h) of bytes [16..24) and the payload
//   [16..24) sequence u64 LE
//   [24..)   payload
//     u64 LE floor segment, u64 LE floor offset: every frame before this
//              frame id is acknowledged (as in version 1)
//     u32 LE   count of frames, then for each, in increasing frame id, all
//              at or after the floor:
//       u64 LE segment, u64 LE offset   the frame's id
//       varint32 records in the frame
//       varint32 count of runs, then for each: varint32 gap (records since
//                the end of the previous run, or since record 0), varint32
//                length (> 0): the records, by index in the frame, that are
//                done (accepted or dead-lettered)
//   Frames that do not fit in a slot are left out, newest first: they are
//   delivered whole again.
// Version 1 (kinship before record-level progress): 28 bytes, the floor
// only (spool_format.h, decodeAckFile); still read.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "spool/spool.h"

namespace kinship::spool {

inline constexpr size_t kAckSlotBytes = 64 * 1024;
inline constexpr size_t kAckSlotHeaderSize = 24;
inline constexpr uint16_t kAckStateVersion = 2;

// Which records of one frame are done.
class FrameProgress {
 public:
  explicit FrameProgress(uint32_t records = 0) : records_(records) {}
  uint32_t records() const { return records_; }
  uint32_t doneCount() const { return doneCount_; }
  bool allDone() const { return doneCount_ >= records_; }
  bool isDone(uint32_t index) const {
    return index / 64 < done_.size() && ((done_[index / 64] >> (index % 64)) & 1u) != 0;
  }
  // False when the record was done already or is out of range.
  bool markDone(uint32_t index);
  void markAllDone();
  // Keeps the capacity, for reuse with another frame.
  void reset(uint32_t records);
  // Calls `run(first, length)` for each run of done records, in order.
  template <typename F>
  void forEachRun(F&& run) const;

 private:
  uint32_t nextWithBit(uint32_t from, bool set) const;

  uint32_t records_ = 0;
  uint32_t doneCount_ = 0;
  std::vector<uint64_t> done_;  // bit i of word i/64: record i is done
};

struct AckState {
  FrameId floor;
  uint64_t sequence = 0;  // of the slot it came from (0: none, or version 1)
  std::map<FrameId, FrameProgress> frames;  // at or after the floor, with records done
};

// Builds one slot's bytes; reuses its buffers across slots.
class AckSlotEncoder {
 public:
  void begin(FrameId floor);
  // False when the frame does not fit in the slot: it is left out (and the
  // caller should stop adding: later frames are newer).
  bool add(FrameId id, const FrameProgress& progress);
  // The whole slot (header and payload), valid until the next begin().
  std::string_view finish(uint64_t sequence);

 private:
  std::string slot_;
  std::string runs_;
  uint32_t frames_ = 0;
};

// The state an ACKED file's bytes hold: the valid version-2 slot with the
// higher sequence, or a version-1 file's floor. Corruption when there is
// neither.
Status decodeAckState(std::string_view file, AckState& out);

template <typename F>
void FrameProgress::forEachRun(F&& run) const {
  uint32_t i = 0;
  while (i < records_) {
    const uint32_t first = nextWithBit(i, true);
    if (first >= records_) return;
    const uint32_t end = nextWithBit(first, false);
    run(first, end - first);
    i = end;
  }
}

}  // namespace kinship::spool
