#pragma once
// SpoolStage: a pipeline's disk spool in the data path (spool.mode: disk).
//
//   pipeline queue ──► writer thread ──► Spool ──► reader thread ──► sink queue ──► sink
//          ▲                │ appended (and fsynced, per policy)        │
//          │                └─► inputs' acks (checkpoints advance)      │
//          └── pause: the pipeline queue fills while the spool          ◄─ sink's acks (spool.ack)
//              cannot take more (full + block, or disk failing)
//
// The writer appends each batch from the pipeline's queue as one frame and,
// once the frame is durable under the fsync policy (at once for `always` and
// `never`, at the next interval fsync otherwise), acknowledges the batch to
// its input: a file input's checkpoint then covers it. The reader reads
// frames back in order into the sink's queue (bounded by `readAheadBytes`);
// each such batch acknowledges its frame when the sink is done with it, and
// the spool deletes a segment once every frame in it is acknowledged.
//
// Errors never stop the stage: a full spool applies when_full (block: the
// batch waits, so the pipeline queue fills and inputs pause; drop_newest /
// drop_oldest: counted, logged); a failing disk keeps the batch, reports not
// ready and retries every second; a failing read is retried likewise. What
// was appended is never given up by the stage.
//
// Time comes from config.options.clock (the system clock when null): fsync
// intervals, retry and metric periods and shutdown deadlines are read on
// it; the threads' waits are real, at most kTick (100 ms) between looks.
//
// Threading: start(), notReadyReason(), the finish*() calls and close() run
// on the daemon's main thread; the stage runs one writer and one reader
// thread between start() and finishReading()/finishWriting().

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/heartbeat.h"
#include "pipeline/batch_queue.h"
#include "spool/spool.h"
#include "spool/spool_config.h"
#include "spool/spool_metrics.h"

namespace kinship::spool {

class SpoolStage {
 public:
  // `input` is the pipeline's queue (the stage consumes it); the stage's own
  // output() queue, of `readAheadBytes`, is what the sink consumes.
  SpoolStage(SpoolConfig config, pipeline::BatchQueue& input, size_t readAheadBytes, prometheus::Registry& registry,
             const std::string& pipelineName);
  ~SpoolStage();
  SpoolStage(const SpoolStage&) = delete;
  SpoolStage& operator=(const SpoolStage&) = delete;

  pipeline::BatchQueue& output() { return output_; }

  // Tests: `writer` and `reader` are called by those threads at the start
  // of every turn of their loops, so a test can wait for "the writer has
  // tried again" instead of sleeping. Before start() only.
  void observeTurns(std::function<void()> writer, std::function<void()> reader);

  // Opens (and recovers) the spool, then starts both threads. An error here
  // is fatal at startup (say, a directory that cannot be created).
  Status start();

  // Empty when ready; otherwise why not (for /readyz). Any thread.
  std::string notReadyReason() const;

  // Shutdown, in this order, after the inputs have stopped:
  // 1. Appends what the pipeline queue still holds (until `deadline`; the
  //    rest is simply not acknowledged, so file inputs read it again after a
  //    restart), fsyncs, acknowledges the inputs, stops the writer.
  //    Deadlines are on the stage's clock.
  void finishWriting(Clock::TimePoint deadline);
  // 2. Hands the sink the frames not yet read, until caught up or until
  //    `deadline`, then stops the reader. What the sink does not deliver
  //    stays in the spool for the next start.
  void finishReading(Clock::TimePoint deadline);
  // 3. After the sink has stopped: applies its last acknowledgements and
  //    closes the spool (recording the acknowledgement floor).
  void close();

  SpoolStats stats() const;
  // The spool's file positions (Spool::positions), once start() has
  // recovered it; empty before.
  std::vector<pipeline::SourcePosition> positions() const;

  // The writer's and the reader's loops, for the watchdog and /healthz.
  const Heartbeat& writerHeartbeat() const { return writerHeartbeat_; }
  const Heartbeat& readerHeartbeat() const { return readerHeartbeat_; }

 private:
  class AckForwarder;
  enum class AppendOutcome { kDone, kRetryNow, kRetryLater };

  void writerLoop();
  void readerLoop();
  AppendOutcome appendOne(pipeline::BatchPtr& batch);
  void syncAndAcknowledge();
  void acknowledgeDurable();
  void applySinkAcks();
  bool dropOldestViaReader();
  void setWriteProblem(const std::string& problem);
  void setFull(bool full);
  void clearFullIfRoom();
  void publishMetrics();
  // A deadline on the stage's clock as one for the real waits.
  std::chrono::steady_clock::time_point steadyDeadline(Clock::TimePoint until) const;

  const SpoolConfig config_;
  const std::string pipelineName_;
  const Clock& clock_;
  pipeline::BatchQueue& input_;
  pipeline::BatchQueue output_;
  SpoolMetrics metrics_;
  std::unique_ptr<Spool> spool_;
  std::shared_ptr<AckForwarder> ackForwarder_;

  mutable std::mutex mu_;
  std::condition_variable writerWake_;
  std::condition_variable readerWake_;
  std::condition_variable dropDone_;
  bool writerFinishing_ = false;
  bool writerDone_ = false;
  bool readerFinishing_ = false;
  bool appended_ = false;  // the writer appended since the reader last caught up
  bool dropRequested_ = false;
  Clock::TimePoint writerDeadline_ = Clock::TimePoint::max();
  Clock::TimePoint readerDeadline_ = Clock::TimePoint::max();
  std::vector<FrameId> sinkAcks_;  // from the sink's thread, applied by the reader
  std::vector<FrameId> applying_;  // reader thread: swapped with sinkAcks_ (keeps both capacities)
  std::string writeProblem_;       // not empty while appends fail
  std::string readProblem_;        // not empty while reads fail
  bool full_ = false;

  // Writer thread only.
  std::vector<pipeline::BatchSource> awaitingSync_;
  Clock::TimePoint lastSync_;
  Clock::TimePoint lastMetrics_;
  uint64_t droppedSinceLog_ = 0;

  std::function<void()> onWriterTurn_;
  std::function<void()> onReaderTurn_;
  Heartbeat writerHeartbeat_;
  Heartbeat readerHeartbeat_;
  std::thread writer_;
  std::thread reader_;
};

}  // namespace kinship::spool
