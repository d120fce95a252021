#include "inputs/file/container_log_assembler.h"

#include <algorithm>
#include <cstring>

#include "pipeline/pipeline.h"

namespace kinship::inputs {

namespace {
constexpr size_t kInitialBuffer = 4096;
// A buffer grown for a long line is given back once that line is shipped:
// a node follows a file per container, and each stream's buffer would
// otherwise keep the size of its longest line for good.
constexpr size_t kShrinkAbove = 256 * 1024;

void giveBack(std::vector<char>& buffer) {
  if (buffer.size() <= kShrinkAbove) return;
  buffer.clear();
  buffer.shrink_to_fit();
}
}  // namespace

ContainerLogAssembler::ContainerLogAssembler(pipeline::ContainerLogReader& reader, size_t maxSize,
                                             LongLines longLines, std::chrono::milliseconds timeout, uint64_t offset)
    : reader_(reader), maxSize_(maxSize), longLines_(longLines), timeout_(timeout), lineStart_(offset) {}

ContainerLogAssembler::Stream& ContainerLogAssembler::streamOf(std::string_view name) {
  if (name == "stdout") return streams_[0];
  if (name == "stderr") return streams_[1];
  return streams_[2];  // docker lines without a stream, or with another
}

uint64_t ContainerLogAssembler::safeOffset(uint64_t end) const {
  for (const Stream& s : streams_) {
    if (s.holding || s.dropping) end = std::min(end, s.start);
  }
  return end;
}

void ContainerLogAssembler::append(Stream& s, std::string_view bytes) {
  const size_t needed = s.length + bytes.size() + pipeline::kParsePadding;
  if (s.buffer.size() < needed) {
    const size_t grown = std::max({needed, s.buffer.size() * 2, kInitialBuffer});
    s.buffer.resize(std::min(grown, maxSize_ + pipeline::kParsePadding));
  }
  if (!bytes.empty()) std::memcpy(s.buffer.data() + s.length, bytes.data(), bytes.size());
  s.length += bytes.size();
}

void ContainerLogAssembler::ship(Stream& s, ContainerRecordReceiver& out) {
  s.holding = false;
  if (s.buffer.empty()) append(s, {});  // an empty line: still room for the padding
  out.onContainerRecord(std::string_view(s.buffer.data(), s.length), safeOffset(lineStart_), s.line.view());
  s.length = 0;
  giveBack(s.buffer);
}

void ContainerLogAssembler::addLine(std::string_view line, uint64_t endOffset, TimePoint now,
                                    ContainerRecordReceiver& out) {
  const uint64_t lineStart = lineStart_;
  lineStart_ = endOffset;
  pipeline::ContainerLogEntry entry;
  if (auto failure = reader_.read(line, entry)) {
    out.onContainerRecord(line, safeOffset(lineStart_), pipeline::ContainerLine{{}, {}, failure});
    return;
  }
  const pipeline::ContainerLine container{entry.time, entry.stream, std::nullopt};
  Stream& s = streamOf(entry.stream);
  if (s.dropping) {
    s.lastPieceAt = now;
    s.dropping = entry.partial;
    return;
  }
  const bool endsWithLine = entry.log.data() + entry.log.size() == line.data() + line.size();
  if (!s.holding && !entry.partial && endsWithLine && entry.log.size() <= maxSize_) {
    // A whole line (CRI): it ends where the line does, so the line's padding
    // follows it; no copy.
    out.onContainerRecord(entry.log, safeOffset(lineStart_), container);
    return;
  }
  if (!s.holding) {
    s.holding = true;
    s.start = lineStart;
    s.length = 0;
    s.line.assign(container);
  }
  s.lastPieceAt = now;
  std::string_view rest = entry.log;
  while (s.length + rest.size() > maxSize_) {
    if (longLines_ == LongLines::kDrop) {
      const uint64_t seen = s.length + rest.size();
      s.holding = false;
      s.length = 0;
      s.dropping = entry.partial;  // skip its further pieces; s.start stays where the line began
      giveBack(s.buffer);
      out.onContainerLineTooLong(seen);
      return;
    }
    const size_t take = maxSize_ - s.length;
    append(s, rest.substr(0, take));
    rest.remove_prefix(take);
    // A piece only: s is still held, so the offset stays before the line.
    out.onContainerRecord(std::string_view(s.buffer.data(), s.length), safeOffset(lineStart_), s.line.view());
    out.onContainerLineSplit();
    s.length = 0;
  }
  append(s, rest);
  if (!entry.partial) ship(s, out);
}

template <typename Due>
bool ContainerLogAssembler::release(Due due, ContainerRecordReceiver& out) {
  bool shipped = false;
  while (true) {
    Stream* first = nullptr;
    for (Stream& s : streams_) {
      if ((s.holding || s.dropping) && due(s) && (first == nullptr || s.start < first->start)) first = &s;
    }
    if (first == nullptr) return shipped;
    if (first->holding) {
      ship(*first, out);
      shipped = true;
    }
    first->dropping = false;
  }
}

void ContainerLogAssembler::flush(ContainerRecordReceiver& out) {
  release([](const Stream&) { return true; }, out);
}

bool ContainerLogAssembler::flushIfIdle(TimePoint now, ContainerRecordReceiver& out) {
  return release([&](const Stream& s) { return now - s.lastPieceAt >= timeout_; }, out);
}

std::optional<ContainerLogAssembler::TimePoint> ContainerLogAssembler::deadline() const {
  std::optional<TimePoint> next;
  for (const Stream& s : streams_) {
    if (!s.holding && !s.dropping) continue;
    const TimePoint due = s.lastPieceAt + timeout_;
    if (!next || due < *next) next = due;
  }
  return next;
}

size_t ContainerLogAssembler::allocatedBytes() const {
  size_t bytes = 0;
  for (const Stream& s : streams_) bytes += s.buffer.capacity();
  return bytes;
}

bool ContainerLogAssembler::holdsLine() const {
  return std::any_of(streams_.begin(), streams_.end(), [](const Stream& s) { return s.holding; });
}

void ContainerLogAssembler::rewind(uint64_t offset, ContainerRecordReceiver& out) {
  flush(out);
  lineStart_ = offset;
}

}  // namespace kinship::inputs
