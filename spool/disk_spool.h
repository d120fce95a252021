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
// the acknowledgement floor — the oldest frame not yet acknowledged (the
// smallest delivered-unacked id, or the reader's position) — is written to
// <dir>/ACKED (spool_format.h) by ack() whenever it moves and
// ackPersistInterval has passed since the last write, and on close; it is
// a 28-byte write and a rename, no fsync. Recovery delivers only frames at
// or after the floor (frames of segments before it are counted as acked, and
// those segments deleted as the reader passes them). A missing or damaged
// ACKED file means everything spooled is delivered again.
// Duplicate bound after a crash: the frames acknowledged out of order above
// the floor (at most the sink's in-flight window) plus those acknowledged
// during the last ackPersistInterval (none with the default 0), plus, after
// a machine crash that loses the unsynced ACKED file, everything since the
// last ACKED that reached the disk.
//
// Memory: one frame buffer for the writer, one for the reader, one entry
// per segment file, and one map entry per frame delivered but not yet
// acknowledged (bounded by the sink's in-flight window).

#include <deque>
#include <map>
#include <optional>
#include <mutex>

#include "spool/env.h"
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
  FrameId ackFloor() const;
  void persistAckFloor(bool force);
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
  std::map<FrameId, uint64_t> inflight_;  // delivered, not acked -> records
  FrameId persistedFloor_;                // what ACKED says (or the recovered floor)
  Clock::TimePoint lastAckPersist_{};
  bool ackPersistOk_ = true;
};

}  // namespace kinship::spool
