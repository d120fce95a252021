#include "inputs/file/multiline_assembler.h"

#include <re2/re2.h>

#include <algorithm>
#include <cstring>

#include "pipeline/pipeline.h"

namespace kinship::inputs {

namespace {
constexpr size_t kInitialBuffer = 4096;
}  // namespace

MultilineAssembler::MultilineAssembler(const re2::RE2& start, size_t maxSize, std::chrono::milliseconds timeout,
                                       uint64_t offset)
    : start_(start), maxSize_(maxSize), timeout_(timeout), lineStart_(offset) {}

void MultilineAssembler::addLine(std::string_view line, uint64_t endOffset, TimePoint now, RecordReceiver& out,
                                 bool continuesLine, const pipeline::ContainerLine* container) {
  lastLineAt_ = now;
  if (continuesLine && holding_) {
    if (length_ + line.size() <= maxSize_) {
      append(line);
      endOffset_ = endOffset;
    } else {
      flush(out);
      out.onRecordCut();
      begin(line, endOffset, out, container);
    }
  } else if (re2::RE2::PartialMatch(line, start_)) {
    flush(out);
    seenStart_ = true;
    begin(line, endOffset, out, container);
  } else if (holding_) {
    if (length_ + 1 + line.size() <= maxSize_) {
      append("\n");
      append(line);
      endOffset_ = endOffset;
    } else {
      flush(out);
      out.onRecordCut();
      begin(line, endOffset, out, container);
    }
  } else if (!seenStart_) {
    out.onRecord(line, endOffset, container);
  } else {
    // The rest of a record that went out at max_size or on its timeout.
    begin(line, endOffset, out, container);
  }
  lineStart_ = endOffset;
}

void MultilineAssembler::begin(std::string_view line, uint64_t endOffset, RecordReceiver& out,
                               const pipeline::ContainerLine* container) {
  while (line.size() > maxSize_) {
    length_ = 0;
    append(line.substr(0, maxSize_));
    // Part of a line only: the checkpoint must stay at the line's start.
    out.onRecord(std::string_view(buffer_.data(), length_), lineStart_, container);
    out.onRecordCut();
    line.remove_prefix(maxSize_);
  }
  length_ = 0;
  append(line);
  holding_ = true;
  endOffset_ = endOffset;
  hasContainer_ = container != nullptr;
  if (hasContainer_) container_.assign(*container);
}

void MultilineAssembler::append(std::string_view bytes) {
  size_t needed = length_ + bytes.size() + pipeline::kParsePadding;
  if (buffer_.size() < needed) {
    size_t grown = std::max({needed, buffer_.size() * 2, kInitialBuffer});
    buffer_.resize(std::min(grown, maxSize_ + pipeline::kParsePadding));
  }
  if (!bytes.empty()) std::memcpy(buffer_.data() + length_, bytes.data(), bytes.size());
  length_ += bytes.size();
}

void MultilineAssembler::flush(RecordReceiver& out) {
  if (!holding_) return;
  holding_ = false;
  if (buffer_.empty()) append({});  // an empty start line: still room for the padding
  const pipeline::ContainerLine container = container_.view();
  out.onRecord(std::string_view(buffer_.data(), length_), endOffset_, hasContainer_ ? &container : nullptr);
  length_ = 0;
}

bool MultilineAssembler::flushIfIdle(TimePoint now, RecordReceiver& out) {
  if (!holding_ || now - lastLineAt_ < timeout_) return false;
  flush(out);
  return true;
}

std::optional<MultilineAssembler::TimePoint> MultilineAssembler::deadline() const {
  if (!holding_) return std::nullopt;
  return lastLineAt_ + timeout_;
}

void MultilineAssembler::rewind(uint64_t offset, RecordReceiver& out) {
  flush(out);
  lineStart_ = offset;
  seenStart_ = false;
}

}  // namespace kinship::inputs
