#pragma once
// OctetFrameBuffer: the receive buffer of one stream connection whose
// records are octet-counted frames (RFC 6587 section 3.4.1, as rsyslog's
// omfwd with TCP_Framing="octet-counted" and syslog-ng's syslog() driver
// send them):
//
//   FRAME   = MSG-LEN SP MSG
//   MSG-LEN = NONZERO-DIGIT *DIGIT   (the bytes of MSG, in decimal)
//
// so a message may hold newlines. Leniencies: "\n" and "\r" between frames
// are skipped (some senders end each frame with one), a MSG-LEN of 0 is an
// empty record, and one trailing newline ("\n" or "\r\n") inside MSG is
// left out, as the datagram inputs do.
//
// Bounds: a MSG-LEN over `maxFrameSize` (the input's max_line_size) drops
// that frame: its bytes are skipped as they come, reported
// (onLineTooLong), and the stream goes on. So does a frame whose body would
// need the buffer to grow by more than the caller allows
// (onLineOverBudget). A length that is not a number (a non-digit where one
// belongs, a leading zero, more than 10 digits, no space after them) cannot
// be skipped, since where the next frame starts is unknown: commit()
// returns an error and the connection should be closed. Nothing but a
// frame's body is held: at most maxFrameSize plus the parser's padding.
//
// Not thread-safe: owned by one connection on the I/O thread.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "inputs/unix/stream_framer.h"

namespace kinship::inputs {

class OctetFrameBuffer final : public StreamFramer {
 public:
  // Most digits a MSG-LEN may have: 10 MiB, the largest max_line_size, has 8.
  static constexpr size_t kMaxLengthDigits = 10;

  OctetFrameBuffer(size_t initialCapacity, size_t maxFrameSize);

  std::span<char> writable(size_t maxGrowth = SIZE_MAX) override;
  Status commit(size_t n, LineHandler& handler) override;
  // A frame cut short by the close (or a length cut short) is an error;
  // bytes between frames ("\n") are not.
  Status finish(LineHandler& handler) override;
  size_t allocatedBytes() const override { return buffer_.capacity(); }

  size_t pendingBytes() const { return pending_; }
  size_t capacity() const { return buffer_.size() - padding_; }

 private:
  void resizeTo(size_t capacity);
  void deliver(char* body, size_t length, LineHandler& handler);

  const size_t initialCapacity_;
  const size_t maxFrameSize_;
  const size_t padding_;
  // `pending_` bytes of an unfinished frame (or length) at the front, then
  // room to read into, then padding for the JSON parser.
  std::vector<char> buffer_;
  size_t pending_ = 0;
  // The body length of the frame whose MSG-LEN and space were read (its
  // body starts at the front of the buffer); none between frames.
  std::optional<uint64_t> expected_;
  // Bytes of a dropped frame still to come, and why it was dropped (the
  // budget, reported at the next commit, or its length).
  uint64_t skipping_ = 0;
  std::optional<uint64_t> overBudget_;  // a frame dropped by writable(), not reported yet
};

}  // namespace kinship::inputs
