#pragma once
// LineBuffer: the receive buffer of one stream connection, cut into lines in
// place, as FileTailer does for files: the socket reads into writable(),
// commit() hands out every complete line as a view into the buffer, and the
// bytes of an unfinished line move to the front to wait for the rest. A line
// that outgrows `maxLineSize`, or that needs the buffer to grow by more than
// the caller allows (the input's memory budget, shared by its connections),
// is skipped up to its newline and reported, and the stream goes on; while
// skipping, the buffer is back at its first size. "\r\n" endings lose the
// "\r".
//
// Not thread-safe: owned by one connection on the I/O thread.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "inputs/unix/stream_framer.h"

namespace kinship::inputs {

class LineBuffer final : public StreamFramer {
 public:
  LineBuffer(size_t initialCapacity, size_t maxLineSize);

  // Where to receive next; never empty. May grow the buffer by at most
  // `maxGrowth` bytes when a pending line fills it; past the limit, or when
  // the growth would be larger, starts skipping that line instead.
  std::span<char> writable(size_t maxGrowth = SIZE_MAX) override;
  // `n` bytes were received into writable(): hands out each complete line.
  // Never fails: any byte can be in a line.
  Status commit(size_t n, LineHandler& handler) override;
  // The peer closed: hands out the last line, unterminated, if there is one.
  Status finish(LineHandler& handler) override;

  size_t pendingBytes() const { return pending_; }
  size_t capacity() const { return buffer_.size() - padding_; }
  // Memory the buffer holds (capacity, padding and any slack).
  size_t allocatedBytes() const override { return buffer_.capacity(); }

 private:
  const size_t initialCapacity_;
  const size_t maxLineSize_;
  const size_t padding_;
  // `pending_` bytes of an unfinished line at the front, then room to read
  // into, then padding for the JSON parser.
  std::vector<char> buffer_;
  size_t pending_ = 0;
  void startSkipping(bool overBudget);
  void reportSkipped(LineHandler& handler, uint64_t bytes) const;
  void resizeTo(size_t capacity);

  // Inside a dropped line: drop bytes up to the next newline.
  bool skipping_ = false;
  bool skippingOverBudget_ = false;  // why: the budget rather than maxLineSize
  uint64_t skipped_ = 0;
};

}  // namespace kinship::inputs
