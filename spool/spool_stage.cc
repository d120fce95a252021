#include "spool/spool_stage.h"

#include <fmt/format.h>

#include "common/log.h"
#include "common/private_files.h"
#include "common/thread_name.h"

namespace kinship::spool {

namespace {

constexpr std::string_view kComponent = "spool";
// How long an idle thread sleeps before it looks at its flags again.
constexpr auto kTick = std::chrono::milliseconds(100);
// when_full: block: how often a waiting batch tries again (acks also wake it).
constexpr auto kFullRetry = std::chrono::milliseconds(50);
// A failing disk is tried again this often.
constexpr auto kFailureRetry = std::chrono::seconds(1);
constexpr auto kMetricsInterval = std::chrono::milliseconds(500);
// How long the writer waits for the reader to drop the oldest segment.
constexpr auto kDropWait = std::chrono::seconds(2);

using TimePoint = Clock::TimePoint;

}  // namespace

// The sink's acknowledgements of spooled batches: whole batches are queued
// for the reader thread, which alone may call Spool::ack(); single records
// are collected on the sink's thread and handed to Spool::recordsDone() once
// per answer, before the sink sends more. Outlives the stage safely: once
// detached, late acknowledgements are ignored (the frames are delivered
// again after a restart).
class SpoolStage::AckForwarder final : public pipeline::AckReceiver {
 public:
  explicit AckForwarder(SpoolStage* stage) : stage_(stage) {}

  void recordDone(uint64_t segment, uint64_t offset, uint32_t index) override {
    done_.push_back(DoneRecord{FrameId{segment, offset}, index});
  }

  void recordsSettled() override {
    if (done_.empty()) return;
    {
      std::lock_guard guard(mu_);
      if (spool_ != nullptr) spool_->recordsDone(done_);
    }
    done_.clear();
  }

  void setSpool(Spool* spool) {
    std::lock_guard guard(mu_);
    spool_ = spool;
  }

  void acknowledged(uint64_t segment, uint64_t offset) override {
    std::lock_guard guard(mu_);
    if (stage_ == nullptr) return;
    {
      std::lock_guard lock(stage_->mu_);
      stage_->sinkAcks_.push_back(FrameId{segment, offset});
    }
    stage_->readerWake_.notify_one();
  }

  void detach() {
    std::lock_guard guard(mu_);
    stage_ = nullptr;
    spool_ = nullptr;
  }

 private:
  std::mutex mu_;
  SpoolStage* stage_;
  Spool* spool_ = nullptr;
  std::vector<DoneRecord> done_;  // the sink's thread only
};

SpoolStage::SpoolStage(SpoolConfig config, pipeline::BatchQueue& input, size_t readAheadBytes,
                       prometheus::Registry& registry, const std::string& pipelineName)
    : config_(std::move(config)),
      pipelineName_(pipelineName),
      clock_(config_.options.clock != nullptr ? *config_.options.clock : SystemClock::instance()),
      input_(input),
      output_(readAheadBytes),
      metrics_(registry, pipelineName),
      ackForwarder_(std::make_shared<AckForwarder>(this)) {}

SpoolStage::~SpoolStage() {
  if (writer_.joinable()) finishWriting(clock_.now());
  if (reader_.joinable()) finishReading(clock_.now());
  ackForwarder_->detach();
  if (spool_) close();
}

Status SpoolStage::start() {
  // The default <data_dir>/spool/<pipeline> is two levels below data_dir;
  // the spool itself creates only its last level.
  if (Status st = createPrivateDirectories(config_.options.dir); !st) {
    return Status::ioError(fmt::format("cannot create spool directory {}: {}", config_.options.dir, st.message()));
  }
  SpoolOptions options = config_.options;
  options.onFsync = [this](std::chrono::nanoseconds took) { metrics_.observeFsync(took); };
  auto opened = openDiskSpool(options);
  if (!opened) return opened.error();
  spool_ = std::move(*opened);
  ackForwarder_->setSpool(spool_.get());
  publishMetrics();
  output_.addSpaceCallback([this] { readerWake_.notify_one(); });
  lastSync_ = lastMetrics_ = clock_.now();
  writer_ = std::thread([this] {
    setCurrentThreadName("spool-writer");
    writerHeartbeat_.start();
    writerLoop();
    writerHeartbeat_.retire();
  });
  reader_ = std::thread([this] {
    setCurrentThreadName("spool-reader");
    readerHeartbeat_.start();
    readerLoop();
    readerHeartbeat_.retire();
  });
  return Status::ok();
}

void SpoolStage::observeTurns(std::function<void()> writer, std::function<void()> reader) {
  onWriterTurn_ = std::move(writer);
  onReaderTurn_ = std::move(reader);
}

std::chrono::steady_clock::time_point SpoolStage::steadyDeadline(TimePoint until) const {
  return std::chrono::steady_clock::now() + (until - clock_.now());
}

std::string SpoolStage::notReadyReason() const {
  std::lock_guard lock(mu_);
  if (!writeProblem_.empty()) return writeProblem_;
  if (!readProblem_.empty()) return readProblem_;
  if (full_ && config_.whenFull == WhenFull::kBlock) {
    return fmt::format("spool {} is full (max_size {}): inputs paused until the sink frees space",
                       config_.options.dir, config::formatSize(config_.options.maxTotalBytes));
  }
  return {};
}

SpoolStats SpoolStage::stats() const { return spool_ ? spool_->stats() : SpoolStats{}; }

std::vector<pipeline::SourcePosition> SpoolStage::positions() const {
  return spool_ ? spool_->positions() : std::vector<pipeline::SourcePosition>{};
}

// ---- writer thread -------------------------------------------------------

void SpoolStage::writerLoop() {
  pipeline::BatchPtr held;  // popped, not yet appended (the spool is full or failing)
  const bool interval = config_.options.fsync == FsyncPolicy::kInterval;
  for (;;) {
    writerHeartbeat_.beat();
    if (onWriterTurn_) onWriterTurn_();
    TimePoint now = clock_.now();
    bool finishing;
    TimePoint deadline;
    {
      std::lock_guard lock(mu_);
      finishing = writerFinishing_;
      deadline = writerDeadline_;
    }
    if (finishing && now >= deadline) break;

    if (!held) {
      TimePoint until = now + kTick;
      if (interval && !awaitingSync_.empty()) until = std::min(until, lastSync_ + config_.options.fsyncInterval);
      held = input_.popUntil(steadyDeadline(until));
    }
    if (held) {
      AppendOutcome outcome = appendOne(held);
      if (outcome == AppendOutcome::kRetryLater) {
        std::unique_lock lock(mu_);
        auto retry = writeProblem_.empty() ? std::chrono::duration_cast<std::chrono::milliseconds>(kFullRetry)
                                           : std::chrono::duration_cast<std::chrono::milliseconds>(kFailureRetry);
        writerWake_.wait_until(lock, steadyDeadline(std::min(clock_.now() + retry, writerDeadline_)));
      }
    }

    if (!held) clearFullIfRoom();
    now = clock_.now();
    if (!awaitingSync_.empty() && (!interval || now - lastSync_ >= config_.options.fsyncInterval)) {
      syncAndAcknowledge();
    }
    if (now - lastMetrics_ >= kMetricsInterval) publishMetrics();
    if (finishing && !held && input_.closed() && input_.queuedBatches() == 0) break;
  }
  if (held) {
    // Never acknowledged: a file input reads these lines again after a restart.
    log::warn(kComponent, "pipeline {}: shutdown_timeout ran out with a batch of {} records not spooled",
              pipelineName_, held->size());
    held.reset();
  }
  syncAndAcknowledge();
  publishMetrics();
  {
    std::lock_guard lock(mu_);
    writerDone_ = true;
  }
  readerWake_.notify_all();
}

SpoolStage::AppendOutcome SpoolStage::appendOne(pipeline::BatchPtr& batch) {
  auto appended = spool_->append(*batch);
  if (appended) {
    setWriteProblem({});
    clearFullIfRoom();
    awaitingSync_.push_back(batch->source());
    batch.reset();
    {
      std::lock_guard lock(mu_);
      appended_ = true;
    }
    readerWake_.notify_one();
    // `always` fsynced inside append(); `never` does not wait for one.
    if (config_.options.fsync != FsyncPolicy::kInterval) acknowledgeDurable();
    return AppendOutcome::kDone;
  }
  const Status& error = appended.error();
  if (isFull(error)) {
    setFull(true);
    if (config_.whenFull == WhenFull::kBlock) return AppendOutcome::kRetryLater;
    if (config_.whenFull == WhenFull::kDropOldest && dropOldestViaReader()) return AppendOutcome::kRetryNow;
    // drop_newest, or drop_oldest with nothing older to drop.
    metrics_.dropped(config_.whenFull, batch->size());
    if (droppedSinceLog_++ == 0) {
      log::warn(kComponent, "pipeline {}: {}; when_full: {}: dropping the newest records (counted in "
                "kinship_spool_dropped_records_total)", pipelineName_, error.message(), whenFullName(config_.whenFull));
    }
    // Dropped on purpose and counted: the input may move past them.
    batch->notifyAcknowledged();
    batch.reset();
    return AppendOutcome::kDone;
  }
  if (error.code() == Status::Code::kInvalidArgument) {
    metrics_.droppedTooLarge(batch->size());
    log::error(kComponent, "pipeline {}: dropping {} records: {}", pipelineName_, batch->size(), error.message());
    batch->notifyAcknowledged();
    batch.reset();
    return AppendOutcome::kDone;
  }
  setWriteProblem(fmt::format("spool {}: cannot append: {}", config_.options.dir, error.message()));
  return AppendOutcome::kRetryLater;
}

void SpoolStage::syncAndAcknowledge() {
  if (awaitingSync_.empty()) return;
  if (config_.options.fsync == FsyncPolicy::kInterval) {
    if (Status st = spool_->sync(); !st) {
      // The batches stay unacknowledged (their lines are read again after a
      // restart) until an fsync succeeds.
      setWriteProblem(fmt::format("spool {}: fsync failed: {}", config_.options.dir, st.message()));
      lastSync_ = clock_.now();
      return;
    }
  }
  lastSync_ = clock_.now();
  acknowledgeDurable();
}

void SpoolStage::acknowledgeDurable() {
  for (const auto& source : awaitingSync_) source.notifyAcknowledged();
  awaitingSync_.clear();
}

bool SpoolStage::dropOldestViaReader() {
  uint64_t before = spool_->sizeBytes();
  {
    std::unique_lock lock(mu_);
    dropRequested_ = true;
    readerWake_.notify_all();
    dropDone_.wait_for(lock, kDropWait, [this] { return !dropRequested_ || readerFinishing_; });
    if (dropRequested_) {
      dropRequested_ = false;
      return false;
    }
  }
  return spool_->sizeBytes() < before;
}

void SpoolStage::setWriteProblem(const std::string& problem) {
  std::string previous;
  {
    std::lock_guard lock(mu_);
    if (writeProblem_ == problem) return;
    previous = std::exchange(writeProblem_, problem);
  }
  metrics_.setWriteFailing(!problem.empty());
  if (!problem.empty() && previous.empty()) {
    log::error(kComponent, "pipeline {}: {}; inputs paused, retrying every {} s", pipelineName_, problem,
               std::chrono::duration_cast<std::chrono::seconds>(kFailureRetry).count());
  } else if (problem.empty()) {
    log::info(kComponent, "pipeline {}: the spool accepts records again", pipelineName_);
  }
}

void SpoolStage::setFull(bool full) {
  {
    std::lock_guard lock(mu_);
    if (full_ == full) return;
    full_ = full;
  }
  metrics_.setFull(full);
  if (full) {
    log::warn(kComponent, "pipeline {}: spool {} reached max_size {}; when_full: {}", pipelineName_,
              config_.options.dir, config::formatSize(config_.options.maxTotalBytes), whenFullName(config_.whenFull));
  } else {
    if (droppedSinceLog_ > 1) {
      log::warn(kComponent, "pipeline {}: {} batches dropped while the spool was full", pipelineName_,
                droppedSinceLog_);
    }
    droppedSinceLog_ = 0;
    log::info(kComponent, "pipeline {}: spool below max_size again", pipelineName_);
  }
}

// "Full" ends once a segment's worth of room is back, not at the first
// append that fits: one log line per episode, not one per dropped segment.
void SpoolStage::clearFullIfRoom() {
  {
    std::lock_guard lock(mu_);
    if (!full_) return;
  }
  if (spool_->sizeBytes() + config_.options.segmentBytes <= config_.options.maxTotalBytes) setFull(false);
}

void SpoolStage::publishMetrics() {
  lastMetrics_ = clock_.now();
  metrics_.publish(spool_->stats(), clock_.wallNow());
}

// ---- reader thread -------------------------------------------------------

void SpoolStage::readerLoop() {
  bool caughtUp = false;
  TimePoint retryReadAt{};
  for (;;) {
    readerHeartbeat_.beat();
    if (onReaderTurn_) onReaderTurn_();
    applySinkAcks();
    bool drop;
    {
      std::lock_guard lock(mu_);
      drop = dropRequested_;
    }
    if (drop) {
      auto lost = spool_->dropOldestSegment();
      if (!lost) {
        log::error(kComponent, "pipeline {}: when_full: drop_oldest: {}", pipelineName_, lost.error().message());
      } else if (*lost != 0) {
        metrics_.dropped(WhenFull::kDropOldest, *lost);
      }
      {
        std::lock_guard lock(mu_);
        dropRequested_ = false;
      }
      dropDone_.notify_all();
    }
    {
      std::unique_lock lock(mu_);
      TimePoint now = clock_.now();
      if (readerFinishing_ && (now >= readerDeadline_ || (caughtUp && writerDone_ && !appended_))) break;
      // Acks that arrived meanwhile are applied on the next turn; they never
      // hold reading back.
      bool canRead = !dropRequested_ && now >= retryReadAt && (!caughtUp || appended_) && !output_.full();
      if (!canRead) {
        if (sinkAcks_.empty() && !dropRequested_) {
          TimePoint until = std::min(now + std::chrono::duration_cast<std::chrono::milliseconds>(kTick),
                                      readerDeadline_);
          if (retryReadAt > now) until = std::min(until, retryReadAt);
          readerWake_.wait_until(lock, steadyDeadline(until));
        }
        continue;
      }
      appended_ = false;
    }
    pipeline::BatchPtr batch = output_.acquire();  // from the pool: no allocation per frame
    auto next = spool_->readNextInto(*batch);
    if (!next) {
      std::string problem = fmt::format("spool {}: cannot read: {}", config_.options.dir, next.error().message());
      bool first;
      {
        std::lock_guard lock(mu_);
        first = readProblem_.empty();
        readProblem_ = problem;
      }
      if (first) log::error(kComponent, "pipeline {}: {}; retrying every second", pipelineName_, problem);
      retryReadAt = clock_.now() + kFailureRetry;
      caughtUp = false;
      continue;
    }
    {
      std::lock_guard lock(mu_);
      if (!readProblem_.empty()) {
        readProblem_.clear();
        log::info(kComponent, "pipeline {}: the spool reads again", pipelineName_);
      }
    }
    if (!*next) {
      caughtUp = true;
      continue;
    }
    caughtUp = false;
    batch->setSource(ackForwarder_, (*next)->id.segment, (*next)->id.offset);
    output_.push(std::move(batch));
  }
}

void SpoolStage::applySinkAcks() {
  {
    std::lock_guard lock(mu_);
    if (sinkAcks_.empty()) return;
    applying_.swap(sinkAcks_);
  }
  for (const FrameId& id : applying_) {
    // Fails only for a frame whose segment drop_oldest deleted: nothing to do.
    if (Status st = spool_->ack(id); !st) log::debug(kComponent, "pipeline {}: {}", pipelineName_, st.message());
  }
  applying_.clear();
  // Space may have come back for a writer waiting on a full spool.
  writerWake_.notify_one();
}

// ---- shutdown ------------------------------------------------------------

void SpoolStage::finishWriting(TimePoint deadline) {
  {
    std::lock_guard lock(mu_);
    writerFinishing_ = true;
    writerDeadline_ = deadline;
  }
  input_.close();
  writerWake_.notify_all();
  if (writer_.joinable()) writer_.join();
}

void SpoolStage::finishReading(TimePoint deadline) {
  {
    std::lock_guard lock(mu_);
    readerFinishing_ = true;
    readerDeadline_ = deadline;
  }
  readerWake_.notify_all();
  dropDone_.notify_all();
  if (reader_.joinable()) reader_.join();
}

void SpoolStage::close() {
  if (!spool_) return;
  ackForwarder_->setSpool(nullptr);
  // The reader thread has stopped: this thread is the spool's reader now.
  applySinkAcks();
  publishMetrics();
  spool_.reset();
}

}  // namespace kinship::spool
