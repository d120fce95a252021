#pragma once
// SegmentReader: reads the frames of one segment file (spool_format.h) one
// at a time, checking each. Both recovery and the spool's reader use it, so
// every way a segment can be damaged is decided in one place.
//
// Memory: one payload buffer, reused, as large as the largest frame read;
// never more than format::kMaxPayloadBytes whatever the length field says.
// Threading: one thread at a time.

#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"
#include "common/env.h"

namespace kinship::spool {

class SegmentReader {
 public:
  // What readFrame() found at an offset.
  enum class Outcome {
    kFrame,      // a whole, checked frame: payload() holds it, next is after it
    kEnd,        // offset == limit: nothing more (not an error)
    kTruncated,  // the frame header or payload runs past `limit`: a torn tail
    kCorrupt,    // CRC mismatch, unknown type, or length over the maximum
    kIoError,    // the read itself failed; status() says why
  };

  explicit SegmentReader(std::unique_ptr<ReadableFile> file) : file_(std::move(file)) {}

  // Reads and checks the segment header: corruption when the file is
  // shorter than a header or its magic, version or flags are wrong; an I/O
  // error when reading fails.
  Status checkHeader();

  // Reads the frame at `offset`, looking no further than `limit` (the end
  // of the file, or of what the writer has published).
  Outcome readFrame(uint64_t offset, uint64_t limit);

  // Valid after kFrame.
  const std::string& payload() const { return payload_; }
  uint8_t type() const { return type_; }
  uint64_t next() const { return next_; }
  // Why the last readFrame() did not return kFrame/kEnd.
  const Status& status() const { return status_; }

  ReadableFile& file() { return *file_; }

 private:
  Outcome failWith(Outcome outcome, Status status) {
    status_ = std::move(status);
    return outcome;
  }

  std::unique_ptr<ReadableFile> file_;
  std::string payload_;
  uint8_t type_ = 0;
  uint64_t next_ = 0;
  Status status_;
};

}  // namespace kinship::spool
