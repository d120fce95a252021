// SpoolStage: the spool in the data path. A test consumer plays the sink
// (pops the stage's output queue and acknowledges batches); a recording
// AckReceiver plays the file input (sees when its batches are durable).

#include "spool/spool_stage.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <sys/stat.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <deque>
#include <map>
#include <set>
#include <thread>

#include "../../support/metrics_reader.h"
#include "tests/support/fault_env.h"
#include "tests/support/manual_clock.h"
#include "tests/support/progress.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/spool/test_batches.h"

namespace kinship::spool {
namespace {

using namespace std::chrono_literals;
using kinship::testing::FaultEnv;
using kinship::testing::TempDir;
using kinship::testing::writeFileBytes;
using test::batchNumber;
using test::makeBatch;
using ::testing::HasSubstr;

// Wakes the tests' waits: the stage's threads at every turn of their loops
// (startObserved), the fake input at every acknowledgement, the fake sink
// at every batch.
kinship::testing::Progress& progress() {
  static kinship::testing::Progress p;
  return p;
}
std::atomic<uint64_t> writerTurns{0};
std::atomic<uint64_t> readerTurns{0};

Status startObserved(SpoolStage& stage) {
  stage.observeTurns(
      [] {
        ++writerTurns;
        progress().notify();
      },
      [] {
        ++readerTurns;
        progress().notify();
      });
  return stage.start();
}

template <typename Pred>
bool eventually(Pred pred) {
  return progress().waitUntil(pred);
}

// Waits until the writer (reader) has begun `n` more turns of its loop:
// whatever it could do meanwhile, it has done.
bool writerTurnsPass(uint64_t n) {
  const uint64_t from = writerTurns;
  return eventually([&] { return writerTurns >= from + n; });
}
bool readerTurnsPass(uint64_t n) {
  const uint64_t from = readerTurns;
  return eventually([&] { return readerTurns >= from + n; });
}

// Records which batches (by source id) were acknowledged to the input, and
// how many fsyncs had happened when each was.
class RecordingInput final : public pipeline::AckReceiver {
 public:
  explicit RecordingInput(FaultEnv* env = nullptr) : env_(env) {}
  void acknowledged(uint64_t sourceId, uint64_t endOffset) override {
    {
      std::lock_guard lock(mu_);
      acked_.insert(sourceId);
      lastOffset_ = endOffset;
      if (env_ != nullptr) syncsAtAck_.push_back(env_->fileSyncs.load());
    }
    progress().notify();
  }
  size_t count() const {
    std::lock_guard lock(mu_);
    return acked_.size();
  }
  bool has(uint64_t id) const {
    std::lock_guard lock(mu_);
    return acked_.count(id) != 0;
  }
  std::vector<int> syncsAtAck() const {
    std::lock_guard lock(mu_);
    return syncsAtAck_;
  }

 private:
  FaultEnv* env_;
  mutable std::mutex mu_;
  std::set<uint64_t> acked_;
  std::vector<int> syncsAtAck_;
  uint64_t lastOffset_ = 0;
};

// Plays the sink: pops batches; acknowledges them unless told to hold.
class TestSink {
 public:
  explicit TestSink(pipeline::BatchQueue& queue) : queue_(queue) {
    thread_ = std::thread([this] { run(); });
  }
  ~TestSink() { stop(); }
  void stop() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  void setHolding(bool holding) { holding_ = holding; }
  void setPopping(bool popping) {
    {
      std::lock_guard lock(mu_);
      popping_ = popping;
    }
    wake_.notify_all();
  }
  void releaseHeld() {
    std::lock_guard lock(mu_);
    for (auto& b : held_) b->notifyAcknowledged();
    held_.clear();
  }
  // As the Kinesis sink does when an answer accepts the first `count`
  // records of each held batch: each one done, then settled.
  void answerHeldRecords(uint32_t count) {
    std::lock_guard lock(mu_);
    for (auto& b : held_) {
      for (uint32_t i = 0; i < count && i < b->size(); ++i) b->notifyRecordDone(i);
    }
    if (!held_.empty()) held_.front()->ackReceiver()->recordsSettled();
  }
  std::vector<int> batchesSeen() const {
    std::lock_guard lock(mu_);
    return seen_;
  }
  size_t recordsSeen() const {
    std::lock_guard lock(mu_);
    return records_;
  }

 private:
  void run() {
    while (!stop_) {
      if (!popping_) {
        std::unique_lock lock(mu_);
        wake_.wait(lock, [this] { return popping_ || stop_; });
        continue;
      }
      auto batch = queue_.popUntil(std::chrono::steady_clock::now() + 20ms);
      if (!batch) continue;
      {
        std::lock_guard lock(mu_);
        seen_.push_back(batchNumber(*batch));
        records_ += batch->size();
        if (holding_) {
          held_.push_back(std::move(batch));
        } else {
          batch->notifyAcknowledged();
        }
      }
      progress().notify();
    }
  }

  pipeline::BatchQueue& queue_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> holding_{false};
  std::atomic<bool> popping_{true};
  mutable std::mutex mu_;
  std::condition_variable wake_;  // popping_ or stop_ changed
  std::vector<int> seen_;
  size_t records_ = 0;
  std::deque<pipeline::BatchPtr> held_;
};

SpoolConfig configFor(const std::string& dir, FaultEnv* env, FsyncPolicy fsync = FsyncPolicy::kNever) {
  SpoolConfig c;
  c.options.dir = dir;
  c.options.env = env;
  c.options.fsync = fsync;
  c.options.maxTotalBytes = 64 << 20;
  c.options.segmentBytes = 1 << 20;
  return c;
}

void pushBatch(pipeline::BatchQueue& queue, const std::shared_ptr<RecordingInput>& input, int n, int records = 3,
               size_t size = 40) {
  auto batch = queue.acquire();
  *batch = makeBatch(n, records, size);
  batch->setSource(input, static_cast<uint64_t>(n), static_cast<uint64_t>(n) * 100);
  queue.push(std::move(batch));
}

double metric(prometheus::Registry& r, const std::string& name, std::map<std::string, std::string> labels = {}) {
  labels["pipeline"] = "app";
  return kinship::testing::metricValue(r, name, labels);
}

TEST(SpoolStage, DeliversEveryBatchInOrderAndAcknowledgesTheInputs) {
  TempDir dir;
  FaultEnv env;
  prometheus::Registry registry;
  pipeline::BatchQueue input(1 << 20);
  auto source = std::make_shared<RecordingInput>();
  SpoolStage stage(configFor(dir.path(), &env), input, 256 << 10, registry, "app");
  ASSERT_TRUE(startObserved(stage).isOk());
  TestSink sink(stage.output());
  for (int n = 0; n < 500; ++n) pushBatch(input, source, n);
  ASSERT_TRUE(eventually([&] { return sink.batchesSeen().size() == 500; }));
  std::vector<int> expected(500);
  for (int n = 0; n < 500; ++n) expected[n] = n;
  EXPECT_EQ(sink.batchesSeen(), expected);
  EXPECT_TRUE(eventually([&] { return source->count() == 500; }));
  EXPECT_TRUE(eventually([&] { return stage.stats().records == 0; }));
  EXPECT_EQ(stage.notReadyReason(), "");
  stage.finishWriting(std::chrono::steady_clock::now() + 1s);
  stage.finishReading(std::chrono::steady_clock::now() + 1s);
  sink.stop();
  stage.close();
  EXPECT_EQ(metric(registry, "kinship_spool_appended_records_total"), 1500);
  EXPECT_EQ(metric(registry, "kinship_spool_records"), 0);
}

TEST(SpoolStage, IntervalPolicyAcknowledgesInputsOnlyAfterAnFsync) {
  TempDir dir;
  FaultEnv env;
  prometheus::Registry registry;
  pipeline::BatchQueue input(1 << 20);
  auto source = std::make_shared<RecordingInput>(&env);
  SpoolConfig config = configFor(dir.path(), &env, FsyncPolicy::kInterval);
  config.options.fsyncInterval = 100ms;
  SpoolStage stage(config, input, 256 << 10, registry, "app");
  ASSERT_TRUE(startObserved(stage).isOk());
  TestSink sink(stage.output());
  for (int n = 0; n < 50; ++n) pushBatch(input, source, n);
  ASSERT_TRUE(eventually([&] { return source->count() == 50; }));
  for (int syncs : source->syncsAtAck()) EXPECT_GE(syncs, 1);
  EXPECT_GE(metric(registry, "kinship_spool_fsync_seconds"), 1);  // histogram: its sample count
}

// The fsync interval is measured on the stage's clock: however often the
// writer turns, appended batches wait for the clock to pass it, then are
// fsynced and acknowledged to their input.
TEST(SpoolStage, IntervalFsyncWaitsForTheStagesClock) {
  TempDir dir;
  FaultEnv env;
  kinship::testing::ManualClock clock;
  prometheus::Registry registry;
  pipeline::BatchQueue input(1 << 20);
  auto source = std::make_shared<RecordingInput>(&env);
  SpoolConfig config = configFor(dir.path(), &env, FsyncPolicy::kInterval);
  config.options.fsyncInterval = 1h;
  config.options.clock = &clock;
  SpoolStage stage(config, input, 256 << 10, registry, "app");
  ASSERT_TRUE(startObserved(stage).isOk());
  for (int n = 0; n < 5; ++n) pushBatch(input, source, n);
  ASSERT_TRUE(eventually([&] { return input.queuedBatches() == 0; }));
  ASSERT_TRUE(writerTurnsPass(3));
  EXPECT_EQ(source->count(), 0u);
  clock.advance(1h);
  ASSERT_TRUE(eventually([&] { return source->count() == 5; }));
  for (int syncs : source->syncsAtAck()) EXPECT_GE(syncs, 1);
}

TEST(SpoolStage, AlwaysPolicyAcknowledgesAfterTheFrameIsSynced) {
  TempDir dir;
  FaultEnv env;
  prometheus::Registry registry;
  pipeline::BatchQueue input(1 << 20);
  auto source = std::make_shared<RecordingInput>(&env);
  SpoolStage stage(configFor(dir.path(), &env, FsyncPolicy::kAlways), input, 256 << 10, registry, "app");
  ASSERT_TRUE(startObserved(stage).isOk());
  for (int n = 0; n < 20; ++n) pushBatch(input, source, n);
  ASSERT_TRUE(eventually([&] { return source->count() == 20; }));
  auto syncs = source->syncsAtAck();
  for (size_t i = 0; i < syncs.size(); ++i) EXPECT_GE(syncs[i], static_cast<int>(i) + 1);
}

TEST(SpoolStage, DiskFailurePausesInputsReportsNotReadyAndRecovers) {
  TempDir dir;
  FaultEnv env;
  prometheus::Registry registry;
  pipeline::BatchQueue input(64 << 10);
  auto source = std::make_shared<RecordingInput>();
  SpoolStage stage(configFor(dir.path(), &env), input, 64 << 10, registry, "app");
  ASSERT_TRUE(startObserved(stage).isOk());
  TestSink sink(stage.output());
  for (int n = 0; n < 10; ++n) pushBatch(input, source, n);
  ASSERT_TRUE(eventually([&] { return sink.batchesSeen().size() == 10 && source->count() == 10; }));

  env.failAppend(ENOSPC, 7, -1);  // every write fails after 7 bytes: a full disk
  int n = 10;
  while (!input.full()) pushBatch(input, source, n++, 10, 1000);
  ASSERT_TRUE(eventually([&] { return stage.notReadyReason() != ""; }));
  EXPECT_THAT(stage.notReadyReason(), HasSubstr("No space left on device"));
  EXPECT_THAT(stage.notReadyReason(), HasSubstr(dir.path()));
  // The stage holds the batch it could not write; an input tops the queue
  // up once more, and then it stays full: inputs stay paused.
  while (!input.full()) pushBatch(input, source, n++, 10, 1000);
  ASSERT_TRUE(writerTurnsPass(2));  // the writer has tried again and failed again
  EXPECT_TRUE(input.full());
  EXPECT_EQ(source->count(), 10u);         // nothing acknowledged that is not on disk
  EXPECT_EQ(sink.batchesSeen().size(), 10u);
  EXPECT_GE(metric(registry, "kinship_spool_write_failing"), 1);

  env.clear();  // space comes back
  ASSERT_TRUE(eventually([&] { return sink.batchesSeen().size() == static_cast<size_t>(n); }));
  EXPECT_EQ(source->count(), static_cast<size_t>(n));
  EXPECT_EQ(stage.notReadyReason(), "");
  std::vector<int> expected(n);
  for (int i = 0; i < n; ++i) expected[i] = i;
  EXPECT_EQ(sink.batchesSeen(), expected);  // none lost, none repeated, in order
  EXPECT_TRUE(eventually([&] { return metric(registry, "kinship_spool_write_failing") == 0; }));
  EXPECT_GE(metric(registry, "kinship_spool_write_errors_total"), 1);
}

TEST(SpoolStage, FullSpoolBlocksUntilTheSinkFreesSpace) {
  TempDir dir;
  prometheus::Registry registry;
  pipeline::BatchQueue input(64 << 10);
  auto source = std::make_shared<RecordingInput>();
  SpoolConfig config = configFor(dir.path(), nullptr);
  config.options.maxTotalBytes = 2 << 20;
  config.options.segmentBytes = 256 << 10;
  SpoolStage stage(config, input, 64 << 10, registry, "app");
  ASSERT_TRUE(startObserved(stage).isOk());
  TestSink sink(stage.output());
  sink.setHolding(true);  // an outage: nothing is acknowledged
  int n = 0;
  // An input that tops the queue up whenever the writer took from it.
  EXPECT_TRUE(eventually([&] {
    if (!input.full()) pushBatch(input, source, n++, 10, 1000);
    return !stage.notReadyReason().empty();
  }));
  ASSERT_THAT(stage.notReadyReason(), HasSubstr("is full"));
  EXPECT_LE(stage.stats().bytes, 2u << 20);
  EXPECT_EQ(metric(registry, "kinship_spool_full"), 1);
  while (!input.full()) pushBatch(input, source, n++, 10, 1000);
  ASSERT_TRUE(writerTurnsPass(2));  // the writer has tried again, and the spool is still full
  EXPECT_TRUE(input.full());
  sink.setHolding(false);
  sink.releaseHeld();
  ASSERT_TRUE(eventually([&] { return sink.batchesSeen().size() == static_cast<size_t>(n); }));
  EXPECT_EQ(stage.notReadyReason(), "");
  EXPECT_EQ(metric(registry, "kinship_spool_dropped_records_total", {{"policy", "drop_newest"}}), 0);
  EXPECT_EQ(source->count(), static_cast<size_t>(n));
}

// Returns delivered + dropped records after pushing `batches` into a full,
// unacknowledging spool under `policy`.
struct DropRun {
  size_t pushed = 0;
  size_t delivered = 0;
  double dropped = 0;
  size_t inputAcks = 0;
  size_t batches = 0;
};

DropRun runDropPolicy(WhenFull policy) {
  TempDir dir;
  prometheus::Registry registry;
  pipeline::BatchQueue input(64 << 10);
  auto source = std::make_shared<RecordingInput>();
  SpoolConfig config = configFor(dir.path(), nullptr);
  config.options.maxTotalBytes = 2 << 20;
  config.options.segmentBytes = 256 << 10;
  config.whenFull = policy;
  SpoolStage stage(config, input, 64 << 10, registry, "app");
  EXPECT_TRUE(startObserved(stage).isOk());
  TestSink sink(stage.output());
  sink.setPopping(false);  // an outage before anything was read
  DropRun run;
  for (int n = 0; n < 600; ++n) {  // ~6 MB into a 2 MiB spool
    EXPECT_TRUE(eventually([&] { return !input.full(); }));
    pushBatch(input, source, n, 10, 1000);
    run.pushed += 10;
  }
  run.batches = 600;
  EXPECT_TRUE(eventually([&] { return input.queuedBatches() == 0; }));
  EXPECT_EQ(stage.notReadyReason(), "");  // dropping, not blocking
  sink.setPopping(true);
  std::string name = std::string(whenFullName(policy));
  EXPECT_TRUE(eventually([&] {
    run.dropped = metric(registry, "kinship_spool_dropped_records_total", {{"policy", name}});
    return sink.recordsSeen() + static_cast<size_t>(run.dropped) == run.pushed;
  }));
  run.delivered = sink.recordsSeen();
  run.inputAcks = source->count();
  return run;
}

TEST(SpoolStage, DropNewestCountsEveryDroppedRecord) {
  DropRun run = runDropPolicy(WhenFull::kDropNewest);
  EXPECT_GT(run.dropped, 0);
  EXPECT_GT(run.delivered, 0u);
  EXPECT_EQ(run.delivered + static_cast<size_t>(run.dropped), run.pushed);
  EXPECT_EQ(run.inputAcks, run.batches);  // dropped on purpose: the input moves past them
}

TEST(SpoolStage, DropOldestCountsEveryDroppedRecord) {
  DropRun run = runDropPolicy(WhenFull::kDropOldest);
  EXPECT_GT(run.dropped, 0);
  EXPECT_GT(run.delivered, 0u);
  EXPECT_EQ(run.delivered + static_cast<size_t>(run.dropped), run.pushed);
}

TEST(SpoolStage, ABatchLargerThanTheSpoolIsDroppedAndCounted) {
  TempDir dir;
  prometheus::Registry registry;
  pipeline::BatchQueue input(1 << 20);
  auto source = std::make_shared<RecordingInput>();
  SpoolConfig config = configFor(dir.path(), nullptr);
  config.options.maxTotalBytes = 8 << 10;
  config.options.segmentBytes = 2 << 10;
  SpoolStage stage(config, input, 64 << 10, registry, "app");
  ASSERT_TRUE(startObserved(stage).isOk());
  TestSink sink(stage.output());
  pushBatch(input, source, 0, 20, 1000);  // ~20 KB: can never fit in 8 KiB
  pushBatch(input, source, 1);            // small: goes through
  ASSERT_TRUE(eventually([&] { return sink.batchesSeen().size() == 1; }));
  EXPECT_EQ(sink.batchesSeen(), std::vector<int>{1});
  EXPECT_TRUE(eventually([&] { return source->has(0) && source->has(1); }));  // dropped on purpose: acknowledged
  EXPECT_EQ(metric(registry, "kinship_spool_dropped_records_total", {{"policy", "too_large"}}), 20);
  EXPECT_EQ(stage.notReadyReason(), "");
}

TEST(SpoolStage, ReadFailureReportsNotReadyAndIsRetried) {
  TempDir dir;
  FaultEnv env;
  prometheus::Registry registry;
  pipeline::BatchQueue input(1 << 20);
  auto source = std::make_shared<RecordingInput>();
  SpoolStage stage(configFor(dir.path(), &env), input, 64 << 10, registry, "app");
  ASSERT_TRUE(startObserved(stage).isOk());
  TestSink sink(stage.output());
  env.failRead(EIO, -1);
  for (int n = 0; n < 5; ++n) pushBatch(input, source, n);
  ASSERT_TRUE(eventually([&] { return stage.notReadyReason() != ""; }));
  EXPECT_THAT(stage.notReadyReason(), HasSubstr("cannot read"));
  EXPECT_TRUE(sink.batchesSeen().empty());
  env.clear();
  ASSERT_TRUE(eventually([&] { return sink.batchesSeen().size() == 5; }));
  EXPECT_EQ(sink.batchesSeen(), (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(stage.notReadyReason(), "");
  EXPECT_TRUE(eventually([&] { return metric(registry, "kinship_spool_read_errors_total") >= 1; }));
}

TEST(SpoolStage, WhatTheSinkDidNotAcknowledgeIsDeliveredAfterARestart) {
  TempDir dir;
  auto source = std::make_shared<RecordingInput>();
  {
    prometheus::Registry registry;
    pipeline::BatchQueue input(1 << 20);
    SpoolStage stage(configFor(dir.path(), nullptr, FsyncPolicy::kInterval), input, 256 << 10, registry, "app");
    ASSERT_TRUE(startObserved(stage).isOk());
    TestSink sink(stage.output());
    for (int n = 0; n < 40; ++n) pushBatch(input, source, n);
    ASSERT_TRUE(eventually([&] { return sink.batchesSeen().size() == 40; }));
    sink.setHolding(true);
    for (int n = 40; n < 100; ++n) pushBatch(input, source, n);
    stage.finishWriting(std::chrono::steady_clock::now() + 2s);
    EXPECT_EQ(source->count(), 100u);  // all spooled and synced: the input may checkpoint past them
    stage.finishReading(std::chrono::steady_clock::now() + 200ms);
    sink.stop();
    stage.close();
  }
  prometheus::Registry registry;
  pipeline::BatchQueue input(1 << 20);
  SpoolStage stage(configFor(dir.path(), nullptr), input, 256 << 10, registry, "app");
  ASSERT_TRUE(startObserved(stage).isOk());
  TestSink sink(stage.output());
  ASSERT_TRUE(eventually([&] { return sink.batchesSeen().size() == 60; }));
  // The reader has looked for more since: had there been a 61st frame, it
  // would have been read.
  ASSERT_TRUE(readerTurnsPass(2));
  EXPECT_EQ(stage.stats().deliveredFramesTotal, 60u);
  std::vector<int> expected;
  for (int n = 40; n < 100; ++n) expected.push_back(n);
  EXPECT_EQ(sink.batchesSeen(), expected);
}

TEST(SpoolStage, RecordsTheSinkAnsweredAreNotDeliveredAgainAfterARestart) {
  TempDir dir;
  auto source = std::make_shared<RecordingInput>();
  {
    prometheus::Registry registry;
    pipeline::BatchQueue input(1 << 20);
    SpoolStage stage(configFor(dir.path(), nullptr), input, 256 << 10, registry, "app");
    ASSERT_TRUE(startObserved(stage).isOk());
    TestSink sink(stage.output());
    sink.setHolding(true);
    for (int n = 0; n < 2; ++n) pushBatch(input, source, n, 10);
    ASSERT_TRUE(eventually([&] { return sink.batchesSeen().size() == 2; }));
    sink.answerHeldRecords(4);
    stage.finishWriting(std::chrono::steady_clock::now() + 2s);
    stage.finishReading(std::chrono::steady_clock::now() + 200ms);
    sink.stop();
    stage.close();
  }
  prometheus::Registry registry;
  pipeline::BatchQueue input(1 << 20);
  SpoolStage stage(configFor(dir.path(), nullptr), input, 256 << 10, registry, "app");
  ASSERT_TRUE(startObserved(stage).isOk());
  TestSink sink(stage.output());
  ASSERT_TRUE(eventually([&] { return sink.batchesSeen().size() == 2; }));
  ASSERT_TRUE(readerTurnsPass(2));  // and has looked for more since
  EXPECT_EQ(stage.stats().deliveredFramesTotal, 2u);
  EXPECT_EQ(sink.recordsSeen(), 12u);  // 6 of each batch's 10
}

// Segments hold records: other local users must not read them, whatever
// the umask (022 here, which would leave group and others read access).
TEST(SpoolStage, CreatesOwnerOnlyDirectoriesAndFiles) {
  TempDir dir;
  const std::string dataDir = dir.path() + "/data";
  const std::string spoolDir = dataDir + "/spool/app";
  prometheus::Registry registry;
  pipeline::BatchQueue input(1 << 20);
  auto source = std::make_shared<RecordingInput>();
  const mode_t oldUmask = ::umask(022);
  SpoolStage stage(configFor(spoolDir, nullptr), input, 256 << 10, registry, "app");
  Status started = stage.start();
  ::umask(oldUmask);
  ASSERT_TRUE(started.isOk()) << started.message();
  TestSink sink(stage.output());
  sink.setHolding(true);  // keeps the segment
  pushBatch(input, source, 0);
  ASSERT_TRUE(eventually([&] { return sink.batchesSeen().size() == 1; }));
  auto modeOf = [](const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777;
  };
  EXPECT_EQ(modeOf(dataDir), 0700u);
  EXPECT_EQ(modeOf(dataDir + "/spool"), 0700u);
  EXPECT_EQ(modeOf(spoolDir), 0700u);
  auto names = posixEnv().listDir(spoolDir);
  ASSERT_TRUE(names.has_value());
  int segments = 0;
  for (const std::string& name : *names) {
    if (name.ends_with(".seg")) ++segments;
    EXPECT_EQ(modeOf(spoolDir + "/" + name), 0600u) << name;
  }
  EXPECT_EQ(segments, 1);
  sink.releaseHeld();
  stage.finishWriting(std::chrono::steady_clock::now() + 1s);
  stage.finishReading(std::chrono::steady_clock::now() + 1s);
  sink.stop();
  stage.close();
  // The ACKED file, written at close.
  names = posixEnv().listDir(spoolDir);
  ASSERT_TRUE(names.has_value());
  for (const std::string& name : *names) EXPECT_EQ(modeOf(spoolDir + "/" + name), 0600u) << name;
}

// An operator may have made the directory for a group on purpose.
TEST(SpoolStage, DirectoriesThatExistKeepTheirMode) {
  TempDir dir;
  const std::string dataDir = dir.path() + "/data";
  ASSERT_EQ(::mkdir(dataDir.c_str(), 0750), 0);
  ASSERT_EQ(::chmod(dataDir.c_str(), 02750), 0);
  prometheus::Registry registry;
  pipeline::BatchQueue input(1 << 20);
  SpoolStage stage(configFor(dataDir + "/spool/app", nullptr), input, 256 << 10, registry, "app");
  ASSERT_TRUE(startObserved(stage).isOk());
  stage.finishWriting(std::chrono::steady_clock::now() + 1s);
  stage.finishReading(std::chrono::steady_clock::now() + 1s);
  stage.close();
  struct stat st {};
  ASSERT_EQ(::stat(dataDir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 02750u);
}

TEST(SpoolStage, UnopenableDirectoryIsAStartError) {
  TempDir dir;
  writeFileBytes(dir.path() + "/file", "x");
  prometheus::Registry registry;
  pipeline::BatchQueue input(1 << 20);
  SpoolStage stage(configFor(dir.path() + "/file/spool", nullptr), input, 256 << 10, registry, "app");
  Status st = stage.start();
  EXPECT_FALSE(st.isOk());
  EXPECT_THAT(st.message(), HasSubstr(dir.path() + "/file/spool"));
}

}  // namespace
}  // namespace kinship::spool
