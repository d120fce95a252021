#pragma once
// MultilineAssembler: joins the lines of one file into multiline records,
// such as a Java stack trace (its first line, then the "\tat ..." lines).
// A record starts at a line matching the `start` pattern; the lines after
// it that do not match are appended, joined with "\n". The record goes out
// when the next start line arrives, when no line came for `timeout`
// (flushIfIdle), when the next line would take it past `maxSize` (that line
// then begins the next record, and the cut is reported), and when the file
// is closed (flush). Lines before the file's first start line are records
// of their own.
//
// For a container log file (parser cri or docker) the lines are the
// application's, unwrapped, and each comes with its runtime's time and
// stream (a pipeline::ContainerLine); a record carries those of its first
// line.
//
// Each record carries the file offset just past its last line, so a file's
// checkpoint never passes a record still being assembled: a restart reads
// such a record again from its first line. (The pieces of one line longer
// than `maxSize` carry the offset where that line starts.)
//
// Not thread-safe: one per followed file, on the I/O thread. Its buffer
// grows up to maxSize; no allocation per line.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "pipeline/container_log.h"

namespace re2 {
class RE2;
}

namespace kinship::inputs {

// Receives the records an assembler puts together.
class RecordReceiver {
 public:
  virtual ~RecordReceiver() = default;
  // The bytes after `record` stay readable for pipeline::kParsePadding
  // bytes; valid only during the call. `endOffset`: where a restart resumes
  // once the record is delivered. `container`: for a container log file,
  // the runtime's time and stream of the record's first line (valid during
  // the call); null for other files.
  virtual void onRecord(std::string_view record, uint64_t endOffset, const pipeline::ContainerLine* container) = 0;
  // The record just passed on was cut at max_size; the next one continues it.
  virtual void onRecordCut() = 0;
};

class MultilineAssembler {
 public:
  using TimePoint = Clock::TimePoint;

  // `start` must outlive the assembler. `offset`: where reading the file
  // starts (its checkpoint, or where start_at put it).
  MultilineAssembler(const re2::RE2& start, size_t maxSize, std::chrono::milliseconds timeout, uint64_t offset);

  // `line` and `endOffset` as LineReceiver::onLine gives them.
  // `continuesLine`: the line is the next piece of a line that long_lines:
  // split cut, so it is joined to the record without a "\n" and never
  // starts one. `container`: the line's runtime time and stream (container
  // log files only), kept for the record it begins.
  void addLine(std::string_view line, uint64_t endOffset, TimePoint now, RecordReceiver& out,
               bool continuesLine = false, const pipeline::ContainerLine* container = nullptr);
  // Passes the record being assembled on, if any.
  void flush(RecordReceiver& out);
  // Flushes when no line came for `timeout`; true when it did.
  bool flushIfIdle(TimePoint now, RecordReceiver& out);
  // When flushIfIdle() will flush; nullopt while no record is held.
  std::optional<TimePoint> deadline() const;
  bool holdsRecord() const { return holding_; }

  // The file was truncated: what is held goes out, and reading starts again at `offset`.
  void rewind(uint64_t offset, RecordReceiver& out);

 private:
  // Starts a record with `line` (in max_size pieces when it is longer).
  void begin(std::string_view line, uint64_t endOffset, RecordReceiver& out, const pipeline::ContainerLine* container);
  void append(std::string_view bytes);

  const re2::RE2& start_;
  size_t maxSize_;
  std::chrono::milliseconds timeout_;
  // buffer_[0, length_) is the record; room for the parser's padding after it.
  std::vector<char> buffer_;
  size_t length_ = 0;
  bool holding_ = false;
  uint64_t endOffset_ = 0;    // past the held record's last line
  uint64_t lineStart_ = 0;    // past the last line seen: where the next one starts
  bool seenStart_ = false;
  // The held record's first line's container fields, when it has them.
  bool hasContainer_ = false;
  pipeline::HeldContainerLine container_;
  TimePoint lastLineAt_{};
};

}  // namespace kinship::inputs
