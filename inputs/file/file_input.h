#pragma once
// FileInput: tails the files matching a set of glob patterns. Discovers new
// files with inotify on their directories and a periodic rescan (the
// fallback for filesystems and wildcard directories inotify cannot watch),
// follows renamed and deleted files to their end, restarts truncated ones,
// and pauses while its pipeline's queue is full. Keeps per-file checkpoints
// that advance only as the sink acknowledges batches (each batch holds lines
// of one file and carries that file's offset after its last line), saves them
// in data_dir every checkpoint_interval and at shutdown, and resumes each
// file from its checkpoint after a restart.
// Threading: lives on the I/O thread (see inputs/input.h); the sink thread
// only reaches its AckTracker, which is thread-safe.

#include <asio.hpp>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "inputs/file/ack_tracker.h"
#include "inputs/file/checkpoint_store.h"
#include "inputs/file/file_input_config.h"
#include "inputs/file/file_tailer.h"
#include "inputs/input.h"
#include "pipeline/pipeline.h"

namespace prometheus {
class Counter;
class Gauge;
}  // namespace prometheus

namespace kinship::inputs {

class FileInput final : public Input, private LineReceiver {
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

  void onLine(std::string_view line) override;
  void onLineTooLong(const std::string& path, uint64_t bytes) override;

  void loadCheckpoints();
  // Where a file found by a scan starts: its checkpoint, or start_at.
  void positionNewTailer(FileTailer& tailer, bool firstScan);
  void armCheckpointTimer();
  void writeCheckpoints();
  void closeTailer(FileTailer& tailer);
  void rescan(bool firstScan);
  void scheduleRead();
  void readPass();
  // Reads a bounded number of blocks; returns true at the end of the file.
  bool readFromTailer(FileTailer& tailer);
  void submitBatch();
  void armPollTimer();
  void watchDirectories();
  void readInotify();

  asio::io_context& io_;
  pipeline::Pipeline& pipeline_;
  std::string id_;
  FileInputConfig config_;
  FileTailer::Options tailerOptions_;

  std::map<FileIdentity, std::unique_ptr<FileTailer>, IdentityLess> tailers_;
  pipeline::BatchPtr batch_;
  // The file the lines in batch_ come from, and its offset after the last.
  uint64_t batchSource_ = 0;
  uint64_t batchEndOffset_ = 0;
  uint64_t nextSourceId_ = 1;

  std::shared_ptr<AckTracker> acks_;
  CheckpointStore checkpoints_;
  // Checkpoints loaded at start, consulted by the first scan only.
  std::map<FileIdentity, FileCheckpoint, IdentityLess> saved_;
  // Files came, went or were renamed since the last save.
  bool checkpointsDirty_ = false;
  asio::steady_timer checkpointTimer_;
  bool running_ = false;
  bool readScheduled_ = false;
  bool paused_ = false;

  asio::steady_timer pollTimer_;
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
  prometheus::Gauge* filesOpenGauge_;
  prometheus::Counter* checkpointWritesCounter_;
  prometheus::Counter* checkpointErrorsCounter_;
};


}  // namespace kinship::inputs
