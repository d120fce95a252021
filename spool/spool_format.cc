#include "spool/spool_format.h"

#include <fmt/format.h>
#include <isa-l/crc.h>

namespace kinship::spool::format {

uint32_t crc32c(uint32_t crc, const void* data, size_t n) {
  // ISA-L works on the raw register: undo the previous post-inversion,
  // continue, invert again. Chained calls equal one call over the whole.
  uint32_t raw = crc ^ 0xffffffffu;
  auto* p = static_cast<unsigned char*>(const_cast<void*>(data));
  while (n > 0) {
    int chunk = n > (1u << 30) ? (1 << 30) : static_cast<int>(n);
    raw = crc32_iscsi(p, chunk, raw);
    p += chunk;
    n -= static_cast<size_t>(chunk);
  }
  return raw ^ 0xffffffffu;
}

bool getVarint32(std::string_view& in, uint32_t& v) {
  uint32_t result = 0;
  for (size_t i = 0; i < 5 && i < in.size(); ++i) {
    uint32_t byte = static_cast<uint8_t>(in[i]);
    if (i == 4 && byte > 0x0f) return false;  // would overflow 32 bits
    result |= (byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) {
      v = result;
      in.remove_prefix(i + 1);
      return true;
    }
  }
  return false;
}

std::string segmentHeader() {
  std::string h(kMagic, sizeof(kMagic));
  putFixed16(h, kFormatVersion);
  putFixed16(h, 0);
  return h;
}

Status checkSegmentHeader(std::string_view header) {
  if (header.size() < kSegmentHeaderSize) {
    return Status::corruption(fmt::format("segment header truncated ({} of {} bytes)", header.size(), kSegmentHeaderSize));
  }
  if (std::memcmp(header.data(), kMagic, sizeof(kMagic)) != 0) return Status::corruption("bad segment magic");
  uint16_t version = getFixed16(header.data() + 4);
  if (version != kFormatVersion) return Status::corruption(fmt::format("unsupported segment version {}", version));
  if (getFixed16(header.data() + 6) != 0) return Status::corruption("unknown segment header flags");
  return Status::ok();
}

std::string encodeAckFile(uint64_t segment, uint64_t offset) {
  std::string b(kAckMagic, sizeof(kAckMagic));
  putFixed16(b, kFormatVersion);
  putFixed16(b, 0);
  putFixed64(b, segment);
  putFixed64(b, offset);
  char crc[4];
  putFixed32(crc, maskCrc(crc32c(0, b.data(), b.size())));
  b.append(crc, 4);
  return b;
}

Status decodeAckFile(std::string_view bytes, uint64_t& segment, uint64_t& offset) {
  if (bytes.size() != kAckFileSize) return Status::corruption(fmt::format("ack file of {} bytes", bytes.size()));
  if (unmaskCrc(getFixed32(bytes.data() + 24)) != crc32c(0, bytes.data(), 24)) return Status::corruption("ack file checksum mismatch");
  if (std::memcmp(bytes.data(), kAckMagic, sizeof(kAckMagic)) != 0) return Status::corruption("bad ack file magic");
  if (getFixed16(bytes.data() + 4) != kFormatVersion || getFixed16(bytes.data() + 6) != 0) {
    return Status::corruption("unsupported ack file version");
  }
  segment = getFixed64(bytes.data() + 8);
  offset = getFixed64(bytes.data() + 16);
  return Status::ok();
}

std::string segmentFileName(uint64_t seq) { return fmt::format("{:020d}{}", seq, kSegmentSuffix); }

bool parseSegmentFileName(std::string_view name, uint64_t& seq) {
  if (name.size() != kSegmentNameDigits + kSegmentSuffix.size()) return false;
  if (name.substr(kSegmentNameDigits) != kSegmentSuffix) return false;
  uint64_t v = 0;
  for (size_t i = 0; i < kSegmentNameDigits; ++i) {
    char c = name[i];
    if (c < '0' || c > '9') return false;
    uint64_t next = v * 10 + static_cast<uint64_t>(c - '0');
    if (next / 10 != v) return false;  // more than uint64
    v = next;
  }
  seq = v;
  return true;
}

namespace {
size_t varintSize(uint32_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}


size_t stringSize(std::string_view text) { return varintSize(static_cast<uint32_t>(text.size())) + text.size(); }

// A tail longer than the format allows (or than the offset) is not written:
// an empty one only means "not known".
std::string_view writableTail(std::string_view tail, uint64_t offset) {
  return tail.size() <= kMaxTailBytes && tail.size() <= offset ? tail : std::string_view();
}

// Layout 2, with its marker.
size_t positionSize(const pipeline::SourceFile& file, uint64_t offset, std::string_view tail) {
  return 2 + stringSize(file.input) + 16 + stringSize(file.fingerprint) + stringSize(file.path) + 8 +
         stringSize(writableTail(tail, offset));
}

void putString(std::string& out, std::string_view text) {
  putVarint32(out, static_cast<uint32_t>(text.size()));
  out.append(text);
}

void putPosition(std::string& out, const pipeline::SourceFile& file, uint64_t offset, std::string_view tail) {
  out.push_back('\0');
  out.push_back(static_cast<char>(kSourcePositionLayout));
  putString(out, file.input);
  putFixed64(out, file.device);
  putFixed64(out, file.inode);
  putString(out, file.fingerprint);
  putString(out, file.path);
  putFixed64(out, offset);
  putString(out, writableTail(tail, offset));
}

bool getString(std::string_view& in, std::string& text) {
  uint32_t n = 0;
  if (!getVarint32(in, n) || n > in.size()) return false;
  text.assign(in.substr(0, n));
  in.remove_prefix(n);
  return true;
}

bool getU64(std::string_view& in, uint64_t& v) {
  if (in.size() < 8) return false;
  v = getFixed64(in.data());
  in.remove_prefix(8);
  return true;
}

// Either layout: layout 2 starts with its marker, a zero byte.
bool getPosition(std::string_view& in, pipeline::SourcePosition& position) {
  const bool layout2 = !in.empty() && in[0] == '\0';
  if (layout2) {
    if (in.size() < 2 || static_cast<uint8_t>(in[1]) != kSourcePositionLayout) return false;
    in.remove_prefix(2);
  }
  if (!(getString(in, position.file.input) && getU64(in, position.file.device) && getU64(in, position.file.inode) &&
        getString(in, position.file.fingerprint) && getString(in, position.file.path) &&
        getU64(in, position.offset))) {
    return false;
  }
  if (!layout2) {
    position.tail.clear();
    return true;
  }
  return getString(in, position.tail) && position.tail.size() <= kMaxTailBytes &&
         position.tail.size() <= position.offset;
}

}  // namespace

size_t batchFrameSize(const pipeline::RecordBatch& batch) {
  size_t n = kFrameHeaderSize + 8 + varintSize(static_cast<uint32_t>(batch.size()));
  if (const pipeline::SourceFile* file = batch.sourceFile()) {
    n += positionSize(*file, batch.endOffset(), batch.sourceTail());
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    n += varintSize(static_cast<uint32_t>(batch.data(i).size())) + varintSize(static_cast<uint32_t>(batch.key(i).size())) +
         varintSize(static_cast<uint32_t>(batch.explicitHashKey(i).size()));
  }
  return n + batch.bytes();
}

void appendBatchFrame(const pipeline::RecordBatch& batch, uint64_t appendWallMs, std::string& out) {
  size_t start = out.size();
  out.append(kFrameHeaderSize, '\0');
  const pipeline::SourceFile* file = batch.sourceFile();
  if (file != nullptr) putPosition(out, *file, batch.endOffset(), batch.sourceTail());
  putFixed64(out, appendWallMs);
  putVarint32(out, static_cast<uint32_t>(batch.size()));
  for (size_t i = 0; i < batch.size(); ++i) {
    putVarint32(out, static_cast<uint32_t>(batch.data(i).size()));
    putVarint32(out, static_cast<uint32_t>(batch.key(i).size()));
    putVarint32(out, static_cast<uint32_t>(batch.explicitHashKey(i).size()));
    out.append(batch.data(i));
    out.append(batch.key(i));
    out.append(batch.explicitHashKey(i));
  }
  char* h = out.data() + start;
  putFixed32(h + 4, static_cast<uint32_t>(out.size() - start - kFrameHeaderSize));
  h[8] = static_cast<char>(file != nullptr ? kFrameTypeFileBatch : kFrameTypeBatch);
  putFixed32(h, maskCrc(crc32c(0, h + 4, out.size() - start - 4)));
}

Status decodeBatchPayload(std::string_view payload, pipeline::RecordBatch& out, uint64_t& appendWallMs) {
  out.clear();
  if (payload.size() < 8) return Status::corruption("batch payload shorter than its timestamp");
  appendWallMs = getFixed64(payload.data());
  payload.remove_prefix(8);
  uint32_t count = 0;
  if (!getVarint32(payload, count)) return Status::corruption("bad record count");
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t dataLen = 0, keyLen = 0, ehkLen = 0;
    if (!getVarint32(payload, dataLen) || !getVarint32(payload, keyLen) || !getVarint32(payload, ehkLen)) {
      return Status::corruption(fmt::format("bad lengths of record {}", i));
    }
    uint64_t total = uint64_t{dataLen} + keyLen + ehkLen;
    if (total > payload.size()) return Status::corruption(fmt::format("record {} runs past the payload", i));
    out.append(payload.substr(0, dataLen), payload.substr(dataLen, keyLen), payload.substr(dataLen + keyLen, ehkLen));
    payload.remove_prefix(total);
  }
  if (!payload.empty()) return Status::corruption("bytes after the last record");
  return Status::ok();
}

Status decodeFramePayload(uint8_t type, std::string_view payload, pipeline::RecordBatch& out, uint64_t& appendWallMs,
                          pipeline::SourcePosition* position, bool* hasPosition) {
  if (hasPosition != nullptr) *hasPosition = false;
  if (type == kFrameTypeFileBatch) {
    pipeline::SourcePosition scratch;
    pipeline::SourcePosition& into = position != nullptr ? *position : scratch;
    if (!getPosition(payload, into)) return Status::corruption("bad source position");
    if (hasPosition != nullptr) *hasPosition = true;
  } else if (type != kFrameTypeBatch) {
    return Status::corruption(fmt::format("unknown frame type {}", type));
  }
  return decodeBatchPayload(payload, out, appendWallMs);
}

std::string encodePositionsFile(const std::vector<pipeline::SourcePosition>& positions) {
  std::string payload;
  putVarint32(payload, static_cast<uint32_t>(positions.size()));
  for (const auto& p : positions) putPosition(payload, p.file, p.offset, p.tail);
  std::string out(kPositionsMagic, sizeof(kPositionsMagic));
  putFixed16(out, kPositionsVersion);
  putFixed16(out, 0);
  out.append(8, '\0');
  putFixed32(out.data() + 8, static_cast<uint32_t>(payload.size()));
  putFixed32(out.data() + 12, maskCrc(crc32c(0, payload.data(), payload.size())));
  return out + payload;
}

Status decodePositionsFile(std::string_view bytes, std::vector<pipeline::SourcePosition>& positions) {
  positions.clear();
  if (bytes.size() < kPositionsHeaderSize) return Status::corruption("shorter than its header");
  if (std::memcmp(bytes.data(), kPositionsMagic, sizeof(kPositionsMagic)) != 0) return Status::corruption("bad magic");
  const uint16_t version = getFixed16(bytes.data() + 4);
  if ((version != kPositionsVersion && version != kPositionsVersionWithoutTails) || getFixed16(bytes.data() + 6) != 0) {
    return Status::corruption("unknown version or flags");
  }
  uint32_t length = getFixed32(bytes.data() + 8);
  std::string_view payload = bytes.substr(kPositionsHeaderSize);
  if (payload.size() != length) return Status::corruption("length does not match the file");
  if (unmaskCrc(getFixed32(bytes.data() + 12)) != crc32c(0, payload.data(), payload.size())) {
    return Status::corruption("checksum mismatch");
  }
  uint32_t count = 0;
  if (!getVarint32(payload, count)) return Status::corruption("bad count");
  for (uint32_t i = 0; i < count; ++i) {
    pipeline::SourcePosition p;
    // Each version in its own layout (see spool_format.h).
    const bool layout2 = !payload.empty() && payload[0] == '\0';
    if (layout2 != (version == kPositionsVersion) || !getPosition(payload, p)) {
      positions.clear();
      return Status::corruption(fmt::format("bad position {}", i));
    }
    positions.push_back(std::move(p));
  }
  if (!payload.empty()) {
    positions.clear();
    return Status::corruption("bytes after the last position");
  }
  return Status::ok();
}

}  // namespace kinship::spool::format
