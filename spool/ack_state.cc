#include "spool/ack_state.h"

#include <bit>
#include <cstring>

#include <fmt/format.h>

#include "spool/spool_format.h"

namespace kinship::spool {

using format::getFixed16;
using format::getFixed32;
using format::getFixed64;
using format::putFixed16;
using format::putFixed32;
using format::putFixed64;
using format::putVarint32;

bool FrameProgress::markDone(uint32_t index) {
  if (index >= records_) return false;
  const size_t word = index / 64;
  if (done_.size() <= word) done_.resize((records_ + 63) / 64, 0);
  const uint64_t bit = uint64_t{1} << (index % 64);
  if ((done_[word] & bit) != 0) return false;
  done_[word] |= bit;
  ++doneCount_;
  return true;
}

void FrameProgress::markAllDone() {
  done_.assign((records_ + 63) / 64, ~uint64_t{0});
  if (records_ % 64 != 0) done_.back() = (uint64_t{1} << (records_ % 64)) - 1;
  doneCount_ = records_;
}

void FrameProgress::reset(uint32_t records) {
  records_ = records;
  doneCount_ = 0;
  done_.clear();
}

// The first index at or after `from` whose bit is `set`; records_ if none.
uint32_t FrameProgress::nextWithBit(uint32_t from, bool set) const {
  size_t word = from / 64;
  if (word >= done_.size()) return set ? records_ : std::min<uint32_t>(from, records_);
  uint64_t bits = set ? done_[word] : ~done_[word];
  bits &= ~uint64_t{0} << (from % 64);
  for (;;) {
    if (bits != 0) {
      const uint64_t index = word * 64 + static_cast<uint64_t>(std::countr_zero(bits));
      return static_cast<uint32_t>(std::min<uint64_t>(index, records_));
    }
    if (++word >= done_.size()) return set ? records_ : std::min<uint32_t>(static_cast<uint32_t>(word * 64), records_);
    bits = set ? done_[word] : ~done_[word];
  }
}

void AckSlotEncoder::begin(FrameId floor) {
  slot_.assign(kAckSlotHeaderSize, '\0');
  putFixed64(slot_, floor.segment);
  putFixed64(slot_, floor.offset);
  slot_.append(4, '\0');  // frame count, filled in by finish()
  frames_ = 0;
}

bool AckSlotEncoder::add(FrameId id, const FrameProgress& progress) {
  runs_.clear();
  uint32_t count = 0;
  uint32_t previousEnd = 0;
  progress.forEachRun([&](uint32_t first, uint32_t length) {
    putVarint32(runs_, first - previousEnd);
    putVarint32(runs_, length);
    previousEnd = first + length;
    ++count;
  });
  if (count == 0) return true;  // nothing done: nothing to say
  // The largest a frame's head can take: two u64s and two 5-byte varints.
  if (slot_.size() + 26 + runs_.size() > kAckSlotBytes) return false;
  putFixed64(slot_, id.segment);
  putFixed64(slot_, id.offset);
  putVarint32(slot_, progress.records());
  putVarint32(slot_, count);
  slot_.append(runs_);
  ++frames_;
  return true;
}

std::string_view AckSlotEncoder::finish(uint64_t sequence) {
  char* p = slot_.data();
  std::memcpy(p, format::kAckMagic, sizeof(format::kAckMagic));
  p[4] = static_cast<char>(kAckStateVersion & 0xff);
  p[5] = static_cast<char>(kAckStateVersion >> 8);
  p[6] = p[7] = 0;
  putFixed32(p + 8, static_cast<uint32_t>(slot_.size() - kAckSlotHeaderSize));
  for (int i = 0; i < 8; ++i) p[16 + i] = static_cast<char>((sequence >> (8 * i)) & 0xff);
  putFixed32(p + kAckSlotHeaderSize + 16, frames_);
  putFixed32(p + 12, format::maskCrc(format::crc32c(0, p + 16, slot_.size() - 16)));
  return slot_;
}

namespace {

Status decodeSlot(std::string_view slot, AckState& out) {
  if (slot.size() < kAckSlotHeaderSize) return Status::corruption("short slot");
  const char* p = slot.data();
  if (std::memcmp(p, format::kAckMagic, sizeof(format::kAckMagic)) != 0) return Status::corruption("bad magic");
  if (getFixed16(p + 4) != kAckStateVersion || getFixed16(p + 6) != 0) return Status::corruption("unsupported version");
  const uint32_t length = getFixed32(p + 8);
  if (length > kAckSlotBytes - kAckSlotHeaderSize || length > slot.size() - kAckSlotHeaderSize) {
    return Status::corruption(fmt::format("payload of {} bytes does not fit", length));
  }
  if (format::unmaskCrc(getFixed32(p + 12)) != format::crc32c(0, p + 16, 8 + length)) {
    return Status::corruption("checksum mismatch");
  }
  out.sequence = getFixed64(p + 16);
  std::string_view in = slot.substr(kAckSlotHeaderSize, length);
  if (in.size() < 20) return Status::corruption("payload shorter than a floor");
  out.floor = FrameId{getFixed64(in.data()), getFixed64(in.data() + 8)};
  const uint32_t frames = getFixed32(in.data() + 16);
  in.remove_prefix(20);
  out.frames.clear();
  FrameId previous = out.floor;
  for (uint32_t f = 0; f < frames; ++f) {
    if (in.size() < 16) return Status::corruption("frame cut short");
    const FrameId id{getFixed64(in.data()), getFixed64(in.data() + 8)};
    in.remove_prefix(16);
    if (id < previous || (f > 0 && id == previous)) return Status::corruption("frames out of order or below the floor");
    previous = id;
    uint32_t records = 0, runs = 0;
    if (!format::getVarint32(in, records) || !format::getVarint32(in, runs)) return Status::corruption("frame cut short");
    if (runs > records) return Status::corruption("more runs than records");
    FrameProgress progress(records);
    uint64_t next = 0;
    for (uint32_t r = 0; r < runs; ++r) {
      uint32_t gap = 0, length = 0;
      if (!format::getVarint32(in, gap) || !format::getVarint32(in, length)) return Status::corruption("run cut short");
      const uint64_t first = next + gap;
      if (length == 0 || first + length > records) return Status::corruption("run outside its frame");
      for (uint64_t i = first; i < first + length; ++i) progress.markDone(static_cast<uint32_t>(i));
      next = first + length;
    }
    out.frames.emplace(id, std::move(progress));
  }
  if (!in.empty()) return Status::corruption("bytes after the last frame");
  return Status::ok();
}

}  // namespace

Status decodeAckState(std::string_view file, AckState& out) {
  out = AckState{};
  if (file.size() == format::kAckFileSize && file.size() >= 6 && getFixed16(file.data() + 4) == format::kFormatVersion) {
    return format::decodeAckFile(file, out.floor.segment, out.floor.offset);
  }
  AckState best;
  bool found = false;
  std::string why;
  for (size_t slot = 0; slot < 2; ++slot) {
    const size_t at = slot * kAckSlotBytes;
    if (at >= file.size()) break;
    AckState candidate;
    Status st = decodeSlot(file.substr(at, kAckSlotBytes), candidate);
    if (!st) {
      why += fmt::format("{}slot {}: {}", why.empty() ? "" : "; ", slot, st.message());
      continue;
    }
    if (!found || candidate.sequence > best.sequence) best = std::move(candidate);
    found = true;
  }
  if (!found) return Status::corruption(why.empty() ? std::string("empty") : why);
  out = std::move(best);
  return Status::ok();
}

}  // namespace kinship::spool
