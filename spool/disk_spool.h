#pragma once
// DiskSpool: the Spool on segment files (layout in spool_format.h).
// Threading: as Spool (one writer thread, one reader thread, stats from
// anywhere). One mutex guards the segment list and the counters; it is
// never held across a write or fsync, nor across a frame read.
//
// Writing. The writer appends whole frames to the active segment, then
// publishes the new end under the lock; the reader reads only up to the
// published end, so it never sees half a frame. A segment is rolled when
// the next frame would take it past segmentBytes (a frame larger than that
// gets a segment of its own), after any write or fsync error (the failed
// bytes are truncated away if the OS lets us, and a new segment keeps what
// follows clear of whatever is left), and on every open (appends never go
// into a recovered segment). The size cap counts every byte of every
// segment file and is checked before writing: a frame that would pass it is
// refused whole (isFull()).
//
// fsync. kAlways: after every frame, before append() returns (and the
// directory after a segment is created, so its name is durable too).
// kInterval: by append() or maybeSync() when the last fsync is at least the
// interval old, and when a segment is rolled or the spool closed. kNever:
// only the OS writes back; a crash of the machine (not of the process) may
// lose what the page cache held.
//
// Recovery (on open). Segments are scanned in sequence order, each frame
// checked (length, CRC, type, payload structure); memory stays one frame.
//   - a file shorter than a segment header (e.g. the crash came right after
//     creating it) is removed and counted in badSegmentsTotal;
//   - a bad magic, version or flags: renamed to <name>.bad, left out of the
//     spool and counted in badSegmentsTotal (a newer kinship may read it);
//   - a torn tail (frame header or payload cut by the end of the file) in
//     the LAST segment is truncated away and counted in tornTailsTotal;
//     in an earlier segment (only after a write error whose bytes could not
//     be truncated) it is counted as a corruption event;
//   - a corrupt frame (CRC mismatch, unknown type, length over the maximum,
//     payload that does not parse): one corruption event; the rest of that
//     segment is skipped (corruptBytesTotal counts it). We do not scan for
//     the next valid frame: a length field cannot be trusted once the CRC
//     failed, and a resync scan can mistake record bytes (which may contain
//     whole spooled frames) for frames. Later segments are read normally.
//   - an I/O error while scanning fails the open (nothing is deleted).
// The reader re-checks every frame; a frame damaged on disk after open is
// handled the same way (counted, rest of the segment up to what was
// published at that moment skipped).
//
// Acknowledgements. A segment is deleted when every frame in it is
// acknowledged and the writer has left it. Within the remaining segments,
// the acknowledgement state goes to <dir>/ACKED (ack_state.h): the floor —
// the oldest frame not yet acknowledged (the smallest delivered-unacked id,
// or the reader's position) — and, for the frames above it, which of their
// records are done (recordsDone(), from the sink as answers come back, and
// ack() for whole frames, in any order). It is written by ack() and
// recordsDone() whenever it changed and ackPersistInterval has passed since
// the last write, and on close: one pwrite into the older of two slots, no
// fsync. Recovery delivers only frames at or after the floor (frames of
// segments before it are counted as acked, and those segments deleted as
// the reader passes them), and of those only the records not done; a frame
// all done is not delivered at all. A missing or damaged ACKED file means
// everything spooled is delivered again.
// Duplicate bound after a crash of the process: the records the sink had
// sent and not yet seen answered (its in-flight window), plus those done
// during the last ackPersistInterval (none with the default 0), plus those
// of frames that did not fit in a slot (64 KiB holds thousands of frames'
// progress). A machine crash that loses the unsynced ACKED file adds
// everything done since the last ACKED that reached the disk.
//
// Memory: one frame buffer for the writer, one for the reader, one entry
// per segment file, and one map entry per frame delivered but not yet
// acknowledged (bounded by the sink's read-ahead), with a bitmap of its
// records once one of them is done.

#include <deque>
#include <map>
#include <optional>
#include <mutex>

#include "spool/ack_state.h"
#include "common/env.h"
#include "spool/segment_reader.h"
#include "spool/source_positions.h"
#include "spool/spool.h"

namespace kinship::spool {

class DiskSpool final : public Spool {
 public:
  static Result<std::unique_ptr<DiskSpool>> open(const SpoolOptions& options);
  ~DiskSpool() override;

  Result<FrameId> append(const pipeline::RecordBatch& batch) override;
  Status sync() override;
  Status maybeSync(Clock::TimePoint now) override;
  Result<std::optional<SpooledBatch>> readNext() override;
  Result<std::optional<SpooledFrame>> readNextInto(pipeline::RecordBatch& into) override;
  Status ack(FrameId id) override;
  void recordsDone(std::span<const DoneRecord> done) override;
  Result<uint64_t> dropOldestSegment() override;
  uint64_t sizeBytes() const override;
  SpoolStats stats() const override;
  std::vector<pipeline::SourcePosition> positions() const override { return positions_.durable(); }

 private:
  struct Segment {
    uint64_t seq = 0;
    uint64_t start = 0;      // the reader starts here (past frames acked before a restart)
    uint64_t end = 0;        // frames are read up to here (published / recovered end)
    uint64_t fileBytes = 0;  // bytes on disk, for the cap (>= end after an untruncated failed write)
    uint64_t frames = 0;     // frames in [header, end) still expected to be acknowledged
    uint64_t records = 0;
    uint64_t acked = 0;
    uint64_t firstAppendWallMs = 0;
    bool sealed = false;            // the writer has left it
    bool passedByReader = false;    // the reader has moved past its end
  };

  explicit DiskSpool(const SpoolOptions& options);
  Status lockDirectory();
  Status recover();
  std::string pathOf(uint64_t seq) const;
  Status roll(uint64_t frameBytes);
  Status syncActive();
  void failActive();
  Segment* findLocked(uint64_t seq);
  void maybeDeleteLocked(uint64_t seq);
  void deleteEligibleLocked();
  struct InflightFrame {
    FrameProgress progress;  // by index in the frame as appended
    bool acked = false;      // acknowledged whole; kept while above the floor
    // Index in the delivered batch -> index in the frame, when the batch
    // left out records done before a restart; empty: the same.
    std::vector<uint32_t> frameIndexOf;
  };
  void recoverAckState();
  // Leaves out of `into` the records of frame `id` that were done before a
  // restart; returns false when all of them were (nothing to deliver).
  bool applyRecoveredProgress(FrameId id, pipeline::RecordBatch& into, InflightFrame& entry);
  // progressMu_ held: records a frame as delivered and the reader as past it.
  void deliveredLocked(FrameId id, InflightFrame entry, FrameId next);
  void persistAckStateLocked(bool force);
  Status persistPositions();
  void recoverPositionsFile();

  SpoolOptions options_;
  Env& env_;
  const Clock& clock_;

  mutable std::mutex mu_;
  std::deque<Segment> segments_;  // by seq; guarded by mu_
  uint64_t totalBytes_ = 0;       // guarded by mu_
  uint64_t liveFrames_ = 0;
  uint64_t liveRecords_ = 0;
  bool deleteFailed_ = false;     // an unlink failed: retry eligible segments on the next ack
  SpoolStats counters_;           // the *Total fields; guarded by mu_
  SourcePositions positions_;     // thread-safe
  int lockFd_ = -1;               // holds flock(LOCK_EX) on <dir>/LOCK while open
  // positions_.version() that POSITIONS holds; guarded by mu_ (the deleting
  // thread writes it).
  std::optional<uint64_t> persistedPositionsVersion_;

  // Writer thread only.
  std::unique_ptr<WritableFile> active_;
  uint64_t activeSeq_ = 0;
  uint64_t activeSize_ = 0;
  uint64_t nextSeq_ = 1;
  bool needRoll_ = true;
  bool unsynced_ = false;
  Clock::TimePoint lastSync_{};
  std::string frameBuf_;

  // Reader thread only.
  std::unique_ptr<SegmentReader> reader_;
  uint64_t readSeq_ = 0;
  uint64_t readOffset_ = 0;
  uint64_t readFramesInSeg_ = 0;
  uint64_t readRecordsInSeg_ = 0;
  pipeline::RecordBatch filterScratch_;  // a recovered frame before its done records are left out

  // Acknowledgement state: the reader thread (readNext, ack) and the sink's
  // (recordsDone) share it; ACKED is written under the same lock. Taken
  // before mu_ when both are needed, never inside it.
  mutable std::mutex progressMu_;
  std::map<FrameId, InflightFrame> inflight_;  // delivered, not yet below the floor
  FrameId readFloor_;                          // every frame before it was delivered
  std::map<FrameId, FrameProgress> recovered_; // from ACKED, for frames not read again yet
  bool progressDirty_ = false;                 // changed since ACKED was written
  uint64_t ackSequence_ = 0;                   // of the newest slot written (or recovered)
  std::unique_ptr<OverwritableFile> ackFile_;
  AckSlotEncoder ackEncoder_;
  Clock::TimePoint lastAckPersist_{};
  bool ackPersistOk_ = true;
};

}  // namespace kinship::spool
