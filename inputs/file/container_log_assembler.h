#pragma once
// ContainerLogAssembler: turns the lines of one container log file (parser
// cri or docker: see pipeline/container_log.h) into the application's
// lines. Each line is read with the input's ContainerLogReader; a line the
// runtime cut (CRI tag `P`, a docker `log` without its newline) is held, and
// joined with the following pieces of the same stream up to the piece that
// ends it (CRI `F`, a `log` ending in a newline). stdout and stderr are
// joined apart, as runtimes interleave their pieces. A line that is not of
// the format goes out at once, whole, with the reason.
//
// Bounds: a joined line that would pass `maxSize` (the input's
// max_line_size) is treated as a long line of a plain file is (`long_lines`):
// `split` ships it in pieces of maxSize (each cut reported), `drop` drops it
// whole (reported once, with the bytes seen so far; the rest of its pieces
// are skipped). A line whose next piece has not come for `timeout` (the
// input's partial_line_timeout) is shipped as far as it came (flushIfIdle);
// so is everything held when the file is closed (flush).
//
// Checkpoints: each record carries the offset where a restart resumes once
// it is delivered: just past its last piece, or, while a line of another
// stream is still being joined (or dropped), where that line's first piece
// starts, so a restart reads that line again whole. (Pieces of a line cut
// at maxSize carry where their line starts, as MultilineAssembler's do.)
// The offsets handed out never go back.
//
// Not thread-safe: one per followed file, on the I/O thread. Its buffers
// grow up to maxSize (plus the parser's padding) and are given back after a
// line over 256 KiB; no allocation per line otherwise.

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "inputs/file/file_tailer.h"
#include "pipeline/container_log.h"

namespace kinship::inputs {

// Receives what a ContainerLogAssembler puts together.
class ContainerRecordReceiver {
 public:
  virtual ~ContainerRecordReceiver() = default;
  // `log`: the application's line (or, when container.failure is set, the
  // whole line as read); pipeline::kParsePadding bytes after it stay
  // readable. Valid only during the call. `endOffset`: where a restart
  // resumes once the record is delivered.
  virtual void onContainerRecord(std::string_view log, uint64_t endOffset,
                                 const pipeline::ContainerLine& container) = 0;
  // long_lines: split: the record just passed on was cut at max size; the
  // next one of its stream continues it.
  virtual void onContainerLineSplit() = 0;
  // long_lines: drop: a line grew past max size and is dropped; `bytes` is
  // how much of it was seen.
  virtual void onContainerLineTooLong(uint64_t bytes) = 0;
};

class ContainerLogAssembler {
 public:
  using TimePoint = Clock::TimePoint;

  // `reader` (the input's, shared by its files) must outlive the
  // assembler. `offset`: where reading the file starts.
  ContainerLogAssembler(pipeline::ContainerLogReader& reader, size_t maxSize, LongLines longLines,
                        std::chrono::milliseconds timeout, uint64_t offset);

  // `line` and `endOffset` as LineReceiver::onLine gives them.
  void addLine(std::string_view line, uint64_t endOffset, TimePoint now, ContainerRecordReceiver& out);
  // Ships every line held, as far as it came; forgets lines being dropped.
  void flush(ContainerRecordReceiver& out);
  // Does that for each stream whose last piece came `timeout` ago or more;
  // true when it shipped something.
  bool flushIfIdle(TimePoint now, ContainerRecordReceiver& out);
  // When flushIfIdle() will next act; nullopt while nothing is held or dropped.
  std::optional<TimePoint> deadline() const;
  bool holdsLine() const;
  // Memory its buffers hold: up to maxSize (plus padding) per stream while a
  // long line is joined, back to at most 256 KiB each once it is shipped.
  size_t allocatedBytes() const;

  // The file was truncated: what is held goes out, and reading starts
  // again at `offset`.
  void rewind(uint64_t offset, ContainerRecordReceiver& out);

 private:
  // What one stream (stdout, stderr, anything else) has of an unfinished line.
  struct Stream {
    std::vector<char> buffer;  // [0, length) the line so far, then room for the padding
    size_t length = 0;
    bool holding = false;
    bool dropping = false;  // skipping the rest of a line dropped as too long
    uint64_t start = 0;     // offset of the line's first piece in the file
    TimePoint lastPieceAt{};
    pipeline::HeldContainerLine line;  // its first piece's time and stream
  };

  Stream& streamOf(std::string_view name);
  // `end`, or the start of the earliest line still held or being dropped.
  uint64_t safeOffset(uint64_t end) const;
  void append(Stream& s, std::string_view bytes);
  // Ships what `s` holds and releases it.
  void ship(Stream& s, ContainerRecordReceiver& out);
  // Ships (or forgets) the streams for which `due` holds, earliest first.
  template <typename Due>
  bool release(Due due, ContainerRecordReceiver& out);

  pipeline::ContainerLogReader& reader_;
  size_t maxSize_;
  LongLines longLines_;
  std::chrono::milliseconds timeout_;
  uint64_t lineStart_;  // past the last line seen: where the next one starts
  std::array<Stream, 3> streams_;
};

}  // namespace kinship::inputs
