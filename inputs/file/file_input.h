#pragma once
// FileInput: tails the files matching a set of glob patterns. Discovers new
// files with inotify on their directories and a periodic rescan (the
// fallback for filesystems and wildcard directories inotify cannot watch),
// follows renamed and deleted files to their end, restarts truncated ones,
// and pauses while its pipeline's queue is full.
// Threading: lives on the I/O thread (see inputs/input.h).

#include <asio.hpp>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

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

 private:
  struct IdentityLess {
    bool operator()(const FileIdentity& a, const FileIdentity& b) const {
      return std::pair(a.device, a.inode) < std::pair(b.device, b.inode);
    }
  };

  void onLine(std::string_view line) override;
  void onLineTooLong(const std::string& path, uint64_t bytes) override;

  void rescan(bool firstScan);
  void scheduleRead();
  void readPass();
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
};


}  // namespace kinship::inputs
