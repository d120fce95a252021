#include "inputs/file/file_input.h"

#include <glob.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "common/log.h"
#include "inputs/input_metrics.h"

namespace kinship::inputs {

namespace {

// Bounded work per pass so the I/O thread stays responsive to other inputs,
// the admin endpoint and signals.
constexpr int kMaxBlocksPerFilePerPass = 16;
// Submit early when a batch gets big, to keep memory per input bounded.
constexpr size_t kBatchFlushBytes = 1024 * 1024;

std::vector<std::string> expandGlob(const std::string& pattern) {
  std::vector<std::string> paths;
  glob_t g{};
  int rc = ::glob(pattern.c_str(), GLOB_NOSORT, nullptr, &g);
  if (rc == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) paths.emplace_back(g.gl_pathv[i]);
  }
  ::globfree(&g);
  return paths;
}

bool hasWildcard(std::string_view s) { return s.find_first_of("*?[") != std::string_view::npos; }

}  // namespace

FileInput::FileInput(const InputContext& context, FileInputConfig config)
    : io_(context.io),
      pipeline_(context.pipeline),
      id_(context.id),
      config_(std::move(config)),
      pollTimer_(context.io),
      alive_(std::make_shared<FileInput*>(this)) {
  tailerOptions_.readBufferSize = config_.readBufferSize;
  tailerOptions_.maxLineSize = config_.maxLineSize;
  prometheus::Labels labels = inputLabels(context);
  recordsCounter_ = &inputRecordsCounter(context.metrics, labels);
  bytesCounter_ = &inputBytesCounter(context.metrics, labels);
  tooLongCounter_ = &inputDroppedCounter(context.metrics, labels, "line_too_long");
  filesOpenGauge_ = &prometheus::BuildGauge()
                         .Name("kinship_input_files_open")
                         .Help("Files a file input holds open")
                         .Register(context.metrics)
                         .Add(labels);
}

FileInput::~FileInput() {
  *alive_ = nullptr;
  if (inotifyStream_) {
    asio::error_code ignored;
    inotifyStream_->close(ignored);
  } else if (inotifyFd_ >= 0) {
    ::close(inotifyFd_);
  }
}

Status FileInput::start() {
  running_ = true;
  std::weak_ptr<FileInput*> weak = alive_;
  pipeline_.queue().setSpaceCallback([weak, &io = io_] {
    // Runs on the sink thread: hop to the I/O thread.
    asio::post(io, [weak] {
      if (auto alive = weak.lock(); alive && *alive) {
        FileInput* self = *alive;
        if (self->paused_) {
          self->paused_ = false;
          self->scheduleRead();
        }
      }
    });
  });
  watchDirectories();
  rescan(/*firstScan=*/true);
  armPollTimer();
  scheduleRead();
  return Status::ok();
}

void FileInput::stop() {
  running_ = false;
  asio::error_code ignored;
  pollTimer_.cancel();
  if (inotifyStream_) inotifyStream_->cancel(ignored);
  if (batch_ && !batch_->empty()) submitBatch();
  batch_.reset();
}

void FileInput::watchDirectories() {
  inotifyFd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotifyFd_ < 0) {
    log::warn("file", "inotify unavailable ({}): relying on polling every {} ms", std::strerror(errno),
              config_.pollInterval.count());
    return;
  }
  std::set<std::string> dirs;
  for (const auto& pattern : config_.paths) {
    auto slash = pattern.rfind('/');
    std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : pattern.substr(0, slash));
    if (hasWildcard(dir)) continue;  // the rescan timer covers these
    dirs.insert(dir);
  }
  for (const auto& dir : dirs) {
    if (::inotify_add_watch(inotifyFd_, dir.c_str(), IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM |
                                                         IN_DELETE | IN_CLOSE_WRITE) < 0) {
      log::warn("file", "cannot watch directory {} ({}): relying on polling every {} ms", dir,
                std::strerror(errno), config_.pollInterval.count());
    }
  }
  inotifyStream_ = std::make_unique<asio::posix::stream_descriptor>(io_, inotifyFd_);
  inotifyBuffer_.resize(64 * 1024);
  readInotify();
}

void FileInput::readInotify() {
  inotifyStream_->async_read_some(
      asio::buffer(inotifyBuffer_), [this, alive = alive_](const asio::error_code& ec, size_t n) {
        if (ec || !*alive || !running_) return;
        bool created = false;
        for (size_t off = 0; off + sizeof(inotify_event) <= n;) {
          const auto* ev = reinterpret_cast<const inotify_event*>(inotifyBuffer_.data() + off);
          if (ev->mask & (IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_Q_OVERFLOW)) created = true;
          off += sizeof(inotify_event) + ev->len;
        }
        if (created) rescan(/*firstScan=*/false);
        scheduleRead();
        readInotify();
      });
}

void FileInput::armPollTimer() {
  pollTimer_.expires_after(config_.pollInterval);
  pollTimer_.async_wait([this, alive = alive_](const asio::error_code& ec) {
    if (ec || !*alive || !running_) return;
    rescan(/*firstScan=*/false);
    scheduleRead();
    armPollTimer();
  });
}

void FileInput::rescan(bool firstScan) {
  std::set<FileIdentity, IdentityLess> seen;
  for (const auto& pattern : config_.paths) {
    for (auto& path : expandGlob(pattern)) {
      struct stat st {};
      if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      FileIdentity identity{st.st_dev, st.st_ino};
      if (!seen.insert(identity).second) continue;  // two patterns (or a link) name the same file
      auto it = tailers_.find(identity);
      if (it != tailers_.end()) {
        if (it->second->path() != path) it->second->setPath(path);
        continue;
      }
      // Files present at the first start honour start_at; later ones are new and read whole.
      auto tailer = FileTailer::open(path, firstScan && config_.startAtEnd, tailerOptions_);
      if (!tailer) {
        log::warn("file", "{}", tailer.error().message());
        continue;
      }
      log::info("file", "following {} from offset {}", path, (*tailer)->readOffset());
      tailers_.emplace(identity, std::move(*tailer));
    }
  }
  for (auto& [identity, tailer] : tailers_) {
    if (!seen.contains(identity) && !tailer->draining()) {
      log::info("file", "{} was rotated away or deleted: reading it to its end", tailer->path());
      tailer->setDraining();
    }
  }
  filesOpenGauge_->Set(static_cast<double>(tailers_.size()));
}

void FileInput::scheduleRead() {
  if (readScheduled_ || !running_ || paused_) return;
  readScheduled_ = true;
  asio::post(io_, [this, alive = alive_] {
    if (!*alive) return;
    readScheduled_ = false;
    readPass();
  });
}

void FileInput::readPass() {
  if (!running_ || paused_) return;
  bool moreToRead = false;
  for (auto it = tailers_.begin(); it != tailers_.end();) {
    FileTailer& tailer = *it->second;
    bool atEnd = false;
    for (int block = 0; block < kMaxBlocksPerFilePerPass; ++block) {
      if (!batch_) batch_ = pipeline_.queue().acquire();
      auto outcome = tailer.readBlock(*this);
      if (!outcome) {
        log::warn("file", "{}", outcome.error().message());
        atEnd = true;
        break;
      }
      if (*outcome == FileTailer::ReadOutcome::kEndOfFile) {
        atEnd = true;
        break;
      }
      if (batch_->bytes() >= kBatchFlushBytes) submitBatch();
      if (pipeline_.queue().full()) {
        paused_ = true;
        break;
      }
    }
    if (paused_) break;
    if (!atEnd) moreToRead = true;
    if (atEnd && tailer.draining()) {
      log::info("file", "closing {}: read to its end after rotation or deletion", tailer.path());
      it = tailers_.erase(it);
      filesOpenGauge_->Set(static_cast<double>(tailers_.size()));
      continue;
    }
    ++it;
  }
  submitBatch();
  if (moreToRead) scheduleRead();
}

void FileInput::submitBatch() {
  if (records_ != 0) {
    recordsCounter_->Increment(static_cast<double>(records_));
    bytesCounter_->Increment(static_cast<double>(bytes_));
    records_ = bytes_ = 0;
  }
  if (batch_ && !batch_->empty()) pipeline_.submit(std::move(batch_));
}

void FileInput::onLine(std::string_view line) {
  ++records_;
  bytes_ += line.size();
  pipeline_.addLine(line, config_.parser, *batch_);
}

void FileInput::onLineTooLong(const std::string& path, uint64_t bytes) {
  tooLongCounter_->Increment();
  log::warn("file", "dropped a line of {} bytes or more in {}: longer than max_line_size ({} bytes)", bytes, path,
            config_.maxLineSize);
}

}  // namespace kinship::inputs
