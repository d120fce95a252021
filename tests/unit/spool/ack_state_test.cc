// The ACKED file's encoding: runs of done records, two slots chosen by
// sequence, torn and damaged slots, the version-1 file.

#include "spool/ack_state.h"

#include <gtest/gtest.h>

#include "spool/spool_format.h"

namespace kinship::spool {
namespace {

FrameProgress progressOf(uint32_t records, std::initializer_list<uint32_t> done) {
  FrameProgress p(records);
  for (uint32_t i : done) p.markDone(i);
  return p;
}

std::vector<std::pair<uint32_t, uint32_t>> runsOf(const FrameProgress& p) {
  std::vector<std::pair<uint32_t, uint32_t>> runs;
  p.forEachRun([&](uint32_t first, uint32_t length) { runs.emplace_back(first, length); });
  return runs;
}

// A whole ACKED file with `slot0` at byte 0 and `slot1` after it.
std::string fileOf(std::string_view slot0, std::string_view slot1) {
  std::string file(slot0);
  if (!slot1.empty()) {
    file.resize(kAckSlotBytes, '\0');
    file.append(slot1);
  }
  return file;
}

TEST(FrameProgress, MarksEachRecordOnceAndFindsRuns) {
  FrameProgress p(200);
  EXPECT_TRUE(p.markDone(0));
  EXPECT_FALSE(p.markDone(0));
  EXPECT_FALSE(p.markDone(200));  // out of range
  for (uint32_t i = 60; i < 130; ++i) p.markDone(i);
  p.markDone(199);
  EXPECT_EQ(p.doneCount(), 72u);
  EXPECT_TRUE(p.isDone(64));
  EXPECT_FALSE(p.isDone(130));
  EXPECT_EQ(runsOf(p), (std::vector<std::pair<uint32_t, uint32_t>>{{0, 1}, {60, 70}, {199, 1}}));
  p.markAllDone();
  EXPECT_TRUE(p.allDone());
  EXPECT_EQ(runsOf(p), (std::vector<std::pair<uint32_t, uint32_t>>{{0, 200}}));
  p.reset(5);
  EXPECT_EQ(p.doneCount(), 0u);
  EXPECT_TRUE(runsOf(p).empty());
}

TEST(AckState, RoundTripsTheFloorAndEachFramesDoneRecords) {
  AckSlotEncoder encoder;
  encoder.begin(FrameId{3, 8});
  ASSERT_TRUE(encoder.add(FrameId{3, 8}, progressOf(2000, {0, 1, 2, 1999})));
  ASSERT_TRUE(encoder.add(FrameId{3, 900}, progressOf(10, {})));  // nothing done: left out
  FrameProgress all(7);
  all.markAllDone();
  ASSERT_TRUE(encoder.add(FrameId{4, 8}, all));
  const std::string slot(encoder.finish(41));

  AckState state;
  ASSERT_TRUE(decodeAckState(fileOf(slot, ""), state).isOk());
  EXPECT_EQ(state.floor, (FrameId{3, 8}));
  EXPECT_EQ(state.sequence, 41u);
  ASSERT_EQ(state.frames.size(), 2u);
  const FrameProgress& first = state.frames.at(FrameId{3, 8});
  EXPECT_EQ(first.records(), 2000u);
  EXPECT_EQ(runsOf(first), (std::vector<std::pair<uint32_t, uint32_t>>{{0, 3}, {1999, 1}}));
  EXPECT_TRUE(state.frames.at(FrameId{4, 8}).allDone());
}

TEST(AckState, TheValidSlotWithTheHigherSequenceWins) {
  AckSlotEncoder encoder;
  encoder.begin(FrameId{1, 8});
  const std::string older(encoder.finish(6));
  encoder.begin(FrameId{2, 8});
  const std::string newer(encoder.finish(7));
  AckState state;
  ASSERT_TRUE(decodeAckState(fileOf(newer, older), state).isOk());
  EXPECT_EQ(state.floor, (FrameId{2, 8}));
  ASSERT_TRUE(decodeAckState(fileOf(older, newer), state).isOk());
  EXPECT_EQ(state.floor, (FrameId{2, 8}));
}

TEST(AckState, ATornOrDamagedNewestSlotLeavesTheOlderOne) {
  AckSlotEncoder encoder;
  encoder.begin(FrameId{1, 8});
  const std::string older(encoder.finish(6));
  encoder.begin(FrameId{2, 8});
  ASSERT_TRUE(encoder.add(FrameId{2, 8}, progressOf(50, {1, 2, 3})));
  const std::string newer(encoder.finish(7));
  AckState state;
  // Torn: only the first bytes of the newest slot reached the file, over
  // what an older write had left there.
  for (size_t cut : {size_t{0}, size_t{10}, size_t{30}, newer.size() - 1}) {
    std::string torn = newer.substr(0, cut) + std::string(older).substr(std::min(cut, older.size()));
    ASSERT_TRUE(decodeAckState(fileOf(older, torn), state).isOk()) << cut;
    EXPECT_EQ(state.floor, (FrameId{1, 8})) << cut;
    EXPECT_TRUE(state.frames.empty());
  }
  // Damaged: one bit anywhere in it.
  for (size_t at = 0; at < newer.size(); ++at) {
    std::string damaged = newer;
    damaged[at] ^= 0x10;
    ASSERT_TRUE(decodeAckState(fileOf(older, damaged), state).isOk()) << at;
    EXPECT_EQ(state.sequence, 6u) << at;
  }
}

TEST(AckState, NoValidSlotIsCorruption) {
  AckState state;
  EXPECT_EQ(decodeAckState("", state).code(), Status::Code::kCorruption);
  EXPECT_EQ(decodeAckState(std::string(100, 'x'), state).code(), Status::Code::kCorruption);
  AckSlotEncoder encoder;
  encoder.begin(FrameId{1, 8});
  std::string slot(encoder.finish(1));
  slot[kAckSlotHeaderSize] ^= 1;
  EXPECT_EQ(decodeAckState(fileOf(slot, slot), state).code(), Status::Code::kCorruption);
}

TEST(AckState, AVersionOneFileGivesItsFloor) {
  AckState state;
  ASSERT_TRUE(decodeAckState(format::encodeAckFile(9, 4096), state).isOk());
  EXPECT_EQ(state.floor, (FrameId{9, 4096}));
  EXPECT_EQ(state.sequence, 0u);
  EXPECT_TRUE(state.frames.empty());
}

TEST(AckState, FramesThatDoNotFitAreLeftOutNewestFirst) {
  AckSlotEncoder encoder;
  encoder.begin(FrameId{1, 8});
  // Every other record done: one run per two records, the most a frame can take.
  FrameProgress sparse(4000);
  for (uint32_t i = 0; i < 4000; i += 2) sparse.markDone(i);
  uint64_t added = 0;
  for (uint64_t offset = 8; encoder.add(FrameId{1, offset}, sparse); offset += 100) ++added;
  EXPECT_GT(added, 5u);
  const std::string slot(encoder.finish(2));
  EXPECT_LE(slot.size(), kAckSlotBytes);
  AckState state;
  ASSERT_TRUE(decodeAckState(slot, state).isOk());
  EXPECT_EQ(state.frames.size(), added);
  EXPECT_EQ(state.frames.begin()->first, (FrameId{1, 8}));
}

TEST(AckState, RunsOutsideTheirFrameOrFramesOutOfOrderAreCorruption) {
  // Built by hand: a frame of 4 records with a run of 5.
  std::string payload;
  format::putFixed64(payload, 1);
  format::putFixed64(payload, 8);
  char count[4];
  format::putFixed32(count, 1);
  payload.append(count, 4);
  format::putFixed64(payload, 1);
  format::putFixed64(payload, 8);
  format::putVarint32(payload, 4);
  format::putVarint32(payload, 1);
  format::putVarint32(payload, 0);
  format::putVarint32(payload, 5);
  std::string slot(format::kAckMagic, 4);
  format::putFixed16(slot, kAckStateVersion);
  format::putFixed16(slot, 0);
  char length[4];
  format::putFixed32(length, static_cast<uint32_t>(payload.size()));
  slot.append(length, 4);
  std::string covered;
  format::putFixed64(covered, 3);
  covered += payload;
  char crc[4];
  format::putFixed32(crc, format::maskCrc(format::crc32c(0, covered.data(), covered.size())));
  slot.append(crc, 4);
  slot += covered;
  AckState state;
  Status st = decodeAckState(slot, state);
  EXPECT_EQ(st.code(), Status::Code::kCorruption);
  EXPECT_NE(st.message().find("outside"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace kinship::spool
