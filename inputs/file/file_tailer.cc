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

ReadBuffer::ReadBuffer(size_t size)
    : size_(size), bytes_(std::make_unique<char[]>(size + pipeline::kParsePadding)) {}

FileTailer::FileTailer(std::unique_ptr<ReadableFile> file, std::string path, FileIdentity identity, uint64_t offset,
                       const Options& options)
    : file_(std::move(file)),
      path_(std::move(path)),
      identity_(identity),
      options_(options),
      readOffset_(offset),
      buffer_(options.buffer ? options.buffer : std::make_shared<ReadBuffer>(options.readBufferSize)) {
  options_.buffer.reset();  // buffer_ holds it
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
  releaseHeld();
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

  // The whole shared block: the held line is not in it (it is in held_),
  // so a long one in this file leaves the others their full reads.
  char* base = buffer_->data();
  auto n = file_->readSome(readOffset_, buffer_->size(), base);
  if (!n) return fail(n.error());
  if (*n == 0) return ReadOutcome::kEndOfFile;
  readOffset_ += *n;
  cutLines(base, *n, receiver);
  return ReadOutcome::kData;
}

void FileTailer::hold(const char* bytes, size_t n) {
  // Never past maxLineSize + 2 bytes (cutLines drops or splits a longer
  // line), so the growth stops at that plus the padding.
  const size_t needed = pending_ + n + pipeline::kParsePadding;
  if (held_.size() < needed) {
    const size_t limit = options_.maxLineSize + 2 + pipeline::kParsePadding;
    const size_t grown = std::max(needed, std::min(held_.size() * 2, limit));
    held_.reserve(grown);  // exactly: resize() alone may allocate more than asked
    held_.resize(grown);
  }
  if (n != 0) std::memcpy(held_.data() + pending_, bytes, n);
  pending_ += n;
}

void FileTailer::releaseHeld() {
  pending_ = 0;
  std::vector<char>().swap(held_);
}

void FileTailer::cutLines(const char* base, size_t n, LineReceiver& receiver) {
  const uint64_t blockOffset = readOffset_ - n;  // the file offset of base[0]
  size_t lineStart = 0;

  if (skippingLongLine_) {
    const char* nl = static_cast<const char*>(std::memchr(base, '\n', n));
    if (nl == nullptr) {
      skippedBytes_ += n;
      return;
    }
    const size_t nlPos = static_cast<size_t>(nl - base);
    skippedBytes_ += nlPos;
    receiver.onLineTooLong(path_, skippedBytes_);
    skippingLongLine_ = false;
    skippedBytes_ = 0;
    partialFlushed_ = false;
    lineStart = nlPos + 1;
  }

  if (pending_ != 0) {
    lineStart = continueHeldLine(base, lineStart, n, blockOffset, receiver);
    if (lineStart == n) return;
  }

  size_t scan = lineStart;
  while (scan < n) {
    const char* nl = static_cast<const char*>(std::memchr(base + scan, '\n', n - scan));
    if (nl == nullptr) break;
    size_t nlPos = static_cast<size_t>(nl - base);
    size_t lineEnd = nlPos;
    if (lineEnd > lineStart && base[lineEnd - 1] == '\r') --lineEnd;
    bool lateEnding = partialFlushed_ && lineEnd == lineStart;
    partialFlushed_ = false;
    if (!lateEnding) emitLine(base, lineStart, lineEnd, blockOffset + nlPos + 1, blockOffset, receiver);
    lineStart = scan = nlPos + 1;
  }

  // An unfinished line is certain to be too long once it holds two bytes
  // more than the limit without a newline (one more could be the CR of a
  // CRLF). Dropped: skip it from here. Split: its full pieces go out now.
  if (options_.longLines == LongLines::kDrop && n - lineStart >= options_.maxLineSize + 2) {
    skippingLongLine_ = true;
    skippedBytes_ = n - lineStart;
    return;
  }
  if (options_.longLines == LongLines::kSplit) {
    while (n - lineStart >= options_.maxLineSize + 2) {
      size_t pieceEnd = lineStart + options_.maxLineSize;
      receiver.onLine(std::string_view(base + lineStart, options_.maxLineSize), blockOffset + pieceEnd);
      receiver.onLineSplit();
      partialFlushed_ = false;
      lineStart = pieceEnd;
    }
  }
  // The rest is the start of a line: copied out, as the block is reused by
  // the next read, of this file or another.
  if (lineStart < n) hold(base + lineStart, n - lineStart);
}

size_t FileTailer::continueHeldLine(const char* base, size_t pos, size_t n, uint64_t blockOffset,
                                    LineReceiver& receiver) {
  const size_t max = options_.maxLineSize;
  const char* nl = static_cast<const char*>(std::memchr(base + pos, '\n', n - pos));
  const size_t headEnd = nl != nullptr ? static_cast<size_t>(nl - base) : n;

  if (options_.longLines == LongLines::kDrop) {
    const size_t total = pending_ + (headEnd - pos);
    if (nl == nullptr) {
      if (total >= max + 2) {  // certain to be too long: skip the rest of it
        skippingLongLine_ = true;
        skippedBytes_ = total;
        releaseHeld();
      } else {
        hold(base + pos, n - pos);
      }
      return n;
    }
    const char last = headEnd > pos ? base[headEnd - 1] : held_[pending_ - 1];
    const size_t length = last == '\r' ? total - 1 : total;
    if (length > max) {  // whole, and too long: no need to copy it
      receiver.onLineTooLong(path_, length);
      partialFlushed_ = false;
      releaseHeld();
      return headEnd + 1;
    }
  } else {
    // Split: the held line takes the block's bytes up to max + 2 at a time;
    // whenever it is that full, its first max bytes go out as a piece (it is
    // certain to be longer than max), as they would from the block.
    while (true) {
      const size_t take = std::min(headEnd - pos, max + 2 - pending_);
      hold(base + pos, take);
      pos += take;
      if (pending_ < max + 2) break;
      const uint64_t heldOffset = blockOffset + pos - pending_;
      receiver.onLine(std::string_view(held_.data(), max), heldOffset + max);
      receiver.onLineSplit();
      partialFlushed_ = false;
      std::memmove(held_.data(), held_.data() + max, pending_ - max);
      pending_ -= max;
    }
    if (nl == nullptr) return n;
  }

  // The line ends in this block: held_ gets the rest of it and hands it out.
  if (options_.longLines == LongLines::kDrop) hold(base + pos, headEnd - pos);
  size_t end = pending_;
  if (held_[end - 1] == '\r') --end;
  const bool lateEnding = partialFlushed_ && end == 0;
  partialFlushed_ = false;
  if (!lateEnding) {
    emitLine(held_.data(), 0, end, blockOffset + headEnd + 1, blockOffset + headEnd - pending_, receiver);
  }
  releaseHeld();
  return headEnd + 1;
}

void FileTailer::emitLine(const char* base, size_t start, size_t end, uint64_t endOffset, uint64_t baseOffset,
                          LineReceiver& receiver) {
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
    receiver.onLine(std::string_view(base + start, max), baseOffset + start + max);
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
    if (held_[end - 1] == '\r') --end;
    emitLine(held_.data(), 0, end, readOffset_, readOffset_ - pending_, receiver);
    releaseHeld();
  } else {
    return;
  }
  partialFlushed_ = true;
}

}  // namespace kinship::inputs
