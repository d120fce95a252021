#pragma once
// FileInput: tails the files matching a set of glob patterns, less those
// matching `exclude`. Discovers new files with inotify on their directories
// and a periodic rescan (the fallback for filesystems and wildcard
// directories inotify cannot watch), follows renamed and deleted files to
// their end, restarts truncated ones, and pauses while its pipeline's queue
// is full. Lines become records one by
// one, or joined by a MultilineAssembler; the lines of container log files
// (parser cri or docker) are first unwrapped, and the pieces the runtime
// cut joined, by a ContainerLogAssembler; an unfinished last line is shipped
// once it has not grown for partial_line_timeout, and when its file is
// closed. Keeps per-file checkpoints that advance only as the sink
// acknowledges batches (each batch holds records of one file and carries
// that file's offset after its last complete record), saves them
// in data_dir every checkpoint_interval and at shutdown, and resumes each
// file from its checkpoint after a restart.
// Memory: all its files are read through one ReadBuffer of read_buffer_size
// (they are read one at a time); a file keeps of its own its tailer's
// unfinished line and what its assemblers join (each up to max_line_size,
// only while held), and about 2 KiB of bookkeeping (issue 19).
// Threading: lives on the I/O thread (see inputs/input.h); the sink thread
// only reaches its AckTracker, which is thread-safe.

#include <asio.hpp>

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "inputs/file/ack_tracker.h"
#include "inputs/file/checkpoint_store.h"
#include "inputs/file/container_log_assembler.h"
#include "inputs/file/file_input_config.h"
#include "inputs/file/file_tailer.h"
#include "inputs/file/multiline_assembler.h"
#include "inputs/input.h"
#include "inputs/input_metrics.h"
#include "pipeline/pipeline.h"

namespace prometheus {
class Counter;
class Gauge;
}  // namespace prometheus

namespace kinship::inputs {

class FileInput final : public Input,
                        private LineReceiver,
                        private RecordReceiver,
                        private ContainerRecordReceiver {
 public:
  FileInput(const InputContext& context, FileInputConfig config);
  ~FileInput() override;

  Status start() override;
  void stop() override;
  void flushCheckpoints() override;

 private:
  struct IdentityLess {
    bool operator()(const FileIdentity& a, const FileIdentity& b) const {
      return std::pair(a.device, a.inode) < std::pair(b.device, b.inode);
    }
  };

  // A followed file: its tailer and what turns its lines into records.
  struct FollowedFile {
    std::unique_ptr<FileTailer> tailer;
    std::unique_ptr<ContainerLogAssembler> container;  // parser cri or docker only
    std::unique_ptr<MultilineAssembler> multiline;     // null: each line is a record
    Clock::TimePoint lastGrowth;                     // when a read last gave bytes
    // Its last line was a piece of a split line: the next one continues it.
    bool continuesLine = false;
    // inotify watch on the file itself, for a path that is a symbolic link
    // (appends to its target do not show in the watched directory); -1: none.
    int watch = -1;
    // What its batches carry for the disk spool to record (sourceFileOf).
    std::shared_ptr<const pipeline::SourceFile> sourceFile;
  };

  // LineReceiver (from the tailer of current_).
  void onLine(std::string_view line, uint64_t endOffset) override;
  void onLineTooLong(const std::string& path, uint64_t bytes) override;
  void onLineSplit() override;
  void onRewind() override;
  // RecordReceiver (lines, or what the multiline assembler joined).
  void onRecord(std::string_view record, uint64_t endOffset, const pipeline::ContainerLine* container) override;
  void onRecordCut() override;
  // ContainerRecordReceiver (the application's lines of a container log).
  void onContainerRecord(std::string_view log, uint64_t endOffset, const pipeline::ContainerLine& container) override;
  void onContainerLineSplit() override;
  void onContainerLineTooLong(uint64_t bytes) override;

  void loadCheckpoints();
  void loadSpooledPositions();
  // How a scan found a file: its path matches the patterns, or it is a
  // file this input was reading, found by identity under another name.
  enum class Found { kByPattern, kByIdentity };
  void follow(const std::string& path, const FileIdentity& identity, bool firstScan, Found found);
  void followRotatedAway(const std::set<FileIdentity, IdentityLess>& seen, bool firstScan);
  // Drops what saved_ and spooled_ hold for a file.
  void forgetPosition(const FileIdentity& identity);
  const std::shared_ptr<const pipeline::SourceFile>& sourceFileOf(FollowedFile& file);
  // Where a file found by a scan (the first or a later one) starts: the
  // furthest of its checkpoint and its spool position that fit it, or
  // where it was opened (start_at, or 0 after the first scan). The
  // positions of its identity are used up either way. Returns the position
  // taken, if any.
  std::optional<ResumePoint> positionNewTailer(FileTailer& tailer);
  void armCheckpointTimer();
  void writeCheckpoints();
  // Ships what the file still holds (partial line, multiline record), then
  // forgets it.
  void closeFile(FollowedFile& file);
  // Makes `file` the one whose records go into batch_.
  void beginFile(FollowedFile& file);
  void rescan(bool firstScan);
  void scheduleRead();
  void readPass();
  // Reads a bounded number of blocks; returns true at the end of the file.
  bool readFromFile(FollowedFile& file);
  // Ships partial lines and multiline records whose time has come.
  void flushIdle();
  void armFlushTimer();
  void updateLag(bool refreshSizes);
  bool excluded(const std::string& path) const;
  void submitBatch();
  void armPollTimer();
  void watchDirectories();
  void watchLinkTarget(FollowedFile& file);
  void readInotify();

  asio::io_context& io_;
  const Clock& clock_;
  Env& env_;
  pipeline::Pipeline& pipeline_;
  std::string id_;
  FileInputConfig config_;
  FileTailer::Options tailerOptions_;

  // Reads the lines of container log files (parser cri or docker; null
  // for the others), for every file of the input.
  std::unique_ptr<pipeline::ContainerLogReader> containerReader_;
  std::map<FileIdentity, FollowedFile, IdentityLess> files_;
  // The file being read or flushed, and the time of this pass.
  FollowedFile* current_ = nullptr;
  Clock::TimePoint now_;
  pipeline::BatchPtr batch_;
  // The file the lines in batch_ come from, and its offset after the last.
  uint64_t batchSource_ = 0;
  uint64_t batchEndOffset_ = 0;
  uint64_t nextSourceId_ = 1;

  std::shared_ptr<AckTracker> acks_;
  CheckpointStore checkpoints_;
  // Checkpoints loaded at start, and the positions the disk spool holds
  // for this input's files, consulted whenever a scan finds a file (the
  // first or a later one): a file resumes at the furthest of the two that
  // still fits it. An entry goes once its file is found, or once its
  // directory was listed without it: only files not seen since the start
  // keep one, so a later file reusing an inode is not taken for an old one.
  std::map<FileIdentity, FileCheckpoint, IdentityLess> saved_;
  std::map<FileIdentity, FileCheckpoint, IdentityLess> spooled_;
  // Scratch for the bytes before a position (a batch's end, a checkpoint,
  // a saved position being checked): reused, no allocation per batch.
  std::string tail_;
  std::function<std::vector<pipeline::SourcePosition>()> spooledPositions_;
  // The file of the records in batch_ (set with batchSource_).
  FollowedFile* batchFile_ = nullptr;
  // Files came, went or were renamed since the last save.
  bool checkpointsDirty_ = false;
  asio::steady_timer checkpointTimer_;
  bool running_ = false;
  bool readScheduled_ = false;
  bool paused_ = false;

  asio::steady_timer pollTimer_;
  asio::steady_timer flushTimer_;
  bool flushArmed_ = false;
  Clock::TimePoint flushAt_;
  int inotifyFd_ = -1;
  std::unique_ptr<asio::posix::stream_descriptor> inotifyStream_;
  std::vector<char> inotifyBuffer_;
  // Lets callbacks that outlive the input (queue space) find out it is gone.
  std::shared_ptr<FileInput*> alive_;

  // Counted locally per pass, published per batch.
  uint64_t records_ = 0;
  uint64_t bytes_ = 0;
  prometheus::Counter* recordsCounter_;
  prometheus::Counter* bytesCounter_;
  prometheus::Counter* tooLongCounter_;
  PendingCount linesSplit_;
  PendingCount multilineCuts_;
  prometheus::Gauge* filesOpenGauge_;
  prometheus::Gauge* lagGauge_;
  prometheus::Counter* checkpointWritesCounter_;
  prometheus::Counter* checkpointErrorsCounter_;
};

}  // namespace kinship::inputs
