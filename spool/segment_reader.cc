#include "spool/segment_reader.h"

#include <fmt/format.h>

#include "spool/spool_format.h"

namespace kinship::spool {

Status SegmentReader::checkHeader() {
  char header[format::kSegmentHeaderSize];
  auto n = file_->read(0, sizeof(header), header);
  if (!n) return n.error();
  return format::checkSegmentHeader(std::string_view(header, *n));
}

SegmentReader::Outcome SegmentReader::readFrame(uint64_t offset, uint64_t limit) {
  if (offset >= limit) return Outcome::kEnd;
  if (limit - offset < format::kFrameHeaderSize) {
    return failWith(Outcome::kTruncated, Status::corruption(fmt::format("frame header at {} cut by the end at {}", offset, limit)));
  }
  char header[format::kFrameHeaderSize];
  auto n = file_->read(offset, sizeof(header), header);
  if (!n) return failWith(Outcome::kIoError, n.error());
  if (*n < sizeof(header)) {
    // The file is shorter than the limit said: it shrank under us.
    return failWith(Outcome::kTruncated, Status::corruption(fmt::format("frame header at {} cut by the end of the file", offset)));
  }
  uint32_t length = format::getFixed32(header + 4);
  uint8_t type = static_cast<uint8_t>(header[8]);
  if (length > format::kMaxPayloadBytes) {
    return failWith(Outcome::kCorrupt, Status::corruption(fmt::format("frame at {}: length {} over the maximum", offset, length)));
  }
  uint64_t end = offset + format::kFrameHeaderSize + length;
  if (end > limit) {
    return failWith(Outcome::kTruncated,
                    Status::corruption(fmt::format("frame at {}: length {} runs past the end at {}", offset, length, limit)));
  }
  payload_.resize(length);
  n = file_->read(offset + format::kFrameHeaderSize, length, payload_.data());
  if (!n) return failWith(Outcome::kIoError, n.error());
  if (*n < length) {
    return failWith(Outcome::kTruncated, Status::corruption(fmt::format("frame at {}: payload cut by the end of the file", offset)));
  }
  uint32_t crc = format::crc32c(0, header + 4, format::kFrameHeaderSize - 4);
  crc = format::crc32c(crc, payload_.data(), payload_.size());
  if (crc != format::unmaskCrc(format::getFixed32(header))) {
    return failWith(Outcome::kCorrupt, Status::corruption(fmt::format("frame at {}: checksum mismatch", offset)));
  }
  if (type != format::kFrameTypeBatch && type != format::kFrameTypeFileBatch) {
    return failWith(Outcome::kCorrupt, Status::corruption(fmt::format("frame at {}: unknown type {}", offset, type)));
  }
  type_ = type;
  next_ = end;
  status_ = Status::ok();
  return Outcome::kFrame;
}

}  // namespace kinship::spool
