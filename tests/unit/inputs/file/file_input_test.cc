// FileInput end to end on real files, with the pipeline's queue read by the
// test in place of a sink. Time is real (asio timers) but short; each wait
// runs the I/O loop until a condition holds, with a deadline.

#include "inputs/file/file_input.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <prometheus/registry.h>
#include <yaml-cpp/yaml.h>

#include <asio/io_context.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "inputs/file/checkpoint_store.h"
#include "inputs/file/file_input_config.h"
#include "pipeline/pipeline.h"
#include "tests/support/fault_env.h"
#include "tests/support/metrics_reader.h"

using namespace kinship::inputs;
using kinship::config::EnvLookup;
using kinship::config::Section;
using kinship::pipeline::Pipeline;
using kinship::testing::metricValue;
using namespace std::chrono_literals;

namespace {

const EnvLookup kNoEnv = [](std::string_view) -> std::optional<std::string> { return std::nullopt; };

using Strings = std::vector<std::string>;

class FileInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kinship-file-input-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::filesystem::create_directories(dir_ + "/in");
  }
  void TearDown() override {
    input_.reset();
    pipeline_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // `options`: YAML lines added to the input's map.
  void start(const std::string& options, size_t queueBytes = 64 * 1024 * 1024, const std::string& poll = "20ms",
             const std::string& pattern = "*") {
    std::string yaml =
        "paths: [\"" + dir_ + "/in/" + pattern + "\"]\nstart_at: beginning\npoll_interval: " + poll + "\n" + options;
    Section s = Section::validate(YAML::Load(yaml), fileInputSchema(), "kinship.yaml", "pipelines.app.inputs.0", kNoEnv);
    if (!pipeline_) pipeline_ = std::make_unique<Pipeline>("app", std::nullopt, queueBytes, registry_);
    InputContext context{io_, *pipeline_, registry_, "file_0", dir_ + "/state"};
    context.spooledPositions = [this] { return spooled_; };
    context.env = &env_;
    input_ = std::make_unique<FileInput>(context, fileInputConfigFrom(s));
    ASSERT_TRUE(input_->start().isOk());
  }
  // A clean stop, as the daemon does it: stop, deliver, then save.
  void stop() {
    input_->stop();
    takeRecords();
    input_->flushCheckpoints();
    input_.reset();
  }

  void append(const std::string& name, const std::string& content) {
    std::ofstream out(dir_ + "/in/" + name, std::ios::binary | std::ios::app);
    out << content;
  }

  // Pops what is queued, keeps its records, and acknowledges it as a sink would.
  void takeRecords() {
    while (auto batch = pipeline_->queue().tryPop()) {
      for (size_t i = 0; i < batch->size(); ++i) {
        records_.emplace_back(batch->data(i));
        keys_.emplace_back(batch->key(i));
      }
      if (const kinship::pipeline::SourceFile* file = batch->sourceFile()) {
        batchPositions_.push_back({*file, batch->endOffset(), std::string(batch->sourceTail())});
      }
      batch->notifyAcknowledged();
    }
  }

  // Runs the I/O loop (taking records when `drain`) until `done` holds.
  bool runUntil(const std::function<bool()>& done, std::chrono::milliseconds limit = 5s, bool drain = true) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      io_.run_for(5ms);
      if (io_.stopped()) io_.restart();
      if (drain) takeRecords();
      if (done()) return true;
    }
    return false;
  }
  // Runs the loop for a while (to show that something does not happen).
  void runFor(std::chrono::milliseconds d) {
    runUntil([] { return false; }, d);
  }

  double metric(const std::string& name, std::map<std::string, std::string> labels = {}) {
    labels["input"] = "file_0";
    return metricValue(registry_, name, labels);
  }

  std::optional<uint64_t> checkpointOf(const std::string& name) {
    CheckpointStore store(dir_ + "/state/checkpoints", "app.file_0");
    auto files = store.load();
    if (!files) return std::nullopt;
    for (const auto& f : *files) {
      if (f.path == dir_ + "/in/" + name) return f.offset;
    }
    return std::nullopt;
  }

  std::string dir_;
  // The file system under the input: the real one, with faults on demand.
  kinship::testing::FaultEnv env_;
  asio::io_context io_;
  prometheus::Registry registry_;
  std::unique_ptr<Pipeline> pipeline_;
  std::unique_ptr<FileInput> input_;
  Strings records_;
  Strings keys_;  // each record's partition key
  // What the pipeline's disk spool says it holds, as the input sees it at start.
  std::vector<kinship::pipeline::SourcePosition> spooled_;
  // The source files of the batches taken, in order.
  std::vector<kinship::pipeline::SourcePosition> batchPositions_;
};

}  // namespace

TEST_F(FileInputTest, PartialLineTimeoutShipsAFinalLineWithoutNewline) {
  append("a.log", "one\ntwo");
  start("partial_line_timeout: 100ms\n");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 2; })) << records_.size();
  EXPECT_EQ(records_, (Strings{"one", "two"}));
  // The newline that ends it later makes no empty record.
  append("a.log", "\nthree\n");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 3; }));
  runFor(150ms);
  EXPECT_EQ(records_, (Strings{"one", "two", "three"}));
  stop();
  EXPECT_EQ(checkpointOf("a.log"), 14u);
}

TEST_F(FileInputTest, APartialLineThatKeepsGrowingIsHeld) {
  start("partial_line_timeout: 300ms\n");
  append("a.log", "x");
  auto began = std::chrono::steady_clock::now();
  for (int i = 0; i < 8; ++i) {  // grows every 60 ms: never idle for 300 ms
    runFor(60ms);
    append("a.log", "x");
  }
  EXPECT_TRUE(records_.empty());
  ASSERT_TRUE(runUntil([&] { return records_.size() == 1; }));
  EXPECT_EQ(records_, Strings{std::string(9, 'x')});
  EXPECT_GE(std::chrono::steady_clock::now() - began, 780ms);
}

TEST_F(FileInputTest, APartialLineIsNotCheckpointedUntilShipped) {
  append("a.log", "one\ntw");
  start("partial_line_timeout: 1h\n");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 1; }));
  runFor(50ms);
  stop();
  EXPECT_EQ(checkpointOf("a.log"), 4u);
  // After a restart the line, now finished, arrives whole.
  append("a.log", "o\n");
  start("partial_line_timeout: 1h\n");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 2; }));
  EXPECT_EQ(records_, (Strings{"one", "two"}));
}

// A checkpoint save on a full or failing disk is counted, leaves the file
// saved before as it was, and is tried again at the next save even when no
// acknowledgement came in between.
TEST_F(FileInputTest, AFailedCheckpointSaveIsCountedAndRetried) {
  append("a.log", "one\n");
  start("checkpoint_interval: 1h\n");  // saves only when the test flushes
  ASSERT_TRUE(runUntil([&] { return records_.size() == 1; }));
  input_->flushCheckpoints();
  ASSERT_EQ(checkpointOf("a.log"), 4u);
  EXPECT_EQ(metric("kinship_input_checkpoint_writes_total"), 1);

  append("a.log", "two\n");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 2; }));
  env_.failAppend(ENOSPC, 10);  // the disk fills partway through the new file
  input_->flushCheckpoints();
  EXPECT_EQ(metric("kinship_input_checkpoint_errors_total"), 1);
  EXPECT_EQ(checkpointOf("a.log"), 4u);
  env_.failSync(EIO);
  input_->flushCheckpoints();
  EXPECT_EQ(metric("kinship_input_checkpoint_errors_total"), 2);
  EXPECT_EQ(checkpointOf("a.log"), 4u);
  EXPECT_EQ(metric("kinship_input_checkpoint_writes_total"), 1);

  input_->flushCheckpoints();  // the disk is healthy again
  EXPECT_EQ(checkpointOf("a.log"), 8u);
  EXPECT_EQ(metric("kinship_input_checkpoint_writes_total"), 2);
  EXPECT_EQ(metric("kinship_input_checkpoint_errors_total"), 2);
}

// A read error under a tailed file is logged and the file is read again at
// the next pass: no line is lost or repeated, and the input keeps running.
TEST_F(FileInputTest, AReadErrorIsReportedAndReadingCarriesOn) {
  append("a.log", "one\n");
  start("");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 1; }));
  env_.failRead(EIO, 3);
  append("a.log", "two\nthree\n");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 3; }));
  EXPECT_EQ(records_, (Strings{"one", "two", "three"}));
  stop();
  EXPECT_EQ(checkpointOf("a.log"), 14u);
}

TEST_F(FileInputTest, BatchesCarryTheirFileForTheSpool) {
  append("a.log", "one\ntwo\n");
  start("");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 2; }));
  ASSERT_FALSE(batchPositions_.empty());
  const auto& last = batchPositions_.back();
  struct stat st{};
  ASSERT_EQ(::stat((dir_ + "/in/a.log").c_str(), &st), 0);
  EXPECT_EQ(last.file.input, "file_0");
  EXPECT_EQ(last.file.device, static_cast<uint64_t>(st.st_dev));
  EXPECT_EQ(last.file.inode, static_cast<uint64_t>(st.st_ino));
  EXPECT_EQ(last.file.fingerprint, "one\ntwo\n") << "a short file's first bytes, all of them";
  EXPECT_EQ(last.offset, 8u);
  // The file grows past the fingerprint's length: later batches carry the
  // longer one.
  append("a.log", std::string(100, 'x') + "\n");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 3; }));
  EXPECT_EQ(batchPositions_.back().file.fingerprint.size(), 64u);
  EXPECT_EQ(batchPositions_.back().offset, 109u);
}

// The checkpoint is saved on a timer, so a crash can leave it behind what
// the disk spool already holds: the input resumes after the spool's
// position (issue 15), not at its checkpoint, and not past a position that
// no longer fits the file.
TEST_F(FileInputTest, ResumesAtTheSpoolsPositionWhenItIsPastTheCheckpoint) {
  append("a.log", "one\ntwo\nthree\nfour\n");
  start("");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 4; }));
  input_->stop();
  takeRecords();
  input_->flushCheckpoints();
  input_.reset();
  EXPECT_EQ(checkpointOf("a.log"), 19u);
  // Pretend the checkpoint was saved after "one" only, and the spool holds
  // everything up to "three".
  {
    CheckpointStore store(dir_ + "/state/checkpoints", "app.file_0");
    auto files = store.load();
    ASSERT_TRUE(files && files->size() == 1);
    (*files)[0].offset = 4;
    (*files)[0].tail = "one\n";
    ASSERT_TRUE(store.save(*files));
  }
  ASSERT_FALSE(batchPositions_.empty());
  kinship::pipeline::SourcePosition held = batchPositions_.back();
  held.offset = 14;
  held.tail = "one\ntwo\nthree\n";
  spooled_ = {held};
  records_.clear();
  append("a.log", "five\n");
  start("");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 2; }));
  runFor(50ms);
  EXPECT_EQ(records_, (Strings{"four", "five"})) << "two and three are in the spool already";

  // Another input's position, or one whose first bytes do not match, is
  // not used: the checkpoint decides.
  stop();
  {
    CheckpointStore store(dir_ + "/state/checkpoints", "app.file_0");
    auto files = store.load();
    ASSERT_TRUE(files && files->size() == 1);
    (*files)[0].offset = 4;
    (*files)[0].tail = "one\n";
    ASSERT_TRUE(store.save(*files));
  }
  kinship::pipeline::SourcePosition otherInput = held;
  otherInput.file.input = "file_1";
  kinship::pipeline::SourcePosition otherContent = held;
  otherContent.file.input = "file_0";
  otherContent.file.fingerprint = "not this file's first bytes";
  otherContent.offset = 19;
  spooled_ = {otherInput, otherContent};
  records_.clear();
  start("");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 4; }));
  runFor(50ms);
  EXPECT_EQ(records_, (Strings{"two", "three", "four", "five"}));
}

// Rotated (renamed to a name the pattern does not match) while half read,
// at a crash: after the restart its unread lines still arrive, found again
// by device and inode in its directory (issue 15).
TEST_F(FileInputTest, AFileRotatedAwayWhileHalfReadIsReadToItsEndAfterARestart) {
  append("a.log", "one\ntwo\nthree\nfour\n");
  start("", 64 * 1024 * 1024, "20ms", "*.log");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 4; }));
  stop();
  {
    // As if the crash came when only "one" and "two" were safe.
    CheckpointStore store(dir_ + "/state/checkpoints", "app.file_0");
    auto files = store.load();
    ASSERT_TRUE(files && files->size() == 1);
    (*files)[0].offset = 8;
    (*files)[0].tail = "one\ntwo\n";
    ASSERT_TRUE(store.save(*files));
  }
  std::filesystem::rename(dir_ + "/in/a.log", dir_ + "/in/a.log.1");
  append("a.log", "new\n");
  records_.clear();
  start("", 64 * 1024 * 1024, "20ms", "*.log");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 3; }));
  runFor(100ms);
  std::sort(records_.begin(), records_.end());
  EXPECT_EQ(records_, (Strings{"four", "new", "three"}));
}

// Checkpoints are looked up at every discovery, not only at the first scan
// (issue 15): a log directory that is not there at the start (a volume
// mounted late) holds files this input had read; when it appears, a later
// scan resumes them at their checkpoints instead of reading them again.
TEST_F(FileInputTest, AFileWhoseDirectoryAppearsAfterTheStartResumesAtItsCheckpoint) {
  std::filesystem::create_directories(dir_ + "/in/sub");
  append("sub/a.log", "one\ntwo\nthree\nfour\n");
  start("", 64 * 1024 * 1024, "20ms", "sub/*.log");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 4; }));
  stop();
  ASSERT_EQ(checkpointOf("sub/a.log"), 19u);
  append("sub/a.log", "five\n");
  std::filesystem::rename(dir_ + "/in/sub", dir_ + "/in/away");  // same inodes
  records_.clear();
  start("", 64 * 1024 * 1024, "20ms", "sub/*.log");
  runFor(100ms);  // scans that find nothing
  EXPECT_TRUE(records_.empty());
  std::filesystem::rename(dir_ + "/in/away", dir_ + "/in/sub");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 1; }));
  runFor(100ms);
  EXPECT_EQ(records_, Strings{"five"}) << "one to four were delivered before the restart";
}

// And a file rotated to a name the patterns do not match while it was half
// read is found in that directory by a later scan and read to its end from
// its position, not skipped.
TEST_F(FileInputTest, AFileRotatedAwayIsFoundWhenItsDirectoryAppearsAfterTheStart) {
  std::filesystem::create_directories(dir_ + "/in/sub");
  append("sub/a.log", "one\ntwo\nthree\nfour\n");
  start("", 64 * 1024 * 1024, "20ms", "sub/*.log");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 4; }));
  stop();
  {
    // As if the crash came when only "one" and "two" were safe.
    CheckpointStore store(dir_ + "/state/checkpoints", "app.file_0");
    auto files = store.load();
    ASSERT_TRUE(files && files->size() == 1);
    (*files)[0].offset = 8;
    (*files)[0].tail = "one\ntwo\n";
    ASSERT_TRUE(store.save(*files));
  }
  std::filesystem::rename(dir_ + "/in/sub/a.log", dir_ + "/in/sub/a.log.1");
  append("sub/a.log", "new\n");
  std::filesystem::rename(dir_ + "/in/sub", dir_ + "/in/away");
  records_.clear();
  start("", 64 * 1024 * 1024, "20ms", "sub/*.log");
  runFor(100ms);
  std::filesystem::rename(dir_ + "/in/away", dir_ + "/in/sub");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 3; }));
  runFor(100ms);
  std::sort(records_.begin(), records_.end());
  EXPECT_EQ(records_, (Strings{"four", "new", "three"}));
}

// A position is used once: the file it was found for is followed from
// there, and once that file is gone, a file that later turns up with its
// identity is new and read from its start. (Here the same file, moved out
// of the patterns' directory and back, stands in for a reused inode.)
TEST_F(FileInputTest, APositionIsUsedOnceAndNotForAFileFoundLaterWithItsIdentity) {
  std::filesystem::create_directories(dir_ + "/elsewhere");
  append("a.log", "one\ntwo\nthree\nfour\n");
  start("");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 4; }));
  stop();
  {
    CheckpointStore store(dir_ + "/state/checkpoints", "app.file_0");
    auto files = store.load();
    ASSERT_TRUE(files && files->size() == 1);
    (*files)[0].offset = 8;
    (*files)[0].tail = "one\ntwo\n";
    ASSERT_TRUE(store.save(*files));
  }
  records_.clear();
  start("");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 2; }));
  EXPECT_EQ(records_, (Strings{"three", "four"}));
  // Gone from the patterns: read to its end and closed.
  std::filesystem::rename(dir_ + "/in/a.log", dir_ + "/elsewhere/a.log");
  ASSERT_TRUE(runUntil([&] { return metric("kinship_input_files_open") == 0; }));
  std::filesystem::rename(dir_ + "/elsewhere/a.log", dir_ + "/in/b.log");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 6; }));
  runFor(100ms);
  EXPECT_EQ(records_, (Strings{"three", "four", "one", "two", "three", "four"}))
      << "found again after it was dropped: a new file, read whole";
}

// Truncated and written again while kinship was down, with the same first
// 64 bytes (every line opens with the same long preamble) and past the old
// offset: the bytes before the checkpoint, or before the spool's position,
// differ, so the file is read from its start and its new beginning is not
// lost (issue 15).
TEST_F(FileInputTest, ARewriteWithTheSameFirstBytesIsReadFromItsStart) {
  const std::string preamble = "{\"time\":\"2026-01-01T00:00:00Z\",\"service\":\"checkout\",\"level\":\"info\",\"msg\":\"";
  ASSERT_GT(preamble.size(), 64u);
  auto lines = [&](const std::string& tag, int n) {
    std::string text;
    for (int i = 0; i < n; ++i) text += preamble + tag + std::to_string(i) + "\"}\n";
    return text;
  };
  const std::string path = dir_ + "/in/a.log";
  append("a.log", lines("old ", 3));
  start("");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 3; }));
  stop();
  ASSERT_FALSE(batchPositions_.empty());
  kinship::pipeline::SourcePosition held = batchPositions_.back();
  EXPECT_EQ(held.tail, lines("old ", 3).substr(lines("old ", 3).size() - 64)) << "the batch carries its tail";

  // From the checkpoint.
  { std::ofstream(path, std::ios::binary | std::ios::trunc) << lines("new ", 5); }
  records_.clear();
  start("");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 5; }));
  runFor(50ms);
  EXPECT_EQ(records_.front(), preamble + "new 0\"}");
  stop();

  // From the spool's position, the checkpoint being gone.
  std::filesystem::remove(dir_ + "/state/checkpoints/app.file_0.json");
  held.offset = lines("new ", 4).size();
  held.tail = "not what the file holds before that offset";
  spooled_ = {held};
  records_.clear();
  start("");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 5; }));
  runFor(50ms);
  EXPECT_EQ(records_.front(), preamble + "new 0\"}");
  stop();

  // The same bytes before the position: resumed there.
  std::filesystem::remove(dir_ + "/state/checkpoints/app.file_0.json");
  held.tail = lines("new ", 4).substr(lines("new ", 4).size() - 64);
  spooled_ = {held};
  records_.clear();
  start("");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 1; }));
  runFor(50ms);
  EXPECT_EQ(records_, Strings{preamble + "new 4\"}"});
}

TEST_F(FileInputTest, ADeletedFileShipsItsPartialLineWhenClosed) {
  append("a.log", "first\nlast words");
  start("partial_line_timeout: 1h\n");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 1; }));
  std::filesystem::remove(dir_ + "/in/a.log");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 2; }));
  EXPECT_EQ(records_, (Strings{"first", "last words"}));
  EXPECT_EQ(metric("kinship_input_files_open"), 0);
}

TEST_F(FileInputTest, LongLinesSplitAreCounted) {
  append("a.log", "short\n" + std::string(25, 'L') + "\nend\n");
  start("max_line_size: 10\nlong_lines: split\n");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 5; }));
  EXPECT_EQ(records_, (Strings{"short", std::string(10, 'L'), std::string(10, 'L'), std::string(5, 'L'), "end"}));
  EXPECT_EQ(metric("kinship_input_records_split_total", {{"reason", "line_too_long"}}), 2);
  EXPECT_EQ(metric("kinship_input_dropped_total", {{"reason", "line_too_long"}}), 0);
}

TEST_F(FileInputTest, LongLinesDroppedByDefault) {
  append("a.log", "short\n" + std::string(25, 'L') + "\nend\n");
  start("max_line_size: 10\n");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 2; }));
  EXPECT_EQ(records_, (Strings{"short", "end"}));
  EXPECT_EQ(metric("kinship_input_dropped_total", {{"reason", "line_too_long"}}), 1);
  EXPECT_EQ(metric("kinship_input_records_split_total", {{"reason", "line_too_long"}}), 0);
}

TEST_F(FileInputTest, MultilineJoinsAStackTraceAndShipsItOnTimeout) {
  append("a.log",
         "2024-05-01 INFO up\n"
         "2024-05-01 ERROR failed\n"
         "java.lang.RuntimeException: boom\n"
         "\tat a.B.c(B.java:1)\n");
  start("multiline: { start: '^\\d{4}-', timeout: 100ms }\n");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 2; }));
  EXPECT_EQ(records_, (Strings{"2024-05-01 INFO up",
                               "2024-05-01 ERROR failed\njava.lang.RuntimeException: boom\n\tat a.B.c(B.java:1)"}));
}

TEST_F(FileInputTest, MultilineMaxSizeIsCounted) {
  append("a.log", "S 0123456789\n" + std::string(2000, 'c') + "\n" + "S next\n");
  start("multiline: { start: '^S ', timeout: 50ms, max_size: 1KiB }\n");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 4; }));
  EXPECT_EQ(records_[0], "S 0123456789");
  EXPECT_EQ(records_[1], std::string(1024, 'c'));
  EXPECT_EQ(records_[2], std::string(2000 - 1024, 'c'));
  EXPECT_EQ(records_[3], "S next");
  EXPECT_EQ(metric("kinship_input_records_split_total", {{"reason", "multiline_max_size"}}), 2);
}

// A restart never skips a record that was half assembled when it stopped:
// the checkpoint stays at that record's first line.
TEST_F(FileInputTest, MultilineRestartReadsAHalfAssembledRecordAgainWhole) {
  const std::string first = "S1\nc1\n";
  append("a.log", first + "S2\nc2\n");
  start("multiline: { start: '^S', timeout: 1h }\n");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 1; }));
  runFor(50ms);
  EXPECT_EQ(records_, Strings{"S1\nc1"});
  stop();
  EXPECT_EQ(checkpointOf("a.log"), first.size());

  append("a.log", "c3\nS3\n");
  start("multiline: { start: '^S', timeout: 1h }\n");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 2; }));
  EXPECT_EQ(records_, (Strings{"S1\nc1", "S2\nc2\nc3"}));
}

TEST_F(FileInputTest, ExcludedPathsAreNotFollowed) {
  append("a.log", "kept\n");
  append("b.log.gz", "excluded\n");
  append("debug-1.log", "excluded too\n");
  start("exclude: [\"*.gz\", \"" + dir_ + "/in/debug-*\"]\n");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 1; }));
  runFor(100ms);  // a few polls
  EXPECT_EQ(records_, Strings{"kept"});
  EXPECT_EQ(metric("kinship_input_files_open"), 1);
}

// kinship_input_file_lag_bytes: what the files hold beyond the read offset.
// With nobody taking batches the queue fills, reading pauses, and the lag
// shows what is left; once batches are taken it returns to 0.
TEST_F(FileInputTest, LagGrowsWhileTheSinkStallsAndReturnsToZero) {
  std::string content;
  for (int i = 0; i < 20000; ++i) content += "line " + std::to_string(i) + " padding padding padding\n";
  append("a.log", content);
  start("read_buffer_size: 4KiB\n", /*queueBytes=*/16 * 1024);
  ASSERT_TRUE(runUntil([&] { return metric("kinship_input_file_lag_bytes") > 0; }, 5s, /*drain=*/false));
  double stalled = metric("kinship_input_file_lag_bytes");
  EXPECT_GT(stalled, static_cast<double>(content.size()) / 2);
  EXPECT_EQ(metric("kinship_input_files_open"), 1);

  ASSERT_TRUE(runUntil([&] { return records_.size() == 20000; }));
  ASSERT_TRUE(runUntil([&] { return metric("kinship_input_file_lag_bytes") == 0; }));
  append("a.log", "one more\n");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 20001; }));
  EXPECT_EQ(metric("kinship_input_file_lag_bytes"), 0);
}

TEST_F(FileInputTest, MultilineWithSplitLinesKeepsTheLineWhole) {
  append("a.log", "S first\n" + std::string(25, 'x') + "\nS second\n");
  start("max_line_size: 10\nlong_lines: split\nmultiline: { start: '^S ', timeout: 50ms }\n");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 2; }));
  EXPECT_EQ(records_, (Strings{"S first\n" + std::string(25, 'x'), "S second"}));
}

// A path that is a symbolic link to a file elsewhere: appends to the target
// do not show in the watched directory, so the target itself is watched.
// Polling is made too slow to notice them within the test.
TEST_F(FileInputTest, AppendsToASymlinkedFilesTargetAreSeenWithoutPolling) {
  std::filesystem::create_directories(dir_ + "/real");
  const std::string target = dir_ + "/real/app.log";
  { std::ofstream(target) << "first\n"; }
  std::filesystem::create_symlink(target, dir_ + "/in/app.log");
  start("", 64 * 1024 * 1024, "1h");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 1; }));
  runFor(50ms);
  for (int i = 0; i < 3; ++i) {
    { std::ofstream(target, std::ios::app) << "more " << i << "\n"; }
    ASSERT_TRUE(runUntil([&] { return records_.size() == 2u + i; }, 3s)) << "append " << i;
  }
  EXPECT_EQ(records_, (Strings{"first", "more 0", "more 1", "more 2"}));
}

// A pause in the middle of a line being dropped as too long does not let
// its tail through as a record.
TEST_F(FileInputTest, PartialLineTimeoutDoesNotEndALineBeingDropped) {
  append("a.log", "ok\n" + std::string(30, 'x'));
  start("max_line_size: 10\nread_buffer_size: 4KiB\npartial_line_timeout: 50ms\n");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 1; }));
  runFor(200ms);
  append("a.log", "tail\nnext\n");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 2; }));
  runFor(100ms);
  EXPECT_EQ(records_, (Strings{"ok", "next"}));
  EXPECT_EQ(metric("kinship_input_dropped_total", {{"reason", "line_too_long"}}), 1);
}

namespace {

// A pipeline whose partition key is `key`, its fallback "none".
std::unique_ptr<Pipeline> pipelineKeyedBy(const std::string& key, prometheus::Registry& registry) {
  kinship::pipeline::KeyRules rules;
  rules.partitionKey.keyTemplate = *kinship::pipeline::KeyTemplate::compile(key);
  rules.partitionKey.fallback = kinship::pipeline::KeyFallback::kConstant;
  rules.partitionKey.constant = "none";
  return std::make_unique<Pipeline>("app", std::move(rules), 64 * 1024 * 1024, registry);
}

}  // namespace

// A containerd log file of a pod: the application's lines, joined where the
// runtime cut them (P ... F), stdout and stderr apart; keys from the
// runtime's stream and the application's JSON; a line that is not CRI
// shipped whole and counted.
TEST_F(FileInputTest, CriLinesShipTheApplicationsLinesWithTheRuntimesFields) {
  pipeline_ = pipelineKeyedBy("{stream}:{level|'-'}", registry_);
  append("a.log",
         "2023-10-06T00:17:09.669794202Z stdout F {\"level\":\"info\",\"msg\":\"started\"}\n"
         "2023-10-06T00:17:09.700000000Z stdout P {\"level\":\"error\",\"msg\":\"a long \n"
         "2023-10-06T00:17:09.700000001Z stderr F panic: runtime error\n"
         "2023-10-06T00:17:09.700000002Z stdout F line\"}\n"
         "written by something else\n"
         "2023-10-06T00:17:09.800000000Z stdout F \n");
  start("parser: cri\ninner_parser: json\n");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 5; }));
  EXPECT_EQ(records_, (Strings{R"({"level":"info","msg":"started"})", "panic: runtime error",
                               R"({"level":"error","msg":"a long line"})", "written by something else", ""}));
  EXPECT_EQ(keys_, (Strings{"stdout:info", "stderr:-", "stdout:error", "none", "stdout:-"}));
  EXPECT_EQ(metricValue(registry_, "kinship_pipeline_parse_failures_total",
                        {{"parser", "cri"}, {"reason", "bad_time"}}),
            1);
  EXPECT_EQ(metricValue(registry_, "kinship_pipeline_parse_failures_total",
                        {{"parser", "json"}, {"reason", "invalid_json"}}),
            2);  // the panic line and the empty one are not JSON
}

TEST_F(FileInputTest, DockerJsonFileLinesAreUnescapedAndJoined) {
  pipeline_ = pipelineKeyedBy("{stream}", registry_);
  append("a.log",
         R"({"log":"caf\u00e9 \u003cb\u003e \"quoted\"\n","stream":"stdout","time":"2023-10-06T00:17:09.1Z"})" "\n"
         R"({"log":"first half, ","stream":"stderr","time":"2023-10-06T00:17:09.2Z"})" "\n"
         R"({"log":"second half\n","stream":"stderr","time":"2023-10-06T00:17:09.3Z"})" "\n");
  start("parser: docker\n");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 2; }));
  EXPECT_EQ(records_, (Strings{"caf\xc3\xa9 <b> \"quoted\"", "first half, second half"}));
  EXPECT_EQ(keys_, (Strings{"stdout", "stderr"}));
}

// The checkpoint stays before a line whose pieces are still coming: a
// restart reads it again and ships it whole.
TEST_F(FileInputTest, CriRestartReadsAHalfJoinedLineAgainWhole) {
  const std::string first = "2023-10-06T00:17:09Z stdout F one\n";
  append("a.log", first + "2023-10-06T00:17:09Z stdout P tw\n");
  start("parser: cri\npartial_line_timeout: 1h\n");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 1; }));
  runFor(50ms);
  stop();
  EXPECT_EQ(checkpointOf("a.log"), first.size());

  append("a.log", "2023-10-06T00:17:09Z stdout F o\n");
  start("parser: cri\npartial_line_timeout: 1h\n");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 2; }));
  EXPECT_EQ(records_, (Strings{"one", "two"}));
}

TEST_F(FileInputTest, CriPieceWhoseRestNeverComesIsShippedOnPartialLineTimeout) {
  append("a.log", "2023-10-06T00:17:09Z stdout P the runtime died\n");
  start("parser: cri\npartial_line_timeout: 100ms\n");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 1; }));
  EXPECT_EQ(records_, Strings{"the runtime died"});
}

TEST_F(FileInputTest, CriLineJoinedPastMaxLineSizeIsDroppedAndCounted) {
  append("a.log",
         "2023-10-06T00:17:09Z stdout P 0123456789abcde\n"
         "2023-10-06T00:17:09Z stdout P 0123456789abcde\n"
         "2023-10-06T00:17:09Z stdout P 0123456789abcde\n"
         "2023-10-06T00:17:09Z stdout F 0123456789abcde\n"
         "2023-10-06T00:17:09Z stdout F next\n");
  // Each line fits (46 bytes), the application's line joined (60) does not.
  start("parser: cri\nmax_line_size: 50\n");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 1; }));
  EXPECT_EQ(records_, Strings{"next"});
  EXPECT_EQ(metric("kinship_input_dropped_total", {{"reason", "line_too_long"}}), 1);
}

// multiline joins the application's lines, unwrapped; the record keeps its
// first line's runtime fields.
TEST_F(FileInputTest, MultilineJoinsTheUnwrappedLinesOfACriFile) {
  pipeline_ = pipelineKeyedBy("{time}", registry_);
  append("a.log",
         "2023-10-06T00:17:09.1Z stdout F 2024-05-01 ERROR failed\n"
         "2023-10-06T00:17:09.2Z stdout F java.lang.RuntimeException: boom\n"
         "2023-10-06T00:17:09.3Z stdout P \tat a.B.c(B.ja\n"
         "2023-10-06T00:17:09.4Z stdout F va:1)\n"
         "2023-10-06T00:17:09.5Z stdout F 2024-05-01 INFO next\n");
  start("parser: cri\nmultiline: { start: '^\\d{4}-', timeout: 50ms }\n");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 2; }));
  EXPECT_EQ(records_, (Strings{"2024-05-01 ERROR failed\njava.lang.RuntimeException: boom\n\tat a.B.c(B.java:1)",
                               "2024-05-01 INFO next"}));
  EXPECT_EQ(keys_, (Strings{"2023-10-06T00:17:09.1Z", "2023-10-06T00:17:09.5Z"}));
}

// Issue 19: the files of an input are read through one buffer, each keeping
// only its unfinished line. Many files, each written in two appends cut
// inside a line, read while the others' reads reuse the buffer: every line
// is shipped once, in its file's order, and each checkpoint reaches the end.
TEST_F(FileInputTest, ManyFilesThroughOneReadBufferShipEveryLineOnce) {
  constexpr int kFiles = 300;
  std::vector<std::string> contents(kFiles);
  std::map<std::string, std::vector<std::string>> expected;  // by file
  for (int i = 0; i < kFiles; ++i) {
    for (int l = 0; l < 10; ++l) {
      std::string line = "f" + std::to_string(i) + "-" + std::to_string(l) + " " + std::string((i + l * 37) % 300, 'x');
      expected["f" + std::to_string(i) + "-"].push_back(line);
      contents[i] += line + "\n";
    }
    append("f" + std::to_string(i) + ".log", contents[i].substr(0, contents[i].size() / 2 + 3));
  }
  start("read_buffer_size: 4KiB\npartial_line_timeout: 1h\n");
  for (int i = 0; i < kFiles; ++i) {
    append("f" + std::to_string(i) + ".log", contents[i].substr(contents[i].size() / 2 + 3));
  }
  ASSERT_TRUE(runUntil([&] { return records_.size() >= kFiles * 10u; })) << records_.size();
  runFor(50ms);
  ASSERT_EQ(records_.size(), kFiles * 10u);
  std::map<std::string, std::vector<std::string>> byFile;
  for (const auto& r : records_) byFile[r.substr(0, r.find('-') + 1)].push_back(r);
  EXPECT_EQ(byFile, expected);
  EXPECT_EQ(metric("kinship_input_files_open"), kFiles);
  stop();
  for (int i : {0, 1, 150, kFiles - 1}) {
    EXPECT_EQ(checkpointOf("f" + std::to_string(i) + ".log"), contents[i].size()) << "file " << i;
  }
}

// The pieces of container lines are joined per file, whatever the reads of
// other files in between: each file's P piece waits in its assembler, its F
// piece is cut by the append.
TEST_F(FileInputTest, ManyCriFilesJoinTheirPiecesThroughOneReadBuffer) {
  constexpr int kFiles = 100;
  std::vector<std::string> rest(kFiles);
  for (int i = 0; i < kFiles; ++i) {
    const std::string n = std::to_string(i);
    const std::string content = "2023-10-06T00:17:09Z stdout P first half of " + n + ", \n"
                                "2023-10-06T00:17:09Z stdout F second half of " + n + "\n";
    const size_t cut = content.size() - 8 - (i % 5);
    append("p" + n + ".log", content.substr(0, cut));
    rest[i] = content.substr(cut);
  }
  start("parser: cri\nread_buffer_size: 4KiB\npartial_line_timeout: 1h\n");
  runFor(100ms);
  EXPECT_TRUE(records_.empty());
  for (int i = 0; i < kFiles; ++i) append("p" + std::to_string(i) + ".log", rest[i]);
  ASSERT_TRUE(runUntil([&] { return records_.size() >= kFiles; })) << records_.size();
  runFor(50ms);
  Strings expected;
  for (int i = 0; i < kFiles; ++i) {
    expected.push_back("first half of " + std::to_string(i) + ", second half of " + std::to_string(i));
  }
  std::sort(expected.begin(), expected.end());
  Strings got = records_;
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, expected);
}

// One file's line grows past max_line_size (and past the 4 KiB read buffer)
// without ending, while the other files are read: theirs all ship, and the
// long one is dropped and counted once it ends.
TEST_F(FileInputTest, AnOversizedUnfinishedLineInOneFileDoesNotAffectTheOthers) {
  append("big.log", "before\n" + std::string(3000, 'L'));
  start("max_line_size: 100\nread_buffer_size: 4KiB\npartial_line_timeout: 1h\n");
  ASSERT_TRUE(runUntil([&] { return records_.size() == 1; }));
  Strings expected{"before"};
  for (int round = 0; round < 5; ++round) {
    append("big.log", std::string(3000, 'L'));
    for (int i = 0; i < 20; ++i) {
      const std::string line = "other " + std::to_string(i) + " round " + std::to_string(round);
      append("o" + std::to_string(i) + ".log", line + "\n" + (round == 4 ? "" : "unfinished "));
      if (round == 0) {
        expected.push_back(line);
      } else {
        expected.push_back("unfinished " + line);
      }
    }
    ASSERT_TRUE(runUntil([&] { return records_.size() == expected.size(); })) << "round " << round;
  }
  append("big.log", "\nafter\n");
  ASSERT_TRUE(runUntil([&] { return records_.size() == expected.size() + 1; }));
  runFor(50ms);
  expected.push_back("after");
  Strings got = records_;
  std::sort(got.begin(), got.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(got, expected);
  EXPECT_EQ(metric("kinship_input_dropped_total", {{"reason", "line_too_long"}}), 1);
  stop();
  EXPECT_EQ(checkpointOf("big.log"), 7u + 18000u + 1u + 6u);
}
