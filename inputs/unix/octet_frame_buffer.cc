#include "inputs/unix/octet_frame_buffer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>

#include "pipeline/pipeline.h"

namespace kinship::inputs {

namespace {

// As LineBuffer: a buffer grown for a big frame goes back to its first size
// once that frame is done.
constexpr size_t kShrinkAbove = 256 * 1024;
// Room for the longest length, its space and a few newlines before it.
constexpr size_t kMinCapacity = 64;

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// The first bytes of `bytes`, printable, for a log line.
std::string excerpt(std::string_view bytes) {
  std::string out;
  for (char c : bytes.substr(0, 16)) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f && c != '"' && c != '\\') {
      out += c;
    } else {
      out += fmt::format("\\x{:02x}", u);
    }
  }
  if (bytes.size() > 16) out += "...";
  return out;
}

}  // namespace

OctetFrameBuffer::OctetFrameBuffer(size_t initialCapacity, size_t maxFrameSize)
    : initialCapacity_(std::max(initialCapacity, kMinCapacity)),
      maxFrameSize_(maxFrameSize),
      padding_(pipeline::kParsePadding),
      buffer_(initialCapacity_ + padding_) {}

void OctetFrameBuffer::resizeTo(size_t capacity) {
  // Reserving first allocates exactly this much, so allocatedBytes(), which
  // the budget counts, is what it asked.
  buffer_.reserve(capacity + padding_);
  buffer_.resize(capacity + padding_);
}

std::span<char> OctetFrameBuffer::writable(size_t maxGrowth) {
  if (expected_ && *expected_ > capacity()) {
    // The body is kept whole: room for all of it, or it is dropped.
    const size_t needed = static_cast<size_t>(*expected_) + padding_;
    const size_t growth = needed > allocatedBytes() ? needed - allocatedBytes() : 0;
    if (growth > maxGrowth) {
      overBudget_ = *expected_;
      skipping_ = *expected_ - pending_;
      pending_ = 0;
      expected_.reset();
      if (capacity() > initialCapacity_) {
        buffer_.resize(initialCapacity_ + padding_);
        buffer_.shrink_to_fit();
      }
    } else {
      resizeTo(static_cast<size_t>(*expected_));
    }
  }
  return {buffer_.data() + pending_, capacity() - pending_};
}

void OctetFrameBuffer::deliver(char* body, size_t length, LineHandler& handler) {
  if (length != 0 && body[length - 1] == '\n') {
    --length;
    if (length != 0 && body[length - 1] == '\r') --length;
  }
  handler.onLine(std::string_view(body, length));
}

Status OctetFrameBuffer::commit(size_t n, LineHandler& handler) {
  if (overBudget_) {
    handler.onLineOverBudget(*overBudget_);
    overBudget_.reset();
  }
  char* base = buffer_.data();
  const size_t end = pending_ + n;
  size_t pos = 0;
  while (pos < end) {
    if (skipping_ != 0) {
      const size_t take = static_cast<size_t>(std::min<uint64_t>(skipping_, end - pos));
      pos += take;
      skipping_ -= take;
      continue;
    }
    if (expected_) {
      if (end - pos < *expected_) break;  // the rest of the body is still to come
      deliver(base + pos, static_cast<size_t>(*expected_), handler);
      pos += static_cast<size_t>(*expected_);
      expected_.reset();
      continue;
    }
    if (base[pos] == '\n' || base[pos] == '\r') {
      ++pos;
      continue;
    }
    size_t i = pos;
    uint64_t length = 0;
    while (i < end && isDigit(base[i]) && i - pos <= kMaxLengthDigits) {
      length = length * 10 + static_cast<uint64_t>(base[i] - '0');
      ++i;
    }
    const size_t digits = i - pos;
    const std::string_view at(base + pos, end - pos);
    if (digits == 0) {
      pending_ = 0;
      return Status::invalidArgument(fmt::format("a frame must begin with its length, got \"{}\"", excerpt(at)));
    }
    if (digits > kMaxLengthDigits || (digits > 1 && base[pos] == '0')) {
      pending_ = 0;
      return Status::invalidArgument(fmt::format("\"{}\" is not a frame length", excerpt(at)));
    }
    if (i == end) break;  // the length goes on in the next read
    if (base[i] != ' ') {
      pending_ = 0;
      return Status::invalidArgument(fmt::format("a frame length must be followed by a space, got \"{}\"", excerpt(at)));
    }
    pos = i + 1;
    if (length > maxFrameSize_) {
      handler.onLineTooLong(length);
      skipping_ = length;
    } else if (length == 0) {
      deliver(base + pos, 0, handler);
    } else {
      expected_ = length;
    }
  }
  pending_ = end - pos;
  if (pending_ != 0 && pos != 0) std::memmove(base, base + pos, pending_);
  const bool smallFrame = !expected_ || *expected_ <= initialCapacity_;
  if (buffer_.size() > kShrinkAbove + padding_ && pending_ <= initialCapacity_ && smallFrame) {
    buffer_.resize(initialCapacity_ + padding_);
    buffer_.shrink_to_fit();
  }
  return Status::ok();
}

Status OctetFrameBuffer::finish(LineHandler& handler) {
  if (overBudget_) {
    handler.onLineOverBudget(*overBudget_);
    overBudget_.reset();
  }
  Status status;
  if (expected_) {
    status = Status::invalidArgument(
        fmt::format("the connection closed {} bytes into a frame of {}", pending_, *expected_));
  } else if (pending_ != 0) {
    status = Status::invalidArgument(
        fmt::format("the connection closed in a frame length (\"{}\")", excerpt({buffer_.data(), pending_})));
  }
  expected_.reset();
  skipping_ = 0;
  pending_ = 0;
  return status;
}

}  // namespace kinship::inputs
