#pragma once
// StreamFramer: how a stream connection's bytes are cut into records (the
// unix input's `framing`): LineBuffer at each newline, OctetFrameBuffer by
// RFC 6587 octet counts. The connection reads into writable(), hands what it
// read to commit(), and calls finish() once the peer has closed.
//
// Not thread-safe: owned by one connection on the I/O thread.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "common/status.h"

namespace kinship::inputs {

class LineHandler {
 public:
  virtual ~LineHandler() = default;
  // `line` (a record: a line without its ending, or a frame's message) has
  // pipeline::kParsePadding readable bytes after it. Valid only during the
  // call.
  virtual void onLine(std::string_view line) = 0;
  // A record longer than the limit was dropped; `bytes` is how much of it was
  // seen (a frame's: its declared length).
  virtual void onLineTooLong(uint64_t bytes) = 0;
  // A record was dropped because holding more of it would have taken more
  // memory than writable() was allowed; `bytes` is how much of it was seen
  // (a frame's: its declared length).
  virtual void onLineOverBudget(uint64_t bytes) = 0;
};

class StreamFramer {
 public:
  virtual ~StreamFramer() = default;
  // Where to receive next; never empty. May grow the buffer by at most
  // `maxGrowth` bytes for a pending record; a record that would need more is
  // dropped instead (reported to the next commit's handler).
  virtual std::span<char> writable(size_t maxGrowth = SIZE_MAX) = 0;
  // `n` bytes were received into writable(): hands out each complete record.
  // An error means the stream cannot be cut into records any more (a frame
  // whose length is not a number): nothing more should be read from it.
  virtual Status commit(size_t n, LineHandler& handler) = 0;
  // The peer closed: hands out what is left, if it makes a record; an error
  // when it does not (a frame cut short).
  virtual Status finish(LineHandler& handler) = 0;
  // Memory the buffer holds (capacity, padding and any slack).
  virtual size_t allocatedBytes() const = 0;
};

}  // namespace kinship::inputs
