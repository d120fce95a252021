#pragma once
// Spool: a per-pipeline write-ahead queue on disk between the pipeline and
// the sink. Batches are appended, read back from the oldest unacknowledged
// one in order, and acknowledged once the sink is done with them; what was
// appended survives a crash (as far as the fsync policy says) and, unless
// it was acknowledged, is delivered again after a restart: at least once.
//
// Threading contract: exactly one writer thread calls append(), sync() and
// maybeSync(); exactly one reader thread calls readNext() and ack(). The
// two may run at the same time; a writer never waits for the reader's disk
// I/O nor the reader for the writer's (they share one short lock for the
// segment list). stats() and sizeBytes() may be called from any thread.
// open and destruction: no other call may be in progress.
//
// Errors: every call returns Status/Result, nothing throws, a damaged file
// never crashes the process (see recovery in disk_spool.h).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "pipeline/record_batch.h"
#include "pipeline/source_file.h"

namespace kinship {
class Env;
}  // namespace kinship

namespace kinship::spool {

// Where a frame (one appended batch) lives: its segment's sequence number
// and the byte offset of the frame in that segment. Ordered like the spool.
struct FrameId {
  uint64_t segment = 0;
  uint64_t offset = 0;
  auto operator<=>(const FrameId&) const = default;
};

// One record of a delivered frame, by its index in the batch readNext()
// returned for that frame.
struct DoneRecord {
  FrameId frame;
  uint32_t index = 0;
};

// A frame read back into a caller's batch (see readNextInto).
struct SpooledFrame {
  FrameId id;
  std::chrono::system_clock::time_point appendedAt;
};

struct SpooledBatch {
  FrameId id;
  pipeline::RecordBatch batch;  // the records as appended; no source/ack receiver
  std::chrono::system_clock::time_point appendedAt;
};

// Plain numbers for the metrics registry (the daemon turns them into
// kinship_spool_* series). Gauges are current values; *Total only grow.
struct SpoolStats {
  uint64_t bytes = 0;     // gauge: bytes of every segment file, headers included
  uint64_t records = 0;   // gauge: records appended and not yet acknowledged
  uint64_t frames = 0;    // gauge: frames (batches) appended and not yet acknowledged
  uint64_t segments = 0;  // gauge: segment files
  // gauge: append time of the oldest unacknowledged frame, as ms since the
  // Unix epoch; 0 when the spool is empty. Kept per segment, so the age it
  // gives is an upper bound (the segment's first frame may be acked).
  uint64_t oldestAppendWallMs = 0;
  uint64_t appendedFramesTotal = 0;
  uint64_t appendedRecordsTotal = 0;
  uint64_t appendedBytesTotal = 0;
  uint64_t deliveredFramesTotal = 0;
  uint64_t ackedFramesTotal = 0;
  uint64_t corruptFramesTotal = 0;  // corruption events: each skips the rest of a segment
  uint64_t corruptBytesTotal = 0;   // bytes skipped by those events
  uint64_t positionsErrorsTotal = 0;  // POSITIONS files that could not be written or read
  uint64_t tornTailsTotal = 0;      // truncated tails cut away by recovery
  uint64_t badSegmentsTotal = 0;    // segments set aside for a bad header
  uint64_t fullRejectionsTotal = 0; // appends refused because of max_size
  uint64_t writeErrorsTotal = 0;    // failed appends (write or fsync)
  uint64_t fsyncsTotal = 0;
  uint64_t fsyncNanosTotal = 0;     // time spent in fsync, for an average
  uint64_t readErrorsTotal = 0;
  uint64_t ackPersistErrorsTotal = 0;  // failed writes of the ACKED file (only cost: redelivery)
};

enum class FsyncPolicy { kAlways, kInterval, kNever };

struct SpoolOptions {
  std::string dir;                                // created if missing (one level)
  uint64_t maxTotalBytes = 1ull << 30;            // cap on all segment files together
  uint64_t segmentBytes = 64ull << 20;            // roll to a new segment past this size
  FsyncPolicy fsync = FsyncPolicy::kInterval;
  std::chrono::milliseconds fsyncInterval{1000};  // kInterval only
  // How often ack() and recordsDone() record the acknowledgement state in
  // <dir>/ACKED (0: on every call that changes it). What is acknowledged
  // after the last record is delivered again after a crash; a clean close
  // records it always.
  std::chrono::milliseconds ackPersistInterval{0};
  Env* env = nullptr;                             // nullptr: posixEnv()
  // Called on the writer thread after every fsync of a segment, with its
  // duration (for the latency histogram).
  std::function<void(std::chrono::nanoseconds)> onFsync;
  const Clock* clock = nullptr;                   // nullptr: SystemClock
};

class Spool {
 public:
  virtual ~Spool() = default;

  // Writer thread. Writes `batch` as one frame. Errors:
  //   kUnavailable (isFull()): the cap would be passed; nothing was written;
  //     retry after acks have freed space, or drop, per when_full.
  //   kInvalidArgument: the batch is empty or can never fit (over the cap,
  //     or a frame over format::kMaxPayloadBytes).
  //   kIoError: the disk failed (ENOSPC, EIO, short write, fsync). The
  //     frame is not in the spool (its bytes are cut away, or left beyond
  //     what is read), the spool stays usable, and the next append starts a
  //     new segment.
  // With FsyncPolicy::kAlways a returned id means the frame is on disk.
  virtual Result<FrameId> append(const pipeline::RecordBatch& batch) = 0;

  // Writer thread. fsyncs the current segment if anything is unsynced.
  virtual Status sync() = 0;
  // Writer thread (or a timer that the writer serialises with). Under
  // FsyncPolicy::kInterval, fsyncs when unsynced data is older than the
  // interval at `now`; otherwise does nothing.
  virtual Status maybeSync(Clock::TimePoint now) = 0;

  // Reader thread. The next frame after the last one returned (after a
  // restart: from the oldest frame not known to be acknowledged, see the
  // ack floor in disk_spool.h), or nullopt when the
  // reader has caught up with the writer. Reads one frame from disk at a
  // time. A corrupt frame is counted and the rest of its segment skipped;
  // an I/O error is returned and the same frame is tried again next call.
  virtual Result<std::optional<SpooledBatch>> readNext() = 0;
  // The same, decoding the records into `into` (cleared first), so that a
  // reader can reuse pooled batches instead of allocating one per frame.
  // `into` holds nothing useful unless a frame is returned.
  virtual Result<std::optional<SpooledFrame>> readNextInto(pipeline::RecordBatch& into) = 0;

  // Reader thread. The sink is done with this frame (in any order). Each
  // frame returned by readNext() must be acknowledged at most once. A
  // segment is deleted when all its frames are acknowledged and the writer
  // has moved on from it. Errors: invalidArgument for an id that was never
  // delivered (or already acknowledged). A segment whose deletion fails is
  // logged and tried again on later acks (after a restart: redelivered).
  virtual Status ack(FrameId id) = 0;

  // Any thread (the sink's), never two at once. Records of delivered frames
  // that are done before their whole frame is: a frame half delivered at a
  // crash is delivered again without them. Frames acknowledged already, or
  // unknown, are ignored. What it records is written down (per
  // ackPersistInterval) before it returns. The default keeps nothing.
  virtual void recordsDone(std::span<const DoneRecord> done) { (void)done; }

  // Reader thread. For when_full: drop_oldest. Deletes the oldest segment
  // the writer has left, acknowledged or not, and returns how many of its
  // records had not yet been read (they are lost; frames already read stay
  // with the sink, and their acks are still accepted). Returns 0 and deletes
  // nothing when the only segment is the one being written.
  virtual Result<uint64_t> dropOldestSegment() = 0;

  // Any thread.
  virtual uint64_t sizeBytes() const = 0;
  virtual SpoolStats stats() const = 0;
  // The newest durable position of each file whose batches the spool holds
  // (or held: positions outlive their frames), for file inputs to resume
  // after them. Any thread.
  virtual std::vector<pipeline::SourcePosition> positions() const { return {}; }
};

// The spool's "full" answer from append().
inline bool isFull(const Status& s) { return s.code() == Status::Code::kUnavailable; }

// Opens (and recovers) the spool in options.dir. See disk_spool.h.
Result<std::unique_ptr<Spool>> openDiskSpool(const SpoolOptions& options);

}  // namespace kinship::spool
