#include "inputs/file/file_input.h"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
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
// And at the sink's default in-flight window (4 requests of 500 records): a
// batch is one spool frame, acknowledged whole, so a kill re-sends the
// frames the sink had started; frames this size keep that near what was in
// flight (issue 15). Smaller ones cost CPU per frame: 500 records per frame
// took the disk-spool benchmark from 3.1-3.2 to 3.45-3.8 CPU-s/GB; 2,000 to
// 3.3-3.4.
constexpr size_t kBatchFlushRecords = 2000;

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
      clock_(*context.clock),
      env_(*context.env),
      pipeline_(context.pipeline),
      id_(context.id),
      config_(std::move(config)),
      acks_(std::make_shared<AckTracker>()),
      checkpoints_(context.dataDir + "/checkpoints", context.pipeline.name() + "." + context.id, *context.env),
      checkpointTimer_(context.io),
      pollTimer_(context.io),
      flushTimer_(context.io),
      alive_(std::make_shared<FileInput*>(this)),
      linesSplit_(inputRecordsSplitCounter(context.metrics, inputLabels(context), "line_too_long")),
      multilineCuts_(inputRecordsSplitCounter(context.metrics, inputLabels(context), "multiline_max_size")) {
  spooledPositions_ = context.spooledPositions;
  // One block for all the files of the input: they are read one at a time.
  tailerOptions_.buffer = std::make_shared<ReadBuffer>(config_.readBufferSize);
  tailerOptions_.readBufferSize = config_.readBufferSize;
  tailerOptions_.maxLineSize = config_.maxLineSize;
  tailerOptions_.longLines = config_.longLines;
  if (config_.parser.isContainer()) {
    containerReader_ = std::make_unique<pipeline::ContainerLogReader>(config_.parser.kind());
  }
  prometheus::Labels labels = inputLabels(context);
  recordsCounter_ = &inputRecordsCounter(context.metrics, labels);
  bytesCounter_ = &inputBytesCounter(context.metrics, labels);
  tooLongCounter_ = &inputDroppedCounter(context.metrics, labels, "line_too_long");
  filesOpenGauge_ = &inputFilesOpenGauge(context.metrics, labels);
  lagGauge_ = &inputFileLagGauge(context.metrics, labels);
  checkpointWritesCounter_ = &inputCheckpointWritesCounter(context.metrics, labels);
  checkpointErrorsCounter_ = &inputCheckpointErrorsCounter(context.metrics, labels);
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
  if (Status s = checkpoints_.prepare(); !s) {
    return Status::ioError("file input " + id_ + ": data_dir is not usable for checkpoints: " + s.message());
  }
  loadCheckpoints();
  loadSpooledPositions();
  running_ = true;
  std::weak_ptr<FileInput*> weak = alive_;
  pipeline_.queue().addSpaceCallback([weak, &io = io_] {
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
  armCheckpointTimer();
  scheduleRead();
  return Status::ok();
}

void FileInput::stop() {
  running_ = false;
  asio::error_code ignored;
  pollTimer_.cancel();
  checkpointTimer_.cancel();
  flushTimer_.cancel();
  if (inotifyStream_) inotifyStream_->cancel(ignored);
  // Partial lines and multiline records still held stay unshipped: the
  // checkpoints are before them, so a restart reads them again whole.
  if (batch_ && !batch_->empty()) submitBatch();
  batch_.reset();
  // What is acknowledged so far; flushCheckpoints() adds what the sink
  // delivers while draining.
  writeCheckpoints();
}

void FileInput::flushCheckpoints() { writeCheckpoints(); }

void FileInput::loadCheckpoints() {
  auto loaded = checkpoints_.load();
  if (!loaded) {
    checkpointErrorsCounter_->Increment();
    log::warn("file", "ignoring the checkpoints of input {}: {}; files start as start_at says", id_,
              loaded.error().message());
    return;
  }
  for (auto& file : *loaded) saved_[file.identity] = std::move(file);
}

void FileInput::loadSpooledPositions() {
  if (!spooledPositions_) return;
  for (auto& position : spooledPositions_()) {
    if (position.file.input != id_) continue;
    FileIdentity identity{static_cast<dev_t>(position.file.device), static_cast<ino_t>(position.file.inode)};
    spooled_[identity] = FileCheckpoint{identity, std::move(position.file.fingerprint), std::move(position.file.path),
                                        position.offset, std::move(position.tail)};
  }
}

std::optional<ResumePoint> FileInput::positionNewTailer(FileTailer& tailer) {
  auto savedIt = saved_.find(tailer.identity());
  auto spooledIt = spooled_.find(tailer.identity());
  if (savedIt == saved_.end() && spooledIt == spooled_.end()) return std::nullopt;
  // Used once: after this the file is followed, and a later file that
  // reuses its inode (once it is deleted) is a new one.
  std::optional<FileCheckpoint> saved;
  std::optional<FileCheckpoint> spooled;
  if (savedIt != saved_.end()) {
    saved = std::move(savedIt->second);
    saved_.erase(savedIt);
  }
  if (spooledIt != spooled_.end()) {
    spooled = std::move(spooledIt->second);
    spooled_.erase(spooledIt);
  }
  auto head = tailer.readHead(kFingerprintBytes);
  auto size = tailer.size();
  if (!head || !size) {
    log::warn("file", "{}", (!head ? head.error() : size.error()).message());
    return std::nullopt;
  }
  const FileCheckpoint* checkpoint = saved ? &*saved : nullptr;
  const FileCheckpoint* spoolPosition = spooled ? &*spooled : nullptr;
  // The furthest of the checkpoint and the spool's position that still fit
  // the file: lines the spool already holds are not read again.
  std::optional<ResumePoint> chosen;
  const FileCheckpoint* from = nullptr;
  for (const FileCheckpoint* found : {checkpoint, spoolPosition}) {
    if (found == nullptr) continue;
    const char* kind = found == checkpoint ? "checkpoint" : "spool position";
    if (!found->tail.empty() && found->offset <= *size) {
      if (Status s = tailer.readBefore(found->offset, found->tail.size(), tail_); !s) {
        log::warn("file", "{}", s.message());
        continue;
      }
    } else {
      tail_.clear();
    }
    auto point = resumePoint(*found, *head, tail_, *size);
    if (!point) {
      log::info("file", "{} has the device and inode of the {} of {} but other first bytes: a new file",
                tailer.path(), kind, found->path);
      continue;
    }
    if (point->reason == ResumePoint::Reason::kTruncated) {
      log::warn("file", "{} is shorter ({} bytes) than its {} ({}): truncated, reading it from its start",
                tailer.path(), *size, kind, found->offset);
    } else if (point->reason == ResumePoint::Reason::kRewritten) {
      log::warn("file", "{} has the first bytes of its {} but other bytes before offset {}: rewritten, reading it "
                "from its start", tailer.path(), kind, found->offset);
    }
    if (!chosen || point->offset > chosen->offset) {
      chosen = point;
      from = found;
    }
  }
  if (!chosen) return std::nullopt;
  if (from == spoolPosition) {
    log::info("file", "{}: resuming at {} after what the spool holds (checkpoint: {})", tailer.path(),
              chosen->offset, checkpoint != nullptr ? std::to_string(checkpoint->offset) : std::string("none"));
  }
  tailer.resumeAt(chosen->offset);
  return chosen;
}

const std::shared_ptr<const pipeline::SourceFile>& FileInput::sourceFileOf(FollowedFile& file) {
  // Made once per file; again while the file is shorter than a full
  // fingerprint (its first bytes are still coming) or after a rewind.
  const auto& current = file.sourceFile;
  if (!current || current->fingerprint.size() < kFingerprintBytes) {
    auto head = file.tailer->readHead(kFingerprintBytes);
    if (head && (!current || head->size() != current->fingerprint.size())) {
      const FileIdentity identity = file.tailer->identity();
      file.sourceFile = std::make_shared<const pipeline::SourceFile>(pipeline::SourceFile{
          id_, static_cast<uint64_t>(identity.device), static_cast<uint64_t>(identity.inode), std::move(*head),
          file.tailer->path()});
    }
  }
  return file.sourceFile;
}

void FileInput::armCheckpointTimer() {
  checkpointTimer_.expires_after(config_.checkpointInterval);
  checkpointTimer_.async_wait([this, alive = alive_](const asio::error_code& ec) {
    if (ec || !*alive || !running_) return;
    writeCheckpoints();
    armCheckpointTimer();
  });
}

void FileInput::writeCheckpoints() {
  // takeChanged() first: it must be cleared even when the files changed too.
  bool changed = acks_->takeChanged();
  if (!changed && !checkpointsDirty_) return;
  std::vector<FileCheckpoint> files;
  files.reserve(files_.size());
  for (const auto& [identity, file] : files_) {
    const auto& tailer = file.tailer;
    auto offset = acks_->acknowledgedOffset(tailer->sourceId());
    if (!offset) continue;
    // Read afresh each time: a file that was short (or truncated and
    // rewritten) since it was opened has other first bytes now.
    auto head = tailer->readHead(kFingerprintBytes);
    Status tail = head ? tailer->readBefore(*offset, kTailBytes, tail_) : Status::ok();
    if (!head || !tail) {
      log::warn("file", "checkpoint of {} left out: {}", tailer->path(),
                (!head ? head.error() : tail).message());
      continue;
    }
    files.push_back({identity, std::move(*head), tailer->path(), *offset, tail_});
  }
  if (Status s = checkpoints_.save(files); !s) {
    checkpointErrorsCounter_->Increment();
    checkpointsDirty_ = true;  // try again at the next tick
    log::warn("file", "cannot save the checkpoints of input {}: {}", id_, s.message());
    return;
  }
  checkpointsDirty_ = false;
  checkpointWritesCounter_->Increment();
}

void FileInput::beginFile(FollowedFile& file) {
  // A batch holds records of one file, so that its acknowledgement moves
  // exactly that file's checkpoint.
  if (batch_ && !batch_->empty() && batchSource_ != file.tailer->sourceId()) submitBatch();
  if (!batch_) batch_ = pipeline_.queue().acquire();
  current_ = &file;
}

void FileInput::closeFile(FollowedFile& file) {
  // Its writer is done with it: an unfinished last line and a record being
  // joined are complete now.
  beginFile(file);
  file.tailer->flushPartialLine(*this);
  if (file.container) file.container->flush(*this);
  if (file.multiline) file.multiline->flush(*this);
  current_ = nullptr;
  // The batch in hand must not outlive its file's bookkeeping unsent.
  if (batch_ && !batch_->empty() && batchSource_ == file.tailer->sourceId()) submitBatch();
  if (batchFile_ == &file) batchFile_ = nullptr;
  acks_->close(file.tailer->sourceId());
  checkpointsDirty_ = true;
  // Fails harmlessly when the kernel already dropped it (target deleted).
  if (file.watch >= 0) ::inotify_rm_watch(inotifyFd_, file.watch);
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

void FileInput::watchLinkTarget(FollowedFile& file) {
  struct stat st {};
  const std::string& path = file.tailer->path();
  if (inotifyStream_ == nullptr || ::lstat(path.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return;
  // inotify_add_watch follows the link: the watch is on the target.
  file.watch = ::inotify_add_watch(inotifyFd_, path.c_str(), IN_MODIFY);
  if (file.watch < 0) {
    log::warn("file", "cannot watch the target of symbolic link {} ({}): appends to it are noticed by polling "
              "every {} ms", path, std::strerror(errno), config_.pollInterval.count());
  }
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
    updateLag(/*refreshSizes=*/true);
    scheduleRead();
    armPollTimer();
  });
}

void FileInput::rescan(bool firstScan) {
  std::set<FileIdentity, IdentityLess> seen;
  for (const auto& pattern : config_.paths) {
    for (auto& path : expandGlob(pattern)) {
      struct stat st {};
      if (excluded(path) || ::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      FileIdentity identity{st.st_dev, st.st_ino};
      if (!seen.insert(identity).second) continue;  // two patterns (or a link) name the same file
      auto it = files_.find(identity);
      if (it != files_.end()) {
        if (it->second.tailer->path() != path) {
          it->second.tailer->setPath(path);
          checkpointsDirty_ = true;
        }
        continue;
      }
      follow(path, identity, firstScan, Found::kByPattern);
    }
  }
  // Every scan, not only the first: a directory that appears later (a
  // volume mounted after the start) may hold a file rotated away from it.
  if (!saved_.empty() || !spooled_.empty()) followRotatedAway(seen, firstScan);
  for (auto& [identity, file] : files_) {
    if (!seen.contains(identity) && !file.tailer->draining()) {
      log::info("file", "{} was rotated away or deleted: reading it to its end", file.tailer->path());
      file.tailer->setDraining();
    }
  }
  filesOpenGauge_->Set(static_cast<double>(files_.size()));
}

void FileInput::follow(const std::string& path, const FileIdentity& identity, bool firstScan, Found found) {
  // Files present at the first start honour start_at; later ones are new
  // and read whole. Either resumes at its position when one fits it.
  auto tailer = FileTailer::open(env_, path, firstScan && config_.startAtEnd, tailerOptions_);
  if (!tailer) {
    log::warn("file", "{}", tailer.error().message());
    return;
  }
  auto resumed = positionNewTailer(**tailer);
  if (found == Found::kByIdentity &&
      (!resumed || resumed->reason == ResumePoint::Reason::kTruncated)) {
    // Its inode, but not its first bytes (or shorter than what was read of
    // it): another file now, which the patterns do not name.
    return;
  }
  if (found == Found::kByIdentity) {
    log::info("file", "{} is a file this input was reading under another name: reading it to its end", path);
  }
  (*tailer)->setSourceId(nextSourceId_++);
  acks_->add((*tailer)->sourceId(), (*tailer)->readOffset());
  checkpointsDirty_ = true;
  log::info("file", "following {} from offset {}", path, (*tailer)->readOffset());
  FollowedFile file;
  if (containerReader_) {
    file.container = std::make_unique<ContainerLogAssembler>(
        *containerReader_, config_.maxLineSize, config_.longLines, config_.partialLineTimeout, (*tailer)->readOffset());
  }
  if (config_.multiline) {
    file.multiline = std::make_unique<MultilineAssembler>(*config_.multiline->start, config_.multiline->maxSize,
                                                          config_.multiline->timeout, (*tailer)->readOffset());
  }
  file.lastGrowth = clock_.now();
  file.tailer = std::move(*tailer);
  watchLinkTarget(file);
  files_.emplace(identity, std::move(file));
}

// A file rotated to a name the patterns do not match (app.log -> app.log.1)
// while kinship was down, or before it had read it all, is found again in
// its old directory by device and inode, and read to its end: its last
// lines are not lost with the rename. Looked for at every scan while a
// position is left whose directory could not be listed yet; a position
// whose directory was listed without its file is dropped (the file is
// gone), so a later file that reuses the inode is not taken for it.
void FileInput::followRotatedAway(const std::set<FileIdentity, IdentityLess>& seen, bool firstScan) {
  std::map<std::string, std::vector<FileIdentity>> byDirectory;
  std::vector<FileIdentity> nowhere;
  for (const auto* known : {&saved_, &spooled_}) {
    for (const auto& [identity, position] : *known) {
      if (seen.contains(identity) || files_.contains(identity)) continue;
      auto slash = position.path.rfind('/');
      if (slash == std::string::npos) {
        nowhere.push_back(identity);
        continue;
      }
      byDirectory[position.path.substr(0, slash == 0 ? 1 : slash)].push_back(identity);
    }
  }
  for (const auto& identity : nowhere) forgetPosition(identity);
  for (const auto& [directory, wanted] : byDirectory) {
    DIR* dir = ::opendir(directory.c_str());
    if (dir == nullptr) continue;  // not there yet: looked for again at the next scan
    while (const dirent* entry = ::readdir(dir)) {
      struct stat st {};
      if (::fstatat(::dirfd(dir), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) continue;
      FileIdentity identity{st.st_dev, st.st_ino};
      if (std::find(wanted.begin(), wanted.end(), identity) == wanted.end() || files_.contains(identity)) continue;
      std::string path = directory == "/" ? "/" + std::string(entry->d_name) : directory + "/" + entry->d_name;
      follow(path, identity, firstScan, Found::kByIdentity);
    }
    ::closedir(dir);
    for (const auto& identity : wanted) forgetPosition(identity);
  }
}

void FileInput::forgetPosition(const FileIdentity& identity) {
  saved_.erase(identity);
  spooled_.erase(identity);
}

bool FileInput::excluded(const std::string& path) const {
  for (const auto& pattern : config_.exclude) {
    if (::fnmatch(pattern.c_str(), path.c_str(), 0) == 0) return true;
  }
  return false;
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
  now_ = clock_.now();
  bool moreToRead = false;
  // Files rotated away or deleted are read before the others: a file that
  // now sits at their path holds later lines, so it waits until they are
  // read to their end.
  bool drainingLeft = false;
  for (bool drainingPass : {true, false}) {
    if (!drainingPass && drainingLeft) break;
    for (auto it = files_.begin(); it != files_.end() && !paused_;) {
      FollowedFile& file = it->second;
      if (file.tailer->draining() != drainingPass) {
        ++it;
        continue;
      }
      bool atEnd = readFromFile(file);
      if (!atEnd) {
        moreToRead = true;
        drainingLeft = drainingLeft || drainingPass;
      }
      if (atEnd && file.tailer->draining()) {
        log::info("file", "closing {}: read to its end after rotation or deletion", file.tailer->path());
        closeFile(file);
        it = files_.erase(it);
        filesOpenGauge_->Set(static_cast<double>(files_.size()));
        continue;
      }
      ++it;
    }
    if (paused_) break;
  }
  current_ = nullptr;
  submitBatch();
  updateLag(/*refreshSizes=*/false);
  armFlushTimer();
  if (moreToRead) scheduleRead();
}

bool FileInput::readFromFile(FollowedFile& file) {
  FileTailer& tailer = *file.tailer;
  beginFile(file);
  if (tailer.checkRewritten()) onRewind();
  for (int block = 0; block < kMaxBlocksPerFilePerPass; ++block) {
    if (!batch_) batch_ = pipeline_.queue().acquire();
    auto outcome = tailer.readBlock(*this);
    if (!outcome) {
      log::warn("file", "{}", outcome.error().message());
      return true;
    }
    if (*outcome == FileTailer::ReadOutcome::kEndOfFile) return true;
    file.lastGrowth = now_;
    if (batch_->bytes() >= kBatchFlushBytes || batch_->size() >= kBatchFlushRecords) submitBatch();
    if (pipeline_.queue().full()) {
      paused_ = true;
      return false;
    }
  }
  return false;
}

void FileInput::flushIdle() {
  if (!running_ || paused_) return;
  // Read first: what arrived since may end the partial lines or add to the
  // records, and then they are not idle.
  readPass();
  if (!running_ || paused_) return;
  now_ = clock_.now();
  for (auto& [identity, file] : files_) {
    bool partialDue = file.tailer->holdsPartialLine() && now_ - file.lastGrowth >= config_.partialLineTimeout;
    auto containerDue = file.container ? file.container->deadline() : std::nullopt;
    auto multilineDue = file.multiline ? file.multiline->deadline() : std::nullopt;
    if (!partialDue && !(containerDue && *containerDue <= now_) && !(multilineDue && *multilineDue <= now_)) continue;
    beginFile(file);
    if (partialDue) file.tailer->flushPartialLine(*this);
    if (file.container) file.container->flushIfIdle(now_, *this);
    if (file.multiline) file.multiline->flushIfIdle(now_, *this);
  }
  current_ = nullptr;
  submitBatch();
  armFlushTimer();
}

void FileInput::armFlushTimer() {
  std::optional<Clock::TimePoint> next;
  for (const auto& [identity, file] : files_) {
    if (file.tailer->holdsPartialLine()) {
      Clock::TimePoint due = file.lastGrowth + config_.partialLineTimeout;
      if (!next || due < *next) next = due;
    }
    for (auto due : {file.container ? file.container->deadline() : std::nullopt,
                     file.multiline ? file.multiline->deadline() : std::nullopt}) {
      if (due && (!next || *due < *next)) next = due;
    }
  }
  if (!next || (flushArmed_ && flushAt_ <= *next)) return;
  flushArmed_ = true;
  flushAt_ = *next;
  // Replaces a later wait, whose handler then sees operation_aborted. A
  // wait from now, not a time point: the clock may not be the timer's.
  flushTimer_.expires_after(*next - clock_.now());
  flushTimer_.async_wait([this, alive = alive_](const asio::error_code& ec) {
    if (ec || !*alive || !running_) return;
    flushArmed_ = false;
    flushIdle();
  });
}

void FileInput::updateLag(bool refreshSizes) {
  uint64_t lag = 0;
  for (auto& [identity, file] : files_) {
    if (refreshSizes) file.tailer->refreshSize();
    lag += file.tailer->lagBytes();
  }
  lagGauge_->Set(static_cast<double>(lag));
}

void FileInput::submitBatch() {
  if (records_ != 0) {
    recordsCounter_->Increment(static_cast<double>(records_));
    bytesCounter_->Increment(static_cast<double>(bytes_));
    records_ = bytes_ = 0;
  }
  linesSplit_.publish();
  multilineCuts_.publish();
  if (batch_ && !batch_->empty()) {
    // Recorded before the sink can see the batch, so its acknowledgement
    // always finds it.
    acks_->submitted(batchSource_, batchEndOffset_);
    batch_->setSource(acks_, batchSource_, batchEndOffset_);
    if (batchFile_ != nullptr) {
      batch_->setSourceFile(sourceFileOf(*batchFile_));
      // One small pread per batch (the bytes were just read, so cached),
      // none per record.
      if (Status s = batchFile_->tailer->readBefore(batchEndOffset_, kTailBytes, tail_); !s) {
        log::warn("file", "{}", s.message());
      }
      batch_->setSourceTail(tail_);
    }
    pipeline_.submit(std::move(batch_));
  }
}

void FileInput::onLine(std::string_view line, uint64_t endOffset) {
  if (current_->container) {
    // The pieces of a line long_lines: split cut are read as lines of their
    // own: the runtime's pieces are far shorter than max_line_size.
    current_->container->addLine(line, endOffset, now_, *this);
  } else if (current_->multiline) {
    current_->multiline->addLine(line, endOffset, now_, *this, current_->continuesLine);
  } else {
    onRecord(line, endOffset, nullptr);
  }
  current_->continuesLine = false;
}

void FileInput::onContainerRecord(std::string_view log, uint64_t endOffset, const pipeline::ContainerLine& container) {
  if (current_->multiline) {
    current_->multiline->addLine(log, endOffset, now_, *this, /*continuesLine=*/false, &container);
  } else {
    onRecord(log, endOffset, &container);
  }
}

void FileInput::onContainerLineSplit() { linesSplit_.add(); }

void FileInput::onContainerLineTooLong(uint64_t bytes) {
  tooLongCounter_->Increment();
  log::warn("file", "dropped a line of {} bytes or more in {}: its pieces joined are longer than max_line_size ({} "
            "bytes)", bytes, current_->tailer->path(), config_.maxLineSize);
}

void FileInput::onRecord(std::string_view record, uint64_t endOffset, const pipeline::ContainerLine* container) {
  ++records_;
  bytes_ += record.size();
  if (pipeline_.wantsOrigin()) {
    const FileTailer& tailer = *current_->tailer;
    const FileIdentity identity = tailer.identity();
    const pipeline::RecordOrigin origin{.source = tailer.path(),
                                        .hasPosition = true,
                                        .device = static_cast<uint64_t>(identity.device),
                                        .inode = static_cast<uint64_t>(identity.inode),
                                        .endOffset = endOffset};
    pipeline_.addLine(record, config_.parser, *batch_, origin, container);
  } else {
    pipeline_.addLine(record, config_.parser, *batch_, pipeline::kNoOrigin, container);
  }
  // Only complete records move the offset a batch acknowledges: never past
  // a partial line or a record still being joined.
  batchSource_ = current_->tailer->sourceId();
  batchFile_ = current_;
  batchEndOffset_ = endOffset;
}

void FileInput::onLineSplit() {
  linesSplit_.add();
  current_->continuesLine = true;
}

void FileInput::onRecordCut() { multilineCuts_.add(); }

void FileInput::onRewind() {
  current_->continuesLine = false;
  // Truncated (and maybe rewritten): its first bytes may differ now.
  current_->sourceFile.reset();
  if (current_->container) current_->container->rewind(0, *this);
  if (current_->multiline) current_->multiline->rewind(0, *this);
}

void FileInput::onLineTooLong(const std::string& path, uint64_t bytes) {
  tooLongCounter_->Increment();
  log::warn("file", "dropped a line of {} bytes or more in {}: longer than max_line_size ({} bytes)", bytes, path,
            config_.maxLineSize);
}

}  // namespace kinship::inputs
