#include "spool/disk_spool.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "common/log.h"
#include "spool/spool_format.h"

namespace kinship::spool {
namespace {

constexpr std::string_view kComponent = "spool";

uint64_t wallMs(const Clock& clock) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock.wallNow().time_since_epoch()).count();
  return ms < 0 ? 0 : static_cast<uint64_t>(ms);
}

// Recovery validates each checked payload's structure and needs its record
// count; decoding into a reused scratch batch does both.
// A type 2 frame also gives its file's position.
bool countRecords(uint8_t type, const std::string& payload, uint64_t& records, uint64_t& appendMs,
                  pipeline::RecordBatch& scratch, pipeline::SourcePosition& position, bool& hasPosition) {
  if (!format::decodeFramePayload(type, payload, scratch, appendMs, &position, &hasPosition).isOk()) return false;
  records = scratch.size();
  return true;
}

}  // namespace

Result<std::unique_ptr<Spool>> openDiskSpool(const SpoolOptions& options) {
  auto s = DiskSpool::open(options);
  if (!s) return fail(s.error());
  return std::unique_ptr<Spool>(std::move(*s));
}

DiskSpool::DiskSpool(const SpoolOptions& options)
    : options_(options),
      env_(options.env != nullptr ? *options.env : posixEnv()),
      clock_(options.clock != nullptr ? *options.clock : SystemClock::instance()) {}

Result<std::unique_ptr<DiskSpool>> DiskSpool::open(const SpoolOptions& options) {
  if (options.dir.empty()) return fail(Status::invalidArgument("spool dir is empty"));
  if (options.segmentBytes < format::kSegmentHeaderSize + format::kFrameHeaderSize) {
    return fail(Status::invalidArgument("spool segment size too small"));
  }
  if (options.maxTotalBytes < options.segmentBytes) {
    return fail(Status::invalidArgument("spool max size is smaller than one segment"));
  }
  std::unique_ptr<DiskSpool> spool(new DiskSpool(options));
  if (Status st = spool->recover(); !st) return fail(st);
  spool->lastSync_ = spool->clock_.now();
  return spool;
}

DiskSpool::~DiskSpool() {
  {
    std::lock_guard lock(progressMu_);
    persistAckStateLocked(true);
    if (ackFile_) (void)ackFile_->close();
  }
  if (active_) {
    if (unsynced_ && options_.fsync != FsyncPolicy::kNever) (void)syncActive();
    (void)active_->close();
  }
  if (lockFd_ >= 0) ::close(lockFd_);  // releases the directory
}

std::string DiskSpool::pathOf(uint64_t seq) const { return options_.dir + "/" + format::segmentFileName(seq); }

// Straight to the OS, not through Env: the lock holds no data, and no test
// needs a fault in it.
Status DiskSpool::lockDirectory() {
  const std::string path = options_.dir + "/" + std::string(format::kLockFileName);
  lockFd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lockFd_ < 0) return Status::ioError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  if (::flock(lockFd_, LOCK_EX | LOCK_NB) == 0) return Status::ok();
  const int err = errno;
  ::close(lockFd_);
  lockFd_ = -1;
  if (err == EWOULDBLOCK) {
    return Status::ioError(fmt::format(
        "spool directory {} is in use by another process: is another kinship running with the same data_dir (or "
        "spool.dir)? Two spools in one directory would deliver and delete each other's records",
        options_.dir));
  }
  return Status::ioError(fmt::format("{}: cannot lock: {}", path, std::strerror(err)));
}

Status DiskSpool::recover() {
  if (Status st = env_.createDir(options_.dir); !st) return st;
  if (Status st = lockDirectory(); !st) return st;
  auto names = env_.listDir(options_.dir);
  if (!names) return names.error();
  std::vector<uint64_t> seqs;
  if (std::find(names->begin(), names->end(), format::kAckFileName) != names->end()) recoverAckState();
  const FrameId floor = readFloor_;
  for (const std::string& name : *names) {
    uint64_t seq = 0;
    std::string_view n = name;
    bool bad = n.ends_with(".bad");
    if (bad) n.remove_suffix(4);
    if (!format::parseSegmentFileName(n, seq)) continue;
    // Never reuse a sequence number, not even one set aside as bad.
    nextSeq_ = std::max(nextSeq_, seq + 1);
    if (!bad) seqs.push_back(seq);
  }
  std::sort(seqs.begin(), seqs.end());

  recoverPositionsFile();
  pipeline::RecordBatch scratch;
  pipeline::SourcePosition position;
  for (size_t i = 0; i < seqs.size(); ++i) {
    const bool last = i + 1 == seqs.size();
    const std::string path = pathOf(seqs[i]);
    auto file = env_.openReadable(path);
    if (!file) return file.error();
    auto size = (*file)->size();
    if (!size) return size.error();
    SegmentReader reader(std::move(*file));
    if (*size < format::kSegmentHeaderSize) {
      // Nothing in it can be read; a crash between creating the file and
      // writing its header leaves this.
      log::warn(kComponent, "{}: {} bytes, shorter than a segment header; removed", path, *size);
      ++counters_.badSegmentsTotal;
      if (Status st = env_.removeFile(path); !st) return st;
      continue;
    }
    if (Status st = reader.checkHeader(); !st) {
      if (st.code() == Status::Code::kIoError) return st;
      log::error(kComponent, "{}: {}; set aside as {}.bad", path, st.message(), path);
      ++counters_.badSegmentsTotal;
      if (Status rs = env_.rename(path, path + ".bad"); !rs) return rs;
      continue;
    }
    Segment seg;
    seg.seq = seqs[i];
    seg.sealed = true;
    uint64_t offset = format::kSegmentHeaderSize;
    bool live = false;  // reached the first frame at or after the ack floor
    for (;;) {
      SegmentReader::Outcome outcome = reader.readFrame(offset, *size);
      if (outcome == SegmentReader::Outcome::kEnd) break;
      if (outcome == SegmentReader::Outcome::kIoError) return reader.status();
      uint64_t records = 0, appendMs = 0;
      bool hasPosition = false;
      if (outcome == SegmentReader::Outcome::kFrame &&
          countRecords(reader.type(), reader.payload(), records, appendMs, scratch, position, hasPosition)) {
        // Acknowledged frames count too: their lines were read.
        if (hasPosition) positions_.recovered(position);
        if (!live && FrameId{seg.seq, offset} >= floor) {
          live = true;
          seg.start = offset;
          seg.firstAppendWallMs = appendMs;
        }
        if (live) {
          ++seg.frames;
          seg.records += records;
        }
        offset = reader.next();
        continue;
      }
      if (outcome == SegmentReader::Outcome::kTruncated && last) {
        log::warn(kComponent, "{}: torn tail at {} ({} bytes) truncated: {}", path, offset, *size - offset, reader.status().message());
        ++counters_.tornTailsTotal;
        if (Status st = env_.truncateFile(path, offset); !st) return st;
        *size = offset;
      } else {
        std::string why = outcome == SegmentReader::Outcome::kFrame ? "batch payload does not parse" : reader.status().message();
        log::error(kComponent, "{}: corrupt frame at {}: {}; skipping the last {} bytes of the segment", path, offset, why,
                   *size - offset);
        ++counters_.corruptFramesTotal;
        counters_.corruptBytesTotal += *size - offset;
      }
      break;
    }
    seg.end = offset;
    if (!live) seg.start = seg.end;  // nothing left to deliver: deleted once the reader passes
    seg.fileBytes = *size;
    totalBytes_ += seg.fileBytes;
    liveFrames_ += seg.frames;
    liveRecords_ += seg.records;
    segments_.push_back(seg);
  }
  if (!segments_.empty()) {
    log::info(kComponent, "{}: recovered {} segments, {} frames, {} records, {} bytes", options_.dir, segments_.size(), liveFrames_,
              liveRecords_, totalBytes_);
  }
  return Status::ok();
}

DiskSpool::Segment* DiskSpool::findLocked(uint64_t seq) {
  auto it = std::lower_bound(segments_.begin(), segments_.end(), seq, [](const Segment& s, uint64_t v) { return s.seq < v; });
  return it != segments_.end() && it->seq == seq ? &*it : nullptr;
}

void DiskSpool::maybeDeleteLocked(uint64_t seq) {
  Segment* seg = findLocked(seq);
  if (seg == nullptr || !seg->sealed || seg->acked < seg->frames) return;
  if (seg->frames == 0 && !seg->passedByReader) return;
  // The positions its frames hold must outlive it. If they cannot be
  // written, deleting it anyway costs re-reading after a crash, not loss.
  if (Status st = persistPositions(); !st) {
    ++counters_.positionsErrorsTotal;
    log::warn(kComponent, "{}/{}: {}", options_.dir, format::kPositionsFileName, st.message());
  }
  const std::string path = pathOf(seq);
  if (Status st = env_.removeFile(path); !st) {
    // Kept in the list: deleteEligibleLocked() retries on later acks, and a
    // restart redelivers it at worst.
    log::warn(kComponent, "{}", st.message());
    deleteFailed_ = true;
    return;
  }
  totalBytes_ -= seg->fileBytes;
  // A deque's elements are not contiguous: find the position by sequence,
  // never by pointer arithmetic.
  auto it = std::lower_bound(segments_.begin(), segments_.end(), seq, [](const Segment& s, uint64_t v) { return s.seq < v; });
  segments_.erase(it);
}

void DiskSpool::deleteEligibleLocked() {
  deleteFailed_ = false;
  std::vector<uint64_t> eligible;
  for (const Segment& s : segments_) {
    if (s.sealed && s.acked >= s.frames && (s.frames > 0 || s.passedByReader)) eligible.push_back(s.seq);
  }
  for (uint64_t seq : eligible) maybeDeleteLocked(seq);
}

Status DiskSpool::syncActive() {
  auto start = clock_.now();
  Status st = active_->sync();
  auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(clock_.now() - start).count();
  lastSync_ = clock_.now();
  if (options_.onFsync) options_.onFsync(std::chrono::nanoseconds(nanos));
  std::lock_guard lock(mu_);
  ++counters_.fsyncsTotal;
  counters_.fsyncNanosTotal += nanos > 0 ? static_cast<uint64_t>(nanos) : 0;
  if (st) {
    unsynced_ = false;
    positions_.synced();
  } else {
    positions_.syncFailed();
  }
  return st;
}

// After a failed write or fsync: the active file's state is unknown, so the
// writer leaves it; what was published stays readable.
void DiskSpool::failActive() {
  needRoll_ = true;
  std::lock_guard lock(mu_);
  ++counters_.writeErrorsTotal;
}

Status DiskSpool::roll(uint64_t frameBytes) {
  if (active_) {
    if (unsynced_ && options_.fsync != FsyncPolicy::kNever) {
      if (Status st = syncActive(); !st) log::error(kComponent, "{}", st.message());
    }
    (void)active_->close();
    active_.reset();
    std::lock_guard lock(mu_);
    if (Segment* seg = findLocked(activeSeq_)) {
      seg->sealed = true;
      // Left before a frame was published in it (its first append failed):
      // nothing in it to deliver and the reader never opens it, so delete it
      // now rather than when the reader passes it; otherwise a disk that
      // stays full leaves one more file per retry.
      if (seg->end == seg->start) seg->passedByReader = true;
    }
    maybeDeleteLocked(activeSeq_);
  }
  unsynced_ = false;
  {
    std::lock_guard lock(mu_);
    if (totalBytes_ + format::kSegmentHeaderSize + frameBytes > options_.maxTotalBytes) {
      ++counters_.fullRejectionsTotal;
      return Status::unavailable(fmt::format("spool {} full ({} of {} bytes)", options_.dir, totalBytes_, options_.maxTotalBytes));
    }
  }
  const uint64_t seq = nextSeq_++;
  const std::string path = pathOf(seq);
  auto file = env_.openWritable(path);
  if (!file) return file.error();
  std::unique_ptr<WritableFile> f = std::move(*file);
  Status st = f->append(format::segmentHeader());
  if (st && options_.fsync != FsyncPolicy::kNever) st = env_.syncDir(options_.dir);
  if (!st) {
    (void)f->close();
    (void)env_.removeFile(path);  // best effort; recovery removes a short one anyway
    return st;
  }
  active_ = std::move(f);
  activeSeq_ = seq;
  activeSize_ = format::kSegmentHeaderSize;
  needRoll_ = false;
  Segment seg;
  seg.seq = seq;
  seg.start = activeSize_;
  seg.end = activeSize_;
  seg.fileBytes = activeSize_;
  std::lock_guard lock(mu_);
  totalBytes_ += activeSize_;
  segments_.push_back(seg);
  return Status::ok();
}

Result<FrameId> DiskSpool::append(const pipeline::RecordBatch& batch) {
  if (batch.empty()) return fail(Status::invalidArgument("empty batch"));
  const uint64_t frameBytes = format::batchFrameSize(batch);
  if (frameBytes - format::kFrameHeaderSize > format::kMaxPayloadBytes ||
      frameBytes + format::kSegmentHeaderSize > options_.maxTotalBytes) {
    return fail(Status::invalidArgument(fmt::format("batch of {} bytes can never fit in the spool", frameBytes)));
  }
  bool mustRoll = needRoll_ || !active_ ||
                  (activeSize_ > format::kSegmentHeaderSize && activeSize_ + frameBytes > options_.segmentBytes);
  if (!mustRoll) {
    std::lock_guard lock(mu_);
    if (totalBytes_ + frameBytes > options_.maxTotalBytes) {
      // When the active segment is all acknowledged, leaving it frees its
      // space (roll() deletes it); otherwise a small cap could be held
      // forever by a segment that nothing will ever delete.
      const Segment* seg = findLocked(activeSeq_);
      if (seg == nullptr || seg->frames == 0 || seg->acked < seg->frames) {
        ++counters_.fullRejectionsTotal;
        return fail(
            Status::unavailable(fmt::format("spool {} full ({} of {} bytes)", options_.dir, totalBytes_, options_.maxTotalBytes)));
      }
      mustRoll = true;
    }
  }
  if (mustRoll) {
    if (Status st = roll(frameBytes); !st) {
      if (!isFull(st)) failActive();
      return fail(st);
    }
  }

  frameBuf_.clear();
  const uint64_t appendMs = wallMs(clock_);
  format::appendBatchFrame(batch, appendMs, frameBuf_);
  const uint64_t offset = activeSize_;
  Status st = active_->append(frameBuf_);
  bool wrote = st.isOk();
  if (st) {
    unsynced_ = true;
    if (options_.fsync == FsyncPolicy::kAlways ||
        (options_.fsync == FsyncPolicy::kInterval && clock_.now() - lastSync_ >= options_.fsyncInterval)) {
      st = syncActive();
    }
  }
  if (!st) {
    // Take the frame back so that nothing reports it as spooled; if the OS
    // refuses, its bytes stay past the published end (and are counted
    // against the cap) until the segment is deleted.
    Status cut = active_->truncate(offset);
    {
      std::lock_guard lock(mu_);
      if (!cut) {
        if (Segment* seg = findLocked(activeSeq_)) {
          uint64_t grown = offset + frameBytes - seg->fileBytes;
          seg->fileBytes += grown;
          totalBytes_ += grown;
        }
      }
    }
    log::error(kComponent, "append to {} failed{}: {}", pathOf(activeSeq_), wrote ? " at fsync" : "", st.message());
    failActive();
    return fail(st);
  }

  activeSize_ = offset + frameBytes;
  if (batch.sourceFile() != nullptr) {
    positions_.appended(batch.sharedSourceFile(), batch.endOffset(), batch.sourceTail());
    // Without fsyncs nothing is ever more durable than written.
    if (options_.fsync == FsyncPolicy::kNever || !unsynced_) positions_.synced();
  }
  std::lock_guard lock(mu_);
  Segment* seg = findLocked(activeSeq_);
  if (seg->frames == 0 && seg->acked == 0) seg->firstAppendWallMs = appendMs;
  seg->end = activeSize_;
  totalBytes_ += activeSize_ - seg->fileBytes;
  seg->fileBytes = activeSize_;
  ++seg->frames;
  seg->records += batch.size();
  ++liveFrames_;
  liveRecords_ += batch.size();
  ++counters_.appendedFramesTotal;
  counters_.appendedRecordsTotal += batch.size();
  counters_.appendedBytesTotal += frameBytes;
  return FrameId{activeSeq_, offset};
}

Status DiskSpool::sync() {
  if (!active_ || !unsynced_) return Status::ok();
  Status st = syncActive();
  if (!st) failActive();
  return st;
}

Status DiskSpool::maybeSync(Clock::TimePoint now) {
  if (options_.fsync != FsyncPolicy::kInterval || !active_ || !unsynced_) return Status::ok();
  if (now - lastSync_ < options_.fsyncInterval) return Status::ok();
  return sync();
}

Result<std::optional<SpooledBatch>> DiskSpool::readNext() {
  SpooledBatch out;
  auto frame = readNextInto(out.batch);
  if (!frame) return fail(frame.error());
  if (!*frame) return std::optional<SpooledBatch>();
  out.id = (*frame)->id;
  out.appendedAt = (*frame)->appendedAt;
  return std::optional<SpooledBatch>(std::move(out));
}

Result<std::optional<SpooledFrame>> DiskSpool::readNextInto(pipeline::RecordBatch& into) {
  for (;;) {
    uint64_t limit = 0;
    uint64_t limitFrames = 0;   // the segment's frames up to `limit`, read with it
    uint64_t limitRecords = 0;
    bool sealed = false;
    {
      std::lock_guard lock(mu_);
      if (!reader_) {
        auto it = std::lower_bound(segments_.begin(), segments_.end(), readSeq_,
                                   [](const Segment& s, uint64_t v) { return s.seq < v; });
        if (it == segments_.end()) return std::optional<SpooledFrame>();
        readSeq_ = it->seq;
        readOffset_ = it->start;
        readFramesInSeg_ = 0;
        readRecordsInSeg_ = 0;
      }
      Segment* seg = findLocked(readSeq_);
      // A segment deleted under the reader was fully acknowledged: move on.
      limit = seg != nullptr ? seg->end : readOffset_;
      limitFrames = seg != nullptr ? seg->frames : 0;
      limitRecords = seg != nullptr ? seg->records : 0;
      sealed = seg == nullptr || seg->sealed;
      if (readOffset_ >= limit) {
        if (!sealed) return std::optional<SpooledFrame>();
        if (seg != nullptr) seg->passedByReader = true;
        maybeDeleteLocked(readSeq_);
        reader_.reset();
        ++readSeq_;
        continue;
      }
    }
    if (!reader_) {
      auto file = env_.openReadable(pathOf(readSeq_));
      if (!file) {
        std::lock_guard lock(mu_);
        ++counters_.readErrorsTotal;
        return fail(file.error());
      }
      reader_ = std::make_unique<SegmentReader>(std::move(*file));
    }
    SegmentReader::Outcome outcome = reader_->readFrame(readOffset_, limit);
    if (outcome == SegmentReader::Outcome::kIoError) {
      std::lock_guard lock(mu_);
      ++counters_.readErrorsTotal;
      return fail(reader_->status());
    }
    SpooledFrame out;
    uint64_t appendMs = 0;
    Status why = reader_->status();
    if (outcome == SegmentReader::Outcome::kFrame) {
      why = format::decodeFramePayload(reader_->type(), reader_->payload(), into, appendMs, nullptr, nullptr);
      if (why) {
        out.id = FrameId{readSeq_, readOffset_};
        out.appendedAt = std::chrono::system_clock::time_point(std::chrono::milliseconds(appendMs));
        readOffset_ = reader_->next();
        ++readFramesInSeg_;
        const uint32_t records = static_cast<uint32_t>(into.size());
        readRecordsInSeg_ += records;
        InflightFrame entry;
        entry.progress.reset(records);
        const bool anyLeft = applyRecoveredProgress(out.id, into, entry);
        {
          std::lock_guard progress(progressMu_);
          deliveredLocked(out.id, std::move(entry), FrameId{readSeq_, readOffset_});
        }
        std::lock_guard lock(mu_);
        if (!anyLeft) {
          // Every record was done before the restart: acknowledged as read.
          ++counters_.ackedFramesTotal;
          --liveFrames_;
          liveRecords_ -= records;
          if (Segment* seg = findLocked(out.id.segment)) {
            ++seg->acked;
            maybeDeleteLocked(out.id.segment);
          }
          continue;
        }
        ++counters_.deliveredFramesTotal;
        return std::optional<SpooledFrame>(out);
      }
    }
    // Damaged since it was written or recovered: skip what was published of
    // this segment; frames appended later start at that (frame) boundary.
    log::error(kComponent, "{}: {}; skipping to {}", pathOf(readSeq_), why.message(), limit);
    std::lock_guard lock(mu_);
    ++counters_.corruptFramesTotal;
    counters_.corruptBytesTotal += limit - readOffset_;
    if (Segment* seg = findLocked(readSeq_)) {
      // The frames of [readOffset_, limit) will never be delivered: stop
      // expecting acks for them, so the segment can still be deleted.
      uint64_t lostFrames = limitFrames - readFramesInSeg_;
      uint64_t lostRecords = limitRecords - readRecordsInSeg_;
      seg->frames -= lostFrames;
      seg->records -= lostRecords;
      liveFrames_ -= lostFrames;
      liveRecords_ -= lostRecords;
    }
    readOffset_ = limit;
  }
}

Status DiskSpool::ack(FrameId id) {
  std::lock_guard progress(progressMu_);
  auto it = inflight_.find(id);
  if (it == inflight_.end() || it->second.acked) {
    return Status::invalidArgument(fmt::format("ack of frame {}:{} that is not awaiting acknowledgement", id.segment, id.offset));
  }
  const uint64_t records = it->second.progress.records();
  it->second.acked = true;
  // Above the floor it must be recorded as done; below, it goes.
  it->second.progress.markAllDone();
  while (!inflight_.empty() && inflight_.begin()->second.acked) inflight_.erase(inflight_.begin());
  progressDirty_ = true;
  {
    std::lock_guard lock(mu_);
    const bool retryDeletes = deleteFailed_;  // not the one failing just now: that would fail again at once
    ++counters_.ackedFramesTotal;
    --liveFrames_;
    liveRecords_ -= records;
    if (Segment* seg = findLocked(id.segment)) {
      ++seg->acked;
      maybeDeleteLocked(id.segment);
    }
    if (retryDeletes) deleteEligibleLocked();
  }
  persistAckStateLocked(false);
  return Status::ok();
}

void DiskSpool::recordsDone(std::span<const DoneRecord> done) {
  std::lock_guard progress(progressMu_);
  auto it = inflight_.end();
  for (const DoneRecord& record : done) {
    if (it == inflight_.end() || it->first != record.frame) it = inflight_.find(record.frame);
    // A frame acknowledged whole (its ack can overtake its last records).
    if (it == inflight_.end() || it->second.acked) continue;
    uint32_t index = record.index;
    const auto& frameIndexOf = it->second.frameIndexOf;
    if (!frameIndexOf.empty()) {
      if (index >= frameIndexOf.size()) continue;
      index = frameIndexOf[index];
    }
    if (it->second.progress.markDone(index)) progressDirty_ = true;
  }
  persistAckStateLocked(false);
}

Result<uint64_t> DiskSpool::dropOldestSegment() {
  std::lock_guard lock(mu_);
  if (segments_.empty() || !segments_.front().sealed) return uint64_t{0};
  Segment& seg = segments_.front();
  uint64_t lostFrames = 0;
  uint64_t lostRecords = 0;
  if (readSeq_ < seg.seq || (readSeq_ == seg.seq && !reader_)) {
    // Not reached by the reader: nothing of it was read or acknowledged.
    lostFrames = seg.frames;
    lostRecords = seg.records;
  } else if (readSeq_ == seg.seq) {
    lostFrames = seg.frames - readFramesInSeg_;
    lostRecords = seg.records - readRecordsInSeg_;
  }
  const std::string path = pathOf(seg.seq);
  if (Status st = env_.removeFile(path); !st) return fail(st);
  log::warn(kComponent, "{}: dropped the oldest segment ({} unread records) to make room", path, lostRecords);
  // Frames already read stay in inflight_: their acks still find them and
  // account for them; the rest are gone.
  liveFrames_ -= lostFrames;
  liveRecords_ -= lostRecords;
  totalBytes_ -= seg.fileBytes;
  if (readSeq_ <= seg.seq) {
    reader_.reset();
    readSeq_ = seg.seq + 1;
  }
  segments_.pop_front();
  return lostRecords;
}

void DiskSpool::deliveredLocked(FrameId id, InflightFrame entry, FrameId next) {
  const bool acked = entry.acked;
  inflight_.insert_or_assign(id, std::move(entry));
  readFloor_ = std::max(readFloor_, next);
  if (acked) {
    while (!inflight_.empty() && inflight_.begin()->second.acked) inflight_.erase(inflight_.begin());
    progressDirty_ = true;
  }
}

bool DiskSpool::applyRecoveredProgress(FrameId id, pipeline::RecordBatch& into, InflightFrame& entry) {
  FrameProgress recovered;
  {
    std::lock_guard progress(progressMu_);
    auto it = recovered_.find(id);
    if (it == recovered_.end()) return true;
    recovered = std::move(it->second);
    recovered_.erase(it);
  }
  // A frame with another record count is not the frame ACKED spoke of.
  if (recovered.records() != into.size() || recovered.doneCount() == 0) return true;
  entry.progress = std::move(recovered);
  if (entry.progress.allDone()) {
    entry.acked = true;
    return false;
  }
  std::swap(filterScratch_, into);
  into.clear();
  for (uint32_t i = 0; i < filterScratch_.size(); ++i) {
    if (entry.progress.isDone(i)) continue;
    into.append(filterScratch_.data(i), filterScratch_.key(i), filterScratch_.explicitHashKey(i));
    entry.frameIndexOf.push_back(i);
  }
  log::info(kComponent, "{}: frame at {} was half delivered before the restart: sending its {} undelivered records of {}",
            pathOf(id.segment), id.offset, into.size(), filterScratch_.size());
  return true;
}

void DiskSpool::recoverAckState() {
  const std::string path = options_.dir + "/" + std::string(format::kAckFileName);
  std::string bytes(2 * kAckSlotBytes, '\0');
  Status st;
  if (auto f = env_.openReadable(path); !f) {
    st = f.error();
  } else if (auto n = (*f)->read(0, bytes.size(), bytes.data()); !n) {
    st = n.error();
  } else {
    bytes.resize(*n);
  }
  AckState state;
  if (st) st = decodeAckState(bytes, state);
  if (!st) {
    // Only costs duplicates: everything spooled is delivered again.
    log::warn(kComponent, "{}: {}; delivering every spooled frame again", path, st.message());
    return;
  }
  readFloor_ = state.floor;
  ackSequence_ = state.sequence;
  recovered_ = std::move(state.frames);
}

// Every frame before the floor is acknowledged: the delivered ones no longer
// in inflight_ (or there as acked), and nothing before the reader is
// undelivered.
void DiskSpool::persistAckStateLocked(bool force) {
  if (!progressDirty_) return;
  const auto now = clock_.now();
  if (!force && now - lastAckPersist_ < options_.ackPersistInterval) return;
  lastAckPersist_ = now;
  const FrameId floor = inflight_.empty() ? readFloor_ : std::min(readFloor_, inflight_.begin()->first);
  ackEncoder_.begin(floor);
  bool fits = true;
  for (const auto& [id, frame] : inflight_) {
    if (frame.progress.doneCount() == 0) continue;
    if (!(fits = ackEncoder_.add(id, frame.progress))) break;
  }
  // Not read again yet: what ACKED said of them still holds.
  for (auto it = recovered_.lower_bound(floor); fits && it != recovered_.end(); ++it) {
    fits = ackEncoder_.add(it->first, it->second);
  }
  const uint64_t sequence = ackSequence_ + 1;
  Status st;
  if (!ackFile_) {
    auto f = env_.openOverwritable(options_.dir + "/" + std::string(format::kAckFileName));
    if (f) {
      ackFile_ = std::move(*f);
    } else {
      st = f.error();
    }
  }
  // The slot not holding the newest state: a torn write leaves that one.
  if (st) st = ackFile_->writeAt((sequence % 2) * kAckSlotBytes, ackEncoder_.finish(sequence));
  if (!st) {
    std::lock_guard lock(mu_);
    // Log the first failure of a run of them, not every ack.
    if (counters_.ackPersistErrorsTotal++ == 0 || ackPersistOk_) log::warn(kComponent, "recording acknowledgements: {}", st.message());
    ackPersistOk_ = false;
    return;
  }
  ackPersistOk_ = true;
  ackSequence_ = sequence;
  progressDirty_ = false;
}

Status DiskSpool::persistPositions() {
  // Several segments deleted at once need one write, not one each.
  const uint64_t version = positions_.version();
  if (persistedPositionsVersion_ == version) return Status::ok();
  // Durable before the segment whose frames it replaces is unlinked.
  Status st = replaceFile(env_, options_.dir, options_.dir + "/" + std::string(format::kPositionsFileName),
                          options_.dir + "/" + std::string(format::kPositionsTempFileName),
                          format::encodePositionsFile(positions_.durable()));
  if (st) persistedPositionsVersion_ = version;
  return st;
}

void DiskSpool::recoverPositionsFile() {
  const std::string path = options_.dir + "/" + std::string(format::kPositionsFileName);
  auto f = env_.openReadable(path);
  if (!f) return;  // none yet: no segment was ever deleted
  auto size = (*f)->size();
  std::string bytes;
  Status st = size ? Status::ok() : size.error();
  if (st && *size > format::kMaxPayloadBytes) st = Status::corruption("larger than any positions file");
  if (st) {
    bytes.resize(*size);
    auto n = (*f)->read(0, bytes.size(), bytes.data());
    st = n ? Status::ok() : n.error();
    if (st) bytes.resize(*n);
  }
  std::vector<pipeline::SourcePosition> positions;
  if (st) st = format::decodePositionsFile(bytes, positions);
  if (!st) {
    // Only costs re-reading: inputs fall back to their checkpoints.
    ++counters_.positionsErrorsTotal;
    log::warn(kComponent, "{}: {}; file inputs resume from their checkpoints", path, st.message());
    return;
  }
  for (const auto& position : positions) positions_.recovered(position);
}

uint64_t DiskSpool::sizeBytes() const {
  std::lock_guard lock(mu_);
  return totalBytes_;
}

SpoolStats DiskSpool::stats() const {
  std::lock_guard lock(mu_);
  SpoolStats s = counters_;
  s.bytes = totalBytes_;
  s.records = liveRecords_;
  s.frames = liveFrames_;
  s.segments = segments_.size();
  for (const Segment& seg : segments_) {
    if (seg.acked < seg.frames) {
      s.oldestAppendWallMs = seg.firstAppendWallMs;
      break;
    }
  }
  return s;
}

}  // namespace kinship::spool
