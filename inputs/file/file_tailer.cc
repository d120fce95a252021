#include "inputs/file/file_tailer.h"

#include <algorithm>
#include <cstring>

#include "common/log.h"
#include "pipeline/pipeline.h"

namespace kinship::inputs {

Result<std::unique_ptr<FileTailer>> FileTailer::open(Env& env, const std::string& path, bool startAtEnd,
                                                     const Options& options) {
  // Env's messages name the call and the path. A missing file is an I/O
  // error here like any other: the scan that named it raced a rotation.
  auto file = env.openReadable(path);
  if (!file) return fail(Status::ioError(file.error().message()));
  auto info = (*file)->info();
  if (!info) return fail(info.error());
  if (!info->regular) return fail(Status::invalidArgument(path + " is not a regular file"));
  uint64_t offset = startAtEnd ? info->size : 0;
  return std::unique_ptr<FileTailer>(
      new FileTailer(std::move(*file), path, {info->device, info->inode}, offset, options));
}

FileTailer::FileTailer(std::unique_ptr<ReadableFile> file, std::string path, FileIdentity identity, uint64_t offset,
                       const Options& options)
    : file_(std::move(file)), path_(std::move(path)), identity_(identity), options_(options), readOffset_(offset) {
  buffer_.resize(options_.readBufferSize + pipeline::kParsePadding);
}

FileTailer::~FileTailer() = default;

bool FileTailer::checkRewritten() {
  constexpr size_t kHeadBytes = 64;
  if (readOffset_ == 0) {
    headKnown_ = false;
    return false;
  }
  if (!headKnown_) {
    auto head = readHead(std::min<uint64_t>(kHeadBytes, readOffset_));
    if (!head) return false;
    head_ = std::move(*head);
    headKnown_ = true;
    return false;
  }
  auto current = readHead(head_.size());
  if (!current || *current == head_) return false;
  log::warn("file", "{} was rewritten from its start (truncated and written past offset {}): reading it again "
            "from the start", path_, readOffset_);
  rewind();
  return true;
}

void FileTailer::rewind() {
  readOffset_ = 0;
  pending_ = 0;
  skippingLongLine_ = false;
  skippedBytes_ = 0;
  partialFlushed_ = false;
  headKnown_ = false;
}

Result<std::string> FileTailer::readHead(size_t maxBytes) const {
  std::string head(maxBytes, '\0');
  auto n = file_->read(0, maxBytes, head.data());
  if (!n) return fail(n.error());
  head.resize(*n);
  return head;
}

Status FileTailer::readBefore(uint64_t end, size_t maxBytes, std::string& out) const {
  const size_t want = static_cast<size_t>(std::min<uint64_t>(maxBytes, end));
  out.resize(want);
  auto got = file_->read(end - want, want, out.data());
  if (!got) {
    out.clear();
    return got.error();
  }
  if (*got < want) out.clear();  // shorter than `end` now
  return Status::ok();
}

Result<uint64_t> FileTailer::size() const { return file_->size(); }

void FileTailer::refreshSize() {
  if (auto s = size()) knownSize_ = *s;
}

Result<FileTailer::ReadOutcome> FileTailer::readBlock(LineReceiver& receiver) {
  if (auto size = file_->size()) {
    knownSize_ = *size;
    if (knownSize_ < readOffset_) {
      log::warn("file", "{} shrank from {} to {} bytes (truncated): reading it again from the start", path_,
                readOffset_, knownSize_);
      rewind();
      receiver.onRewind();
    }
  }

  // A held line that fills the whole buffer: grow it. cutLines() never
  // holds more than maxLineSize + 1 bytes (a longer line is skipped or
  // split), so maxLineSize + 2 (the line, a CR and its newline) is enough.
  size_t capacity = buffer_.size() - pipeline::kParsePadding;
  if (pending_ == capacity) {
    capacity = std::max(capacity + 1, std::min(options_.maxLineSize + 2, capacity * 2));
    buffer_.resize(capacity + pipeline::kParsePadding);
  }

  auto n = file_->readSome(readOffset_, capacity - pending_, buffer_.data() + pending_);
  if (!n) return fail(n.error());
  if (*n == 0) return ReadOutcome::kEndOfFile;
  readOffset_ += *n;
  cutLines(*n, receiver);
  return ReadOutcome::kData;
}

void FileTailer::cutLines(size_t newBytes, LineReceiver& receiver) {
  char* base = buffer_.data();
  size_t end = pending_ + newBytes;
  size_t lineStart = 0;
  size_t scan = pending_;  // the pending bytes hold no newline
  const uint64_t bufferOffset = readOffset_ - end;

  if (skippingLongLine_) {
    const char* nl = static_cast<const char*>(std::memchr(base + scan, '\n', end - scan));
    if (nl == nullptr) {
      skippedBytes_ += newBytes;
      pending_ = 0;
      return;
    }
    size_t consumed = static_cast<size_t>(nl - base) + 1;
    skippedBytes_ += consumed - pending_ - 1;
    receiver.onLineTooLong(path_, skippedBytes_);
    skippingLongLine_ = false;
    skippedBytes_ = 0;
    partialFlushed_ = false;
    lineStart = scan = consumed;
  }

  while (scan < end) {
    const char* nl = static_cast<const char*>(std::memchr(base + scan, '\n', end - scan));
    if (nl == nullptr) break;
    size_t nlPos = static_cast<size_t>(nl - base);
    size_t lineEnd = nlPos;
    if (lineEnd > lineStart && base[lineEnd - 1] == '\r') --lineEnd;
    bool lateEnding = partialFlushed_ && lineEnd == lineStart;
    partialFlushed_ = false;
    if (!lateEnding) emitLine(lineStart, lineEnd, bufferOffset + nlPos + 1, bufferOffset, receiver);
    lineStart = scan = nlPos + 1;
  }

  // An unfinished line is certain to be too long once it holds two bytes
  // more than the limit without a newline (one more could be the CR of a
  // CRLF). Dropped: skip it from here. Split: its full pieces go out now.
  if (options_.longLines == LongLines::kDrop && end - lineStart >= options_.maxLineSize + 2) {
    skippingLongLine_ = true;
    skippedBytes_ = end - lineStart;
    pending_ = 0;
    return;
  }
  if (options_.longLines == LongLines::kSplit) {
    while (end - lineStart >= options_.maxLineSize + 2) {
      size_t pieceEnd = lineStart + options_.maxLineSize;
      receiver.onLine(std::string_view(base + lineStart, options_.maxLineSize), bufferOffset + pieceEnd);
      receiver.onLineSplit();
      partialFlushed_ = false;
      lineStart = pieceEnd;
    }
  }

  pending_ = end - lineStart;
  if (pending_ != 0 && lineStart != 0) std::memmove(base, base + lineStart, pending_);
}

void FileTailer::emitLine(size_t start, size_t end, uint64_t endOffset, uint64_t bufferOffset,
                          LineReceiver& receiver) {
  const char* base = buffer_.data();
  const size_t max = options_.maxLineSize;
  if (end - start <= max) {
    receiver.onLine(std::string_view(base + start, end - start), endOffset);
    return;
  }
  if (options_.longLines == LongLines::kDrop) {
    receiver.onLineTooLong(path_, end - start);
    return;
  }
  while (end - start > max) {
    receiver.onLine(std::string_view(base + start, max), bufferOffset + start + max);
    receiver.onLineSplit();
    start += max;
  }
  receiver.onLine(std::string_view(base + start, end - start), endOffset);
}

void FileTailer::flushPartialLine(LineReceiver& receiver) {
  if (skippingLongLine_) {
    receiver.onLineTooLong(path_, skippedBytes_);
    skippingLongLine_ = false;
    skippedBytes_ = 0;
  } else if (pending_ != 0) {
    // A trailing CR may be the first half of a CRLF still being written.
    size_t end = pending_;
    if (buffer_[end - 1] == '\r') --end;
    emitLine(0, end, readOffset_, readOffset_ - pending_, receiver);
    pending_ = 0;
  } else {
    return;
  }
  partialFlushed_ = true;
}

}  // namespace kinship::inputs
