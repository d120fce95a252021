#include "inputs/unix/line_buffer.h"

#include <algorithm>
#include <cstring>

#include "pipeline/pipeline.h"

namespace kinship::inputs {

namespace {
// A buffer grown for a long line goes back to its first size once that line
// is done, so a client that once sent a big line does not pin the memory.
constexpr size_t kShrinkAbove = 256 * 1024;
}  // namespace

LineBuffer::LineBuffer(size_t initialCapacity, size_t maxLineSize)
    : initialCapacity_(std::max<size_t>(initialCapacity, 1)),
      maxLineSize_(maxLineSize),
      padding_(pipeline::kParsePadding),
      buffer_(initialCapacity_ + padding_) {}

std::span<char> LineBuffer::writable(size_t maxGrowth) {
  if (pending_ == capacity()) {
    // Room for the longest line plus "\r\n"; a pending line that fills
    // that much without a newline is too long.
    const size_t limit = maxLineSize_ + 2;
    const size_t cap = capacity();
    if (cap >= limit) {
      startSkipping(false);
    } else {
      const size_t grown = std::min(limit, cap * 2);
      const size_t needed = grown + padding_;
      const size_t growth = needed > allocatedBytes() ? needed - allocatedBytes() : 0;
      if (growth > maxGrowth) {
        startSkipping(true);
      } else {
        resizeTo(grown);
      }
    }
  }
  return {buffer_.data() + pending_, capacity() - pending_};
}

void LineBuffer::startSkipping(bool overBudget) {
  skipping_ = true;
  skippingOverBudget_ = overBudget;
  skipped_ += pending_;
  pending_ = 0;
  // Nothing is kept while skipping: give the memory back at once.
  if (capacity() > initialCapacity_) {
    buffer_.resize(initialCapacity_ + padding_);
    buffer_.shrink_to_fit();
  }
}

void LineBuffer::resizeTo(size_t capacity) {
  // Reserving first allocates exactly this much (resize() alone may
  // double), so allocatedBytes(), which the budget counts, is what it asked.
  buffer_.reserve(capacity + padding_);
  buffer_.resize(capacity + padding_);
}

void LineBuffer::reportSkipped(LineHandler& handler, uint64_t bytes) const {
  if (skippingOverBudget_) {
    handler.onLineOverBudget(bytes);
  } else {
    handler.onLineTooLong(bytes);
  }
}

Status LineBuffer::commit(size_t n, LineHandler& handler) {
  char* base = buffer_.data();
  const size_t end = pending_ + n;
  size_t lineStart = 0;
  size_t scan = pending_;  // the pending bytes hold no newline

  if (skipping_) {
    const char* nl = static_cast<const char*>(std::memchr(base + scan, '\n', end - scan));
    if (nl == nullptr) {
      skipped_ += end - pending_;
      pending_ = 0;
      return Status::ok();
    }
    const size_t nlPos = static_cast<size_t>(nl - base);
    skipped_ += nlPos - pending_;
    reportSkipped(handler, skipped_);
    skipping_ = false;
    skipped_ = 0;
    lineStart = scan = nlPos + 1;
  }

  while (scan < end) {
    const char* nl = static_cast<const char*>(std::memchr(base + scan, '\n', end - scan));
    if (nl == nullptr) break;
    const size_t nlPos = static_cast<size_t>(nl - base);
    size_t lineEnd = nlPos;
    if (lineEnd > lineStart && base[lineEnd - 1] == '\r') --lineEnd;
    const size_t length = lineEnd - lineStart;
    if (length > maxLineSize_) {
      handler.onLineTooLong(length);
    } else {
      handler.onLine(std::string_view(base + lineStart, length));
    }
    lineStart = scan = nlPos + 1;
  }

  pending_ = end - lineStart;
  if (pending_ != 0 && lineStart != 0) std::memmove(base, base + lineStart, pending_);
  if (buffer_.size() > kShrinkAbove + padding_ && pending_ <= initialCapacity_) {
    buffer_.resize(initialCapacity_ + padding_);
    buffer_.shrink_to_fit();
  }
  return Status::ok();
}

Status LineBuffer::finish(LineHandler& handler) {
  if (skipping_) {
    reportSkipped(handler, skipped_ + pending_);
  } else if (pending_ > maxLineSize_) {
    handler.onLineTooLong(pending_);
  } else if (pending_ != 0) {
    handler.onLine(std::string_view(buffer_.data(), pending_));
  }
  skipping_ = false;
  skipped_ = 0;
  pending_ = 0;
  return Status::ok();
}

}  // namespace kinship::inputs
