// DiskSpool: round trips, segment lifecycle, recovery of damaged files,
// the size cap, injected disk failures, fsync policies and one writer with
// one reader at the same time. Deterministic: temp dirs, a hand-driven
// clock, faults through FaultEnv; no sleeps.

#include "spool/disk_spool.h"

#include <gtest/gtest.h>

#include <map>

#include <algorithm>
#include <set>
#include <thread>

#include "spool/spool_format.h"
#include "tests/support/fault_env.h"
#include "tests/support/manual_clock.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/spool/test_batches.h"

namespace kinship::spool {
namespace {

using kinship::testing::FaultEnv;
using kinship::testing::ManualClock;
using kinship::testing::TempDir;
using kinship::testing::readFileBytes;
using kinship::testing::writeFileBytes;
using test::batchNumber;
using test::makeBatch;
using test::sameBatch;
using namespace std::chrono_literals;

class DiskSpoolTest : public ::testing::Test {
 protected:
  SpoolOptions options() {
    SpoolOptions o;
    o.dir = dir_.path() + "/spool";
    o.env = &env_;
    o.clock = &clock_;
    o.segmentBytes = 1024;  // about five of makeBatch()'s frames
    o.maxTotalBytes = 1 << 20;
    o.fsync = FsyncPolicy::kNever;
    return o;
  }
  std::unique_ptr<Spool> open(const SpoolOptions& o) {
    auto s = openDiskSpool(o);
    EXPECT_TRUE(s.has_value()) << s.error().message();
    return s ? std::move(*s) : nullptr;
  }
  std::unique_ptr<Spool> open() { return open(options()); }

  std::vector<FrameId> appendRange(Spool& s, int from, int to) {
    std::vector<FrameId> ids;
    for (int n = from; n < to; ++n) {
      auto id = s.append(makeBatch(n));
      EXPECT_TRUE(id.has_value()) << id.error().message();
      if (id) ids.push_back(*id);
    }
    return ids;
  }
  std::vector<SpooledBatch> readAll(Spool& s) {
    std::vector<SpooledBatch> out;
    for (;;) {
      auto r = s.readNext();
      EXPECT_TRUE(r.has_value()) << r.error().message();
      if (!r || !*r) return out;
      out.push_back(std::move(**r));
    }
  }
  static std::vector<int> numbers(const std::vector<SpooledBatch>& batches) {
    std::vector<int> v;
    for (const auto& b : batches) v.push_back(batchNumber(b.batch));
    return v;
  }
  static std::vector<int> iota(int from, int to) {
    std::vector<int> v;
    for (int n = from; n < to; ++n) v.push_back(n);
    return v;
  }
  // Names of the segment files (also those set aside as .bad), sorted.
  std::vector<std::string> files() {
    auto names = posixEnv().listDir(options().dir);
    std::vector<std::string> v;
    for (const std::string& n : names ? *names : std::vector<std::string>{}) {
      if (n.find(".seg") != std::string::npos) v.push_back(n);
    }
    std::sort(v.begin(), v.end());
    return v;
  }
  std::string pathOf(uint64_t seq) { return options().dir + "/" + format::segmentFileName(seq); }
  bool exists(uint64_t seq) { return std::filesystem::exists(pathOf(seq)); }
  uint64_t diskBytes() {
    uint64_t n = 0;
    for (const auto& f : files()) n += std::filesystem::file_size(options().dir + "/" + f);
    return n;
  }
  void patch(uint64_t seq, uint64_t offset, std::string_view bytes) {
    std::fstream f(pathOf(seq), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(offset));
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  void flipByte(uint64_t seq, uint64_t offset) {
    std::string bytes = readFileBytes(pathOf(seq));
    patch(seq, offset, std::string(1, static_cast<char>(bytes.at(offset) ^ 0x20)));
  }

  TempDir dir_;
  FaultEnv env_;
  ManualClock clock_;
};

// --- round trips and segment lifecycle ---

TEST_F(DiskSpoolTest, RoundTripAcrossSegments) {
  auto s = open();
  std::vector<FrameId> ids = appendRange(*s, 0, 40);
  ASSERT_EQ(ids.size(), 40u);
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  EXPECT_GE(s->stats().segments, 5u);
  EXPECT_EQ(s->stats().records, 120u);
  EXPECT_EQ(s->stats().frames, 40u);
  EXPECT_EQ(s->sizeBytes(), diskBytes());

  std::vector<SpooledBatch> got = readAll(*s);
  ASSERT_EQ(numbers(got), iota(0, 40));
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].id, ids[i]);
    EXPECT_TRUE(sameBatch(got[i].batch, makeBatch(static_cast<int>(i))));
    EXPECT_EQ(got[i].appendedAt, clock_.wallNow() - clock_.wallNow().time_since_epoch() % 1ms);
  }
  for (const auto& b : got) ASSERT_TRUE(s->ack(b.id).isOk());
  SpoolStats st = s->stats();
  EXPECT_EQ(st.segments, 1u);  // only the active one stays
  EXPECT_EQ(st.records, 0u);
  EXPECT_EQ(st.frames, 0u);
  EXPECT_EQ(st.oldestAppendWallMs, 0u);
  EXPECT_EQ(st.ackedFramesTotal, 40u);
  EXPECT_EQ(s->sizeBytes(), diskBytes());
  EXPECT_EQ(files().size(), 1u);
}

TEST_F(DiskSpoolTest, ReadNextIntoReusesOneBatch) {
  auto s = open();
  std::vector<FrameId> ids = appendRange(*s, 0, 12);
  pipeline::RecordBatch batch = makeBatch(99, 7, 300);  // leftovers must not survive
  for (int n = 0; n < 12; ++n) {
    auto frame = s->readNextInto(batch);
    ASSERT_TRUE(frame.has_value()) << frame.error().message();
    ASSERT_TRUE(frame->has_value());
    EXPECT_EQ((*frame)->id, ids[static_cast<size_t>(n)]);
    EXPECT_TRUE(sameBatch(batch, makeBatch(n))) << n;
    ASSERT_TRUE(s->ack((*frame)->id).isOk());
  }
  auto end = s->readNextInto(batch);
  ASSERT_TRUE(end.has_value());
  EXPECT_FALSE(end->has_value());
  EXPECT_EQ(s->stats().records, 0u);
}

TEST_F(DiskSpoolTest, SegmentsDeletedOutOfOrderAmongMany) {
  // Many segments (more than one block of the segment list's deque), each
  // fully acknowledged in a scattered order: every deletion must remove
  // exactly its own segment.
  auto s = open();
  std::vector<FrameId> ids = appendRange(*s, 0, 150);
  std::vector<SpooledBatch> got = readAll(*s);
  ASSERT_EQ(got.size(), 150u);
  std::map<uint64_t, std::vector<FrameId>> bySegment;
  for (const auto& b : got) bySegment[b.id.segment].push_back(b.id);
  ASSERT_GE(bySegment.size(), 20u);
  const uint64_t active = ids.back().segment;
  std::vector<uint64_t> order;
  for (const auto& [seq, frames] : bySegment) order.push_back(seq);
  std::vector<uint64_t> scattered;
  for (size_t step : {7u, 3u, 1u}) {
    for (size_t i = 0; i < order.size(); i += step) {
      if (std::find(scattered.begin(), scattered.end(), order[i]) == scattered.end()) scattered.push_back(order[i]);
    }
  }
  ASSERT_EQ(scattered.size(), order.size());
  for (size_t k = 0; k < scattered.size(); ++k) {
    const uint64_t seq = scattered[k];
    for (const FrameId& id : bySegment[seq]) ASSERT_TRUE(s->ack(id).isOk());
    if (seq != active) {
      EXPECT_FALSE(exists(seq)) << "segment " << seq;
    }
    for (size_t j = k + 1; j < scattered.size(); ++j) {
      EXPECT_TRUE(exists(scattered[j])) << "segment " << scattered[j] << " deleted before its frames were acked";
    }
    EXPECT_EQ(s->sizeBytes(), diskBytes());
  }
  EXPECT_EQ(s->stats().records, 0u);
  EXPECT_EQ(s->stats().segments, 1u);
}

TEST_F(DiskSpoolTest, SegmentDeletedOnlyWhenEveryFrameAcked) {
  auto s = open();
  std::vector<FrameId> ids = appendRange(*s, 0, 15);
  std::vector<SpooledBatch> got = readAll(*s);
  ASSERT_EQ(got.size(), 15u);
  const uint64_t first = ids.front().segment;
  std::vector<FrameId> inFirst, inSecond;
  for (FrameId id : ids) {
    if (id.segment == first) inFirst.push_back(id);
    if (id.segment == first + 1) inSecond.push_back(id);
  }
  ASSERT_GE(inFirst.size(), 2u);
  ASSERT_FALSE(inSecond.empty());
  ASSERT_NE(ids.back().segment, first + 1);  // the second is sealed

  for (size_t i = 0; i + 1 < inFirst.size(); ++i) ASSERT_TRUE(s->ack(inFirst[i]).isOk());
  EXPECT_TRUE(exists(first));
  // Out of order: the second segment goes before the first.
  for (FrameId id : inSecond) ASSERT_TRUE(s->ack(id).isOk());
  EXPECT_FALSE(exists(first + 1));
  EXPECT_TRUE(exists(first));
  ASSERT_TRUE(s->ack(inFirst.back()).isOk());
  EXPECT_FALSE(exists(first));
  EXPECT_EQ(s->sizeBytes(), diskBytes());
}

TEST_F(DiskSpoolTest, ActiveSegmentStaysUntilTheWriterLeavesIt) {
  auto s = open();
  std::vector<FrameId> ids = appendRange(*s, 0, 2);
  ASSERT_EQ(ids[0].segment, ids[1].segment);
  for (const auto& b : readAll(*s)) ASSERT_TRUE(s->ack(b.id).isOk());
  EXPECT_TRUE(exists(ids[0].segment));
  // The next roll seals it and deletes it at once.
  ASSERT_TRUE(s->append(makeBatch(2, 10, 500)).has_value());  // larger than a segment: rolls
  EXPECT_FALSE(exists(ids[0].segment));
}

TEST_F(DiskSpoolTest, AckOfUnknownOrRepeatedFrameIsRefused) {
  auto s = open();
  std::vector<FrameId> ids = appendRange(*s, 0, 2);
  EXPECT_EQ(s->ack(ids[0]).code(), Status::Code::kInvalidArgument);  // not delivered yet
  readAll(*s);
  EXPECT_TRUE(s->ack(ids[0]).isOk());
  EXPECT_EQ(s->ack(ids[0]).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(s->ack(FrameId{999, 8}).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(s->stats().frames, 1u);
}

TEST_F(DiskSpoolTest, ReopenAfterCleanCloseResumesUnackedFrames) {
  std::vector<int> unacked;
  uint64_t partial = 0;
  {
    auto s = open();
    std::vector<FrameId> ids = appendRange(*s, 0, 20);
    readAll(*s);
    // Ack the first two segments whole and the third in part.
    uint64_t first = ids.front().segment;
    partial = first + 2;
    bool skipped = false;
    for (size_t i = 0; i < ids.size(); ++i) {
      const FrameId id = ids[i];
      if (id.segment < partial || (id.segment == partial && skipped)) {
        ASSERT_TRUE(s->ack(id).isOk());
      } else {
        unacked.push_back(static_cast<int>(i));
      }
      if (id.segment == partial) skipped = true;
    }
    EXPECT_FALSE(exists(first));
    EXPECT_FALSE(exists(first + 1));
  }
  auto s = open();
  std::vector<SpooledBatch> got = readAll(*s);
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.front().id.segment, partial);
  // In order, each once: the unacknowledged frames only (those of the
  // partial segment acked out of order above its first do not come again).
  EXPECT_EQ(numbers(got), unacked);
  EXPECT_GT(unacked.size(), 1u);
  // Appends go to a new segment after the recovered ones.
  auto id = s->append(makeBatch(20));
  ASSERT_TRUE(id.has_value());
  EXPECT_GT(id->segment, got.back().id.segment);
  EXPECT_EQ(numbers(readAll(*s)), std::vector<int>{20});
}

TEST_F(DiskSpoolTest, UnreadFramesSurviveReopenInOrder) {
  {
    auto s = open();
    appendRange(*s, 0, 12);
  }
  auto s = open();
  EXPECT_EQ(s->stats().frames, 12u);
  EXPECT_EQ(s->stats().records, 36u);
  EXPECT_EQ(s->sizeBytes(), diskBytes());
  EXPECT_EQ(numbers(readAll(*s)), iota(0, 12));
}

TEST_F(DiskSpoolTest, OldestRecordAgeFollowsAcks) {
  auto s = open();
  uint64_t t0 = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(clock_.wallNow().time_since_epoch()).count());
  std::vector<FrameId> ids;
  for (int n = 0; n < 12; ++n) {
    ids.push_back(*s->append(makeBatch(n)));
    clock_.advance(1s);
  }
  EXPECT_EQ(s->stats().oldestAppendWallMs, t0);
  readAll(*s);
  uint64_t firstSeg = ids[0].segment;
  size_t k = 0;
  while (ids[k].segment == firstSeg) ASSERT_TRUE(s->ack(ids[k++]).isOk());
  EXPECT_EQ(s->stats().oldestAppendWallMs, t0 + 1000 * k);
}

TEST_F(DiskSpoolTest, FrameLargerThanASegmentGetsItsOwn) {
  auto s = open();
  appendRange(*s, 0, 2);
  auto big = s->append(makeBatch(2, 10, 500));  // over 5 KiB, segments are 1 KiB
  ASSERT_TRUE(big.has_value());
  auto next = s->append(makeBatch(3));
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(big->offset, format::kSegmentHeaderSize);
  EXPECT_GT(next->segment, big->segment);
  EXPECT_EQ(numbers(readAll(*s)), iota(0, 4));
}

// --- the acknowledgement floor (ACKED) ---

// What a kill -9 would leave: the files as they are now, copied aside while
// the spool is still open (every write is already in the page cache).
class AckFloorTest : public DiskSpoolTest {
 protected:
  SpoolOptions snapshot() { return snapshot(options().dir); }
  // The same, of the spool open in `from`.
  SpoolOptions snapshot(const std::string& from) {
    SpoolOptions o = options();
    o.dir = dir_.path() + "/crash" + std::to_string(++snapshots_);
    std::filesystem::copy(from, o.dir, std::filesystem::copy_options::recursive);
    return o;
  }
  int snapshots_ = 0;
};

TEST_F(AckFloorTest, AckedFramesAreNotRedeliveredAfterACleanClose) {
  {
    auto s = open();
    appendRange(*s, 0, 20);
    std::vector<SpooledBatch> got = readAll(*s);
    for (int i = 0; i < 13; ++i) ASSERT_TRUE(s->ack(got[i].id).isOk());
  }
  auto s = open();
  EXPECT_EQ(s->stats().frames, 7u);
  EXPECT_EQ(s->stats().records, 21u);
  EXPECT_EQ(numbers(readAll(*s)), iota(13, 20));
}

TEST_F(AckFloorTest, AfterACrashFramesAckedOutOfOrderDoNotComeAgain) {
  auto s = open();
  appendRange(*s, 0, 20);
  std::vector<SpooledBatch> got = readAll(*s);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(s->ack(got[i].id).isOk());
  {
    auto crashed = open(snapshot());
    EXPECT_EQ(numbers(readAll(*crashed)), iota(10, 20));
  }
  // 10 stays in flight while 11 and 12 are acked: the floor stays at 10.
  ASSERT_TRUE(s->ack(got[11].id).isOk());
  ASSERT_TRUE(s->ack(got[12].id).isOk());
  {
    auto crashed = open(snapshot());
    std::vector<int> expected = iota(13, 20);
    expected.insert(expected.begin(), 10);  // not 11 and 12: recorded above the floor
    EXPECT_EQ(numbers(readAll(*crashed)), expected);
  }
  ASSERT_TRUE(s->ack(got[10].id).isOk());
  auto crashed = open(snapshot());
  EXPECT_EQ(numbers(readAll(*crashed)), iota(13, 20));
}

TEST_F(AckFloorTest, FloorAtTheReaderCoversFramesNotYetAppended) {
  auto s = open();
  appendRange(*s, 0, 12);
  for (const auto& b : readAll(*s)) ASSERT_TRUE(s->ack(b.id).isOk());
  appendRange(*s, 12, 14);  // appended after the last ack: must come back
  auto crashed = open(snapshot());
  EXPECT_EQ(numbers(readAll(*crashed)), iota(12, 14));
}

TEST_F(AckFloorTest, IntervalLimitsHowOftenTheFloorIsWritten) {
  SpoolOptions o = options();
  o.ackPersistInterval = 1s;
  auto s = open(o);
  appendRange(*s, 0, 8);
  std::vector<SpooledBatch> got = readAll(*s);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(s->ack(got[i].id).isOk());  // the first one is written
  {
    auto crashed = open(snapshot());
    EXPECT_EQ(numbers(readAll(*crashed)), iota(1, 8));
  }
  clock_.advance(1s);
  ASSERT_TRUE(s->ack(got[5].id).isOk());
  auto crashed = open(snapshot());
  EXPECT_EQ(numbers(readAll(*crashed)), iota(6, 8));
}

TEST_F(AckFloorTest, DamagedAckFileMeansEverythingIsDeliveredAgain) {
  {
    auto s = open();
    appendRange(*s, 0, 3);
    for (const auto& b : readAll(*s)) ASSERT_TRUE(s->ack(b.id).isOk());
    appendRange(*s, 3, 4);  // the same (active) segment
  }
  const std::string ackPath = options().dir + "/ACKED";
  std::string bytes = readFileBytes(ackPath);
  ASSERT_GT(bytes.size(), kAckSlotBytes);  // both slots written
  bytes[30] ^= 1;
  bytes[kAckSlotBytes + 30] ^= 1;
  writeFileBytes(ackPath, bytes);
  auto s = open();
  EXPECT_EQ(numbers(readAll(*s)), iota(0, 4));  // acked frames of the surviving segment come again
}

// --- record-level progress (recordsDone) ---

// The record numbers makeBatch() put in a batch's records, in order.
std::vector<int> recordNumbers(const pipeline::RecordBatch& b) {
  std::vector<int> out;
  for (size_t i = 0; i < b.size(); ++i) {
    std::string_view d = b.data(i);
    auto at = d.find("-record-");
    out.push_back(std::stoi(std::string(d.substr(at + 8, d.find('|') - at - 8))));
  }
  return out;
}

std::vector<DoneRecord> done(FrameId frame, std::initializer_list<uint32_t> indices) {
  std::vector<DoneRecord> out;
  for (uint32_t i : indices) out.push_back({frame, i});
  return out;
}

TEST_F(AckFloorTest, AfterACrashAHalfDeliveredFrameSendsOnlyItsUndoneRecords) {
  auto s = open();
  ASSERT_TRUE(s->append(makeBatch(0, 10)).has_value());
  ASSERT_TRUE(s->append(makeBatch(1, 10)).has_value());
  std::vector<SpooledBatch> got = readAll(*s);
  ASSERT_EQ(got.size(), 2u);
  s->recordsDone(done(got[0].id, {0, 1, 2, 5, 9}));
  s->recordsDone(done(got[1].id, {3}));
  const SpoolOptions crashedOptions = snapshot();
  auto crashed = open(crashedOptions);
  std::vector<SpooledBatch> again = readAll(*crashed);
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(recordNumbers(again[0].batch), (std::vector<int>{3, 4, 6, 7, 8}));
  EXPECT_EQ(recordNumbers(again[1].batch), (std::vector<int>{0, 1, 2, 4, 5, 6, 7, 8, 9}));
  // The gauges count whole frames until they are acknowledged.
  EXPECT_EQ(crashed->stats().records, 20u);

  // Indices are those of the batch delivered (without the done records):
  // index 1 of the first is record 4; a second crash leaves 3, 6, 7, 8.
  crashed->recordsDone(done(again[0].id, {1}));
  {
    auto twice = open(snapshot(crashedOptions.dir));
    std::vector<SpooledBatch> third = readAll(*twice);
    ASSERT_EQ(third.size(), 2u);
    EXPECT_EQ(recordNumbers(third[0].batch), (std::vector<int>{3, 6, 7, 8}));
  }
  ASSERT_TRUE(crashed->ack(again[0].id).isOk());
  ASSERT_TRUE(crashed->ack(again[1].id).isOk());
  EXPECT_EQ(crashed->stats().records, 0u);
  EXPECT_EQ(crashed->stats().frames, 0u);
  auto last = open(snapshot(crashedOptions.dir));
  EXPECT_TRUE(readAll(*last).empty());
}

TEST_F(AckFloorTest, AFrameWhoseRecordsAreAllDoneIsNotDeliveredAgain) {
  auto s = open();
  ASSERT_TRUE(s->append(makeBatch(0, 4)).has_value());
  ASSERT_TRUE(s->append(makeBatch(1, 4)).has_value());
  ASSERT_TRUE(s->append(makeBatch(2, 4)).has_value());
  std::vector<SpooledBatch> got = readAll(*s);
  // The second is answered whole, its frame ack not yet applied; the
  // first is still in flight.
  s->recordsDone(done(got[1].id, {0, 1, 2, 3}));
  auto crashed = open(snapshot());
  EXPECT_EQ(numbers(readAll(*crashed)), (std::vector<int>{0, 2}));
  EXPECT_EQ(crashed->stats().frames, 2u);
  EXPECT_EQ(crashed->stats().records, 8u);
}

TEST_F(AckFloorTest, ProgressOfFramesNotReadAgainYetIsKeptAcrossCrashes) {
  std::string first;
  {
    auto s = open();
    ASSERT_TRUE(s->append(makeBatch(0, 6)).has_value());
    ASSERT_TRUE(s->append(makeBatch(1, 6)).has_value());
    std::vector<SpooledBatch> got = readAll(*s);
    s->recordsDone(done(got[1].id, {0, 1}));
    first = snapshot().dir;
  }
  SpoolOptions o = options();
  o.dir = first;
  {
    auto restarted = open(o);
    auto one = restarted->readNext();
    ASSERT_TRUE(one.has_value() && one->has_value());
    // Frame 0 is answered in part; frame 1 is not read yet: ACKED must
    // still say what was done of it.
    restarted->recordsDone(done((*one)->id, {0}));
    std::filesystem::copy(first, dir_.path() + "/second", std::filesystem::copy_options::recursive);
  }
  o.dir = dir_.path() + "/second";
  auto again = open(o);
  std::vector<SpooledBatch> got = readAll(*again);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(recordNumbers(got[0].batch), (std::vector<int>{1, 2, 3, 4, 5}));
  EXPECT_EQ(recordNumbers(got[1].batch), (std::vector<int>{2, 3, 4, 5}));
}

TEST_F(AckFloorTest, ATornWriteOfAckedLeavesTheStateOneWriteOlder) {
  auto s = open();
  ASSERT_TRUE(s->append(makeBatch(0, 10)).has_value());
  std::vector<SpooledBatch> got = readAll(*s);
  s->recordsDone(done(got[0].id, {0, 1}));
  s->recordsDone(done(got[0].id, {2, 3}));
  // The next write stops 30 bytes into its slot (a power loss mid-write).
  env_.failWriteAt(EIO, 30);
  s->recordsDone(done(got[0].id, {4, 5}));
  EXPECT_EQ(s->stats().ackPersistErrorsTotal, 1u);
  {
    auto crashed = open(snapshot());
    std::vector<SpooledBatch> again = readAll(*crashed);
    ASSERT_EQ(again.size(), 1u);
    EXPECT_EQ(recordNumbers(again[0].batch), (std::vector<int>{4, 5, 6, 7, 8, 9}));
  }
  // Written again into the same slot, not over the good one.
  s->recordsDone(done(got[0].id, {6}));
  auto crashed = open(snapshot());
  std::vector<SpooledBatch> again = readAll(*crashed);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(recordNumbers(again[0].batch), (std::vector<int>{7, 8, 9}));
}

TEST_F(AckFloorTest, AVersionOneAckFileIsStillRead) {
  FrameId floor;
  {
    auto s = open();
    appendRange(*s, 0, 4);
    std::vector<SpooledBatch> got = readAll(*s);
    floor = got[2].id;
  }
  writeFileBytes(options().dir + "/ACKED", format::encodeAckFile(floor.segment, floor.offset));
  {
    auto s = open();
    std::vector<SpooledBatch> got = readAll(*s);
    EXPECT_EQ(numbers(got), iota(2, 4));
    s->recordsDone(done(got[0].id, {0}));  // written as version 2 now
  }
  auto s = open();
  std::vector<SpooledBatch> got = readAll(*s);
  EXPECT_EQ(numbers(got), iota(2, 4));
  EXPECT_EQ(got[0].batch.size(), 2u);
}

TEST_F(AckFloorTest, FailureToWriteTheFloorIsCountedAndHarmless) {
  auto s = open();
  appendRange(*s, 0, 3);
  std::vector<SpooledBatch> got = readAll(*s);
  env_.failOpenWritable(EACCES);
  EXPECT_TRUE(s->ack(got[0].id).isOk());
  EXPECT_EQ(s->stats().ackPersistErrorsTotal, 1u);
  EXPECT_TRUE(s->ack(got[1].id).isOk());  // written now
  auto crashed = open(snapshot());
  EXPECT_EQ(numbers(readAll(*crashed)), iota(2, 3));
}

TEST_F(AckFloorTest, SegmentsBelowTheFloorAreDeletedAfterRecovery) {
  auto s = open();
  std::vector<FrameId> ids = appendRange(*s, 0, 12);
  std::vector<SpooledBatch> got = readAll(*s);
  env_.failRemove(EIO);  // the first segment outlives its last ack
  size_t k = 0;
  while (ids[k].segment == ids[0].segment) ASSERT_TRUE(s->ack(ids[k++]).isOk());
  SpoolOptions o = snapshot();
  ASSERT_TRUE(std::filesystem::exists(o.dir + "/" + format::segmentFileName(ids[0].segment)));
  auto crashed = open(o);
  EXPECT_EQ(crashed->stats().frames, 12 - k);
  EXPECT_EQ(numbers(readAll(*crashed)), iota(static_cast<int>(k), 12));
  EXPECT_FALSE(std::filesystem::exists(o.dir + "/" + format::segmentFileName(ids[0].segment)));
}

// --- recovery ---

TEST_F(DiskSpoolTest, TornTailAtEveryByteOfTheLastFrame) {
  SpoolOptions o = options();
  o.segmentBytes = 1 << 20;
  std::vector<FrameId> ids;
  {
    auto s = open(o);
    ids = appendRange(*s, 0, 5);
  }
  const uint64_t seq = ids[0].segment;
  const std::string pristine = readFileBytes(pathOf(seq));
  const uint64_t last = ids.back().offset;
  for (uint64_t cut = last; cut < pristine.size(); ++cut) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    std::filesystem::remove_all(o.dir);
    std::filesystem::create_directory(o.dir);
    writeFileBytes(pathOf(seq), std::string_view(pristine).substr(0, cut));
    {
      auto s = open(o);
      ASSERT_NE(s, nullptr);
      EXPECT_EQ(s->stats().tornTailsTotal, cut > last ? 1u : 0u);
      EXPECT_EQ(s->stats().corruptFramesTotal, 0u);
      EXPECT_EQ(std::filesystem::file_size(pathOf(seq)), last);  // the tail is gone
      EXPECT_EQ(numbers(readAll(*s)), iota(0, 4));
      ASSERT_TRUE(s->append(makeBatch(99)).has_value());
    }
    auto s = open(o);
    EXPECT_EQ(s->stats().tornTailsTotal, 0u);
    EXPECT_EQ(numbers(readAll(*s)), (std::vector<int>{0, 1, 2, 3, 99}));
  }
}

TEST_F(DiskSpoolTest, TornTailOfLastSegmentLeavesEarlierSegmentsWhole) {
  std::vector<FrameId> ids;
  {
    auto s = open();
    ids = appendRange(*s, 0, 12);
  }
  std::filesystem::resize_file(pathOf(ids.back().segment), ids.back().offset + 5);
  auto s = open();
  EXPECT_EQ(s->stats().tornTailsTotal, 1u);
  EXPECT_EQ(numbers(readAll(*s)), iota(0, 11));
}

TEST_F(DiskSpoolTest, FlippedByteInAMiddleFrameIsCountedAndTheRestDelivered) {
  std::vector<FrameId> ids;
  {
    auto s = open();
    ids = appendRange(*s, 0, 15);
  }
  // The second frame of the second segment.
  const uint64_t seg = ids.front().segment + 1;
  auto it = std::find_if(ids.begin(), ids.end(), [&](FrameId id) { return id.segment == seg; });
  ASSERT_NE(it + 1, ids.end());
  FrameId victim = *(it + 1);
  ASSERT_EQ(victim.segment, seg);
  flipByte(seg, victim.offset + format::kFrameHeaderSize + 20);

  auto s = open();
  SpoolStats st = s->stats();
  EXPECT_EQ(st.corruptFramesTotal, 1u);
  EXPECT_GT(st.corruptBytesTotal, 0u);
  EXPECT_EQ(st.tornTailsTotal, 0u);
  std::vector<int> expected;
  for (size_t i = 0; i < ids.size(); ++i) {
    // The rest of the damaged segment is skipped (documented choice).
    if (ids[i].segment == seg && ids[i].offset >= victim.offset) continue;
    expected.push_back(static_cast<int>(i));
  }
  std::vector<SpooledBatch> got = readAll(*s);
  EXPECT_EQ(numbers(got), expected);
  // The damaged segment is deleted once what was delivered from it is acked.
  for (const auto& b : got) ASSERT_TRUE(s->ack(b.id).isOk());
  EXPECT_FALSE(exists(seg));
  EXPECT_EQ(s->stats().frames, 0u);
}

TEST_F(DiskSpoolTest, CorruptLastFrameIsNotMistakenForATornTail) {
  std::vector<FrameId> ids;
  {
    auto s = open();
    ids = appendRange(*s, 0, 3);
  }
  flipByte(ids.back().segment, ids.back().offset + format::kFrameHeaderSize + 3);
  auto s = open();
  EXPECT_EQ(s->stats().corruptFramesTotal, 1u);
  EXPECT_EQ(s->stats().tornTailsTotal, 0u);
  EXPECT_EQ(numbers(readAll(*s)), iota(0, 2));
}

TEST_F(DiskSpoolTest, BadMagicSegmentIsSetAsideAndCounted) {
  std::vector<FrameId> ids;
  {
    auto s = open();
    ids = appendRange(*s, 0, 15);
  }
  const uint64_t first = ids.front().segment;
  patch(first, 0, "X");
  auto s = open();
  EXPECT_EQ(s->stats().badSegmentsTotal, 1u);
  EXPECT_FALSE(exists(first));
  EXPECT_TRUE(std::filesystem::exists(pathOf(first) + ".bad"));
  std::vector<int> expected;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i].segment != first) expected.push_back(static_cast<int>(i));
  }
  EXPECT_EQ(numbers(readAll(*s)), expected);
  EXPECT_EQ(s->sizeBytes(), diskBytes() - std::filesystem::file_size(pathOf(first) + ".bad"));
}

TEST_F(DiskSpoolTest, BadVersionSegmentIsSetAsideAndItsSequenceNeverReused) {
  std::vector<FrameId> ids;
  {
    auto s = open();
    ids = appendRange(*s, 0, 3);
  }
  const uint64_t only = ids.front().segment;
  patch(only, 4, std::string("\x02", 1));
  auto s = open();
  EXPECT_EQ(s->stats().badSegmentsTotal, 1u);
  EXPECT_TRUE(readAll(*s).empty());
  auto id = s->append(makeBatch(7));
  ASSERT_TRUE(id.has_value());
  EXPECT_GT(id->segment, only);
}

TEST_F(DiskSpoolTest, ZeroLengthSegmentIsRemoved) {
  std::filesystem::create_directory(options().dir);
  writeFileBytes(pathOf(5), "");
  auto s = open();
  EXPECT_EQ(s->stats().badSegmentsTotal, 1u);
  EXPECT_FALSE(exists(5));
  EXPECT_TRUE(readAll(*s).empty());
  auto id = s->append(makeBatch(0));
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(id->segment, 6u);
}

TEST_F(DiskSpoolTest, ZeroLengthLastSegmentAfterGoodOnes) {
  std::vector<FrameId> ids;
  {
    auto s = open();
    ids = appendRange(*s, 0, 4);
  }
  // A crash right after creating the next segment.
  writeFileBytes(pathOf(ids.back().segment + 1), "");
  auto s = open();
  EXPECT_EQ(numbers(readAll(*s)), iota(0, 4));
}

TEST_F(DiskSpoolTest, HeaderOnlySegmentIsPassedAndDeleted) {
  std::vector<FrameId> ids;
  {
    auto s = open();
    ids = appendRange(*s, 0, 2);
  }
  writeFileBytes(pathOf(ids.back().segment + 1), format::segmentHeader());
  auto s = open();
  std::vector<SpooledBatch> got = readAll(*s);
  EXPECT_EQ(numbers(got), iota(0, 2));
  EXPECT_FALSE(exists(ids.back().segment + 1));
  for (const auto& b : got) ASSERT_TRUE(s->ack(b.id).isOk());
  EXPECT_EQ(s->stats().segments, 0u);
  EXPECT_EQ(diskBytes(), 0u);
}

TEST_F(DiskSpoolTest, LengthPastEndOfFileInLastSegmentIsATornTail) {
  std::vector<FrameId> ids;
  {
    auto s = open();
    ids = appendRange(*s, 0, 3);
  }
  std::string len(4, '\0');
  format::putFixed32(len.data(), 100000);
  patch(ids.back().segment, ids.back().offset + 4, len);
  auto s = open();
  EXPECT_EQ(s->stats().tornTailsTotal, 1u);
  EXPECT_EQ(std::filesystem::file_size(pathOf(ids.back().segment)), ids.back().offset);
  EXPECT_EQ(numbers(readAll(*s)), iota(0, 2));
}

TEST_F(DiskSpoolTest, LengthPastEndOfSegmentInEarlierSegmentIsCorruption) {
  std::vector<FrameId> ids;
  {
    auto s = open();
    ids = appendRange(*s, 0, 15);
  }
  const uint64_t first = ids.front().segment;
  std::string len(4, '\0');
  format::putFixed32(len.data(), 100000);
  patch(first, ids[1].offset + 4, len);
  const uint64_t sizeBefore = std::filesystem::file_size(pathOf(first));
  auto s = open();
  EXPECT_EQ(s->stats().corruptFramesTotal, 1u);
  EXPECT_EQ(s->stats().tornTailsTotal, 0u);
  EXPECT_EQ(std::filesystem::file_size(pathOf(first)), sizeBefore);  // not cut: only the last segment is
  std::vector<int> n = numbers(readAll(*s));
  EXPECT_EQ(n.front(), 0);
  EXPECT_EQ(n.back(), 14);
  EXPECT_EQ(std::count(n.begin(), n.end(), 1), 0);
}

TEST_F(DiskSpoolTest, LengthOverMaximumIsCorruption) {
  std::vector<FrameId> ids;
  {
    auto s = open();
    ids = appendRange(*s, 0, 3);
  }
  std::string len(4, '\xff');
  patch(ids[1].segment, ids[1].offset + 4, len);
  auto s = open();
  EXPECT_EQ(s->stats().corruptFramesTotal, 1u);
  EXPECT_EQ(numbers(readAll(*s)), iota(0, 1));
}

TEST_F(DiskSpoolTest, UnknownFrameTypeIsCorruption) {
  std::vector<FrameId> ids;
  {
    auto s = open();
    ids = appendRange(*s, 0, 3);
  }
  std::string bytes = readFileBytes(pathOf(ids[1].segment));
  char* h = bytes.data() + ids[1].offset;
  h[8] = 2;
  uint32_t len = format::getFixed32(h + 4);
  format::putFixed32(h, format::maskCrc(format::crc32c(0, h + 4, 5 + len)));
  writeFileBytes(pathOf(ids[1].segment), bytes);
  auto s = open();
  EXPECT_EQ(s->stats().corruptFramesTotal, 1u);
  EXPECT_EQ(numbers(readAll(*s)), iota(0, 1));
}

TEST_F(DiskSpoolTest, PayloadThatDoesNotParseIsCorruption) {
  std::vector<FrameId> ids;
  {
    auto s = open();
    ids = appendRange(*s, 0, 3);
  }
  std::string bytes = readFileBytes(pathOf(ids[1].segment));
  char* h = bytes.data() + ids[1].offset;
  h[format::kFrameHeaderSize + 8] = 100;  // record count: far more than present
  uint32_t len = format::getFixed32(h + 4);
  format::putFixed32(h, format::maskCrc(format::crc32c(0, h + 4, 5 + len)));
  writeFileBytes(pathOf(ids[1].segment), bytes);
  auto s = open();
  EXPECT_EQ(s->stats().corruptFramesTotal, 1u);
  EXPECT_EQ(numbers(readAll(*s)), iota(0, 1));
}

TEST_F(DiskSpoolTest, ReadErrorDuringRecoveryFailsOpenAndDeletesNothing) {
  {
    auto s = open();
    appendRange(*s, 0, 3);
  }
  std::vector<std::string> before = files();
  env_.failRead(EIO);
  auto s = openDiskSpool(options());
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), Status::Code::kIoError);
  EXPECT_EQ(files(), before);
  env_.clear();
  EXPECT_EQ(numbers(readAll(*open())), iota(0, 3));
}

TEST_F(DiskSpoolTest, OtherFilesInTheDirectoryAreIgnored) {
  std::filesystem::create_directory(options().dir);
  writeFileBytes(options().dir + "/notes.txt", "hello");
  writeFileBytes(options().dir + "/123.seg", "junk");
  auto s = open();
  EXPECT_EQ(s->stats().badSegmentsTotal, 0u);
  EXPECT_EQ(s->sizeBytes(), 0u);
}

// --- reader errors at run time ---

TEST_F(DiskSpoolTest, ReadErrorIsReturnedAndTheSameFrameRetried) {
  auto s = open();
  appendRange(*s, 0, 3);
  env_.failRead(EIO);
  auto r = s->readNext();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Status::Code::kIoError);
  EXPECT_EQ(s->stats().readErrorsTotal, 1u);
  EXPECT_EQ(numbers(readAll(*s)), iota(0, 3));
}

TEST_F(DiskSpoolTest, SegmentOpenErrorIsReturnedAndRetried) {
  auto s = open();
  appendRange(*s, 0, 2);
  env_.failOpenReadable(EMFILE);
  auto r = s->readNext();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Status::Code::kIoError);
  EXPECT_EQ(s->stats().readErrorsTotal, 1u);
  EXPECT_EQ(numbers(readAll(*s)), iota(0, 2));
}

TEST_F(DiskSpoolTest, SegmentCutShortUnderTheReaderIsSkipped) {
  auto s = open();
  std::vector<FrameId> ids = appendRange(*s, 0, 3);
  // Something outside kinship cuts the file inside the second frame.
  std::filesystem::resize_file(pathOf(ids[1].segment), ids[1].offset + 4);
  EXPECT_EQ(numbers(readAll(*s)), iota(0, 1));
  EXPECT_EQ(s->stats().corruptFramesTotal, 1u);
  EXPECT_EQ(s->stats().frames, 1u);
}

TEST_F(DiskSpoolTest, FrameDamagedAfterItWasWrittenIsSkippedAtRunTime) {
  auto s = open();
  std::vector<FrameId> ids = appendRange(*s, 0, 4);  // all in the active segment
  ASSERT_EQ(ids.front().segment, ids.back().segment);
  flipByte(ids[1].segment, ids[1].offset + format::kFrameHeaderSize + 10);
  std::vector<SpooledBatch> got = readAll(*s);
  EXPECT_EQ(numbers(got), iota(0, 1));
  EXPECT_EQ(s->stats().corruptFramesTotal, 1u);
  EXPECT_EQ(s->stats().frames, 1u);  // the three lost frames are no longer awaited
  // Appends after the skip start at a frame boundary and are delivered.
  appendRange(*s, 4, 6);
  std::vector<SpooledBatch> more = readAll(*s);
  EXPECT_EQ(numbers(more), iota(4, 6));
  for (const auto& b : got) ASSERT_TRUE(s->ack(b.id).isOk());
  for (const auto& b : more) ASSERT_TRUE(s->ack(b.id).isOk());
  EXPECT_EQ(s->stats().frames, 0u);
  EXPECT_EQ(s->stats().records, 0u);
  appendRange(*s, 6, 16);  // rolls: the damaged segment, all acked, goes
  EXPECT_FALSE(exists(ids[0].segment));
}

// --- the size cap ---

TEST_F(DiskSpoolTest, CapReachedReturnsFullAndWritesNothing) {
  SpoolOptions o = options();
  o.maxTotalBytes = 4096;
  auto s = open(o);
  int n = 0;
  Status last;
  for (;; ++n) {
    auto id = s->append(makeBatch(n));
    if (!id) {
      last = id.error();
      break;
    }
    ASSERT_LT(n, 1000);
  }
  EXPECT_TRUE(isFull(last)) << last.message();
  EXPECT_LE(s->sizeBytes(), o.maxTotalBytes);
  const uint64_t onDisk = diskBytes();
  EXPECT_EQ(onDisk, s->sizeBytes());
  EXPECT_FALSE(s->append(makeBatch(n)).has_value());
  EXPECT_EQ(diskBytes(), onDisk);  // nothing written, not even in part
  EXPECT_EQ(s->stats().fullRejectionsTotal, 2u);
  // Acks free whole segments; appends resume.
  std::vector<SpooledBatch> got = readAll(*s);
  ASSERT_EQ(numbers(got), iota(0, n));
  for (const auto& b : got) ASSERT_TRUE(s->ack(b.id).isOk());
  ASSERT_TRUE(s->append(makeBatch(n)).has_value());
  EXPECT_LE(s->sizeBytes(), o.maxTotalBytes);
}

TEST_F(DiskSpoolTest, CapOfOneSegmentIsFreedByAckingTheActiveSegment) {
  SpoolOptions o = options();
  o.maxTotalBytes = o.segmentBytes;
  auto s = open(o);
  int n = 0;
  while (s->append(makeBatch(n)).has_value()) ++n;
  for (const auto& b : readAll(*s)) ASSERT_TRUE(s->ack(b.id).isOk());
  ASSERT_TRUE(s->append(makeBatch(n)).has_value());
  EXPECT_EQ(numbers(readAll(*s)), std::vector<int>{n});
}

TEST_F(DiskSpoolTest, BatchThatCanNeverFitIsInvalid) {
  SpoolOptions o = options();
  o.maxTotalBytes = 2048;
  o.segmentBytes = 1024;
  auto s = open(o);
  auto id = s->append(makeBatch(0, 20, 200));
  ASSERT_FALSE(id.has_value());
  EXPECT_EQ(id.error().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(s->append(pipeline::RecordBatch()).error().code(), Status::Code::kInvalidArgument);
}

TEST_F(DiskSpoolTest, BadOptionsAreRefused) {
  SpoolOptions o = options();
  o.maxTotalBytes = 100;
  EXPECT_FALSE(openDiskSpool(o).has_value());
  o = options();
  o.dir.clear();
  EXPECT_FALSE(openDiskSpool(o).has_value());
}

// --- disk failures ---

TEST_F(DiskSpoolTest, EnospcOnAppendKeepsTheSpoolConsistent) {
  {
    auto s = open();
    appendRange(*s, 0, 3);
    env_.failAppend(ENOSPC);
    auto id = s->append(makeBatch(100));
    ASSERT_FALSE(id.has_value());
    EXPECT_EQ(id.error().code(), Status::Code::kIoError);
    EXPECT_EQ(s->stats().writeErrorsTotal, 1u);
    appendRange(*s, 3, 5);  // space is back
    EXPECT_EQ(numbers(readAll(*s)), iota(0, 5));
    EXPECT_EQ(s->sizeBytes(), diskBytes());
  }
  auto s = open();
  EXPECT_EQ(s->stats().corruptFramesTotal + s->stats().tornTailsTotal, 0u);
  EXPECT_EQ(numbers(readAll(*s)), iota(0, 5));
}

// A nearly full disk takes a new segment's 8-byte header but not a frame;
// the spool stage retries every second for as long as it stays full.
TEST_F(DiskSpoolTest, DiskThatStaysFullDoesNotMultiplySegmentFiles) {
  auto s = open();
  appendRange(*s, 0, 3);
  const size_t before = files().size();
  env_.failAppend(ENOSPC, 0, -1, format::kSegmentHeaderSize + 1);
  for (int retry = 0; retry < 50; ++retry) {
    ASSERT_FALSE(s->append(makeBatch(3)).has_value());
    ASSERT_LE(files().size(), before + 1) << "after " << retry + 1 << " failed appends";
  }
  EXPECT_EQ(s->stats().writeErrorsTotal, 50u);
  EXPECT_EQ(s->sizeBytes(), diskBytes());
  env_.clear();  // space is back
  appendRange(*s, 3, 6);
  EXPECT_LE(files().size(), before + 1);
  EXPECT_EQ(numbers(readAll(*s)), iota(0, 6));
  EXPECT_EQ(s->sizeBytes(), diskBytes());
  s.reset();
  auto reopened = open();
  const SpoolStats recovered = reopened->stats();
  EXPECT_EQ(recovered.corruptFramesTotal + recovered.tornTailsTotal + recovered.badSegmentsTotal, 0u);
  EXPECT_EQ(numbers(readAll(*reopened)), iota(0, 6));
}

TEST_F(DiskSpoolTest, ShortWriteIsCutAway) {
  std::vector<FrameId> ids;
  {
    auto s = open();
    ids = appendRange(*s, 0, 2);
    const uint64_t before = std::filesystem::file_size(pathOf(ids[0].segment));
    env_.failAppend(ENOSPC, 30);
    ASSERT_FALSE(s->append(makeBatch(100)).has_value());
    EXPECT_EQ(std::filesystem::file_size(pathOf(ids[0].segment)), before);
    appendRange(*s, 2, 4);
  }
  auto s = open();
  EXPECT_EQ(s->stats().corruptFramesTotal + s->stats().tornTailsTotal, 0u);
  EXPECT_EQ(numbers(readAll(*s)), iota(0, 4));
}

TEST_F(DiskSpoolTest, ShortWriteThatCannotBeCutIsSkippedOnRecovery) {
  {
    auto s = open();
    appendRange(*s, 0, 2);
    env_.failAppend(EIO, 30);
    env_.failTruncate(EIO);
    ASSERT_FALSE(s->append(makeBatch(100)).has_value());
    EXPECT_GE(s->sizeBytes(), diskBytes());  // the cap counts the garbage
    appendRange(*s, 2, 4);                   // in a new segment
    EXPECT_EQ(numbers(readAll(*s)), iota(0, 4));
  }
  auto s = open();
  EXPECT_EQ(s->stats().corruptFramesTotal, 1u);  // the half frame, in a segment that is not the last
  EXPECT_EQ(numbers(readAll(*s)), iota(0, 4));
}

TEST_F(DiskSpoolTest, ShortWriteInTheLastSegmentIsATornTailOnRecovery) {
  {
    auto s = open();
    appendRange(*s, 0, 2);
    env_.failAppend(EIO, 30);
    env_.failTruncate(EIO);
    ASSERT_FALSE(s->append(makeBatch(100)).has_value());
    env_.failOpenWritable(ENOSPC, -1);  // the disk stays broken until the crash
    ASSERT_FALSE(s->append(makeBatch(101)).has_value());
  }
  env_.clear();
  auto s = open();
  EXPECT_EQ(s->stats().tornTailsTotal, 1u);
  EXPECT_EQ(numbers(readAll(*s)), iota(0, 2));
}

TEST_F(DiskSpoolTest, FsyncFailureUnderAlwaysTakesTheFrameBack) {
  SpoolOptions o = options();
  o.fsync = FsyncPolicy::kAlways;
  {
    auto s = open(o);
    appendRange(*s, 0, 2);
    env_.failSync(EIO);
    auto id = s->append(makeBatch(100));
    ASSERT_FALSE(id.has_value());
    EXPECT_EQ(id.error().code(), Status::Code::kIoError);
    appendRange(*s, 2, 3);
    EXPECT_EQ(numbers(readAll(*s)), iota(0, 3));
  }
  auto s = open(o);
  EXPECT_EQ(numbers(readAll(*s)), iota(0, 3));
}

TEST_F(DiskSpoolTest, UnwritableDirectoryIsAnErrorThenRecovers) {
  auto s = open();
  env_.failOpenWritable(EACCES, -1);
  for (int i = 0; i < 3; ++i) {
    auto id = s->append(makeBatch(i));
    ASSERT_FALSE(id.has_value());
    EXPECT_EQ(id.error().code(), Status::Code::kIoError);
  }
  env_.clear();
  appendRange(*s, 3, 5);
  EXPECT_EQ(numbers(readAll(*s)), iota(3, 5));
}

TEST_F(DiskSpoolTest, FailedSegmentDeletionIsRetried) {
  auto s = open();
  std::vector<FrameId> ids = appendRange(*s, 0, 12);
  std::vector<SpooledBatch> got = readAll(*s);
  const uint64_t first = ids.front().segment;
  env_.failRemove(EIO);
  size_t k = 0;
  while (ids[k].segment == first) ASSERT_TRUE(s->ack(ids[k++]).isOk());
  EXPECT_TRUE(exists(first));
  ASSERT_TRUE(s->ack(ids[k]).isOk());
  EXPECT_FALSE(exists(first));
  EXPECT_EQ(s->sizeBytes(), diskBytes());
}

// --- fsync policies ---

TEST_F(DiskSpoolTest, FsyncAlwaysSyncsEveryAppend) {
  SpoolOptions o = options();
  o.fsync = FsyncPolicy::kAlways;
  auto s = open(o);
  appendRange(*s, 0, 10);
  EXPECT_EQ(env_.fileSyncs.load(), 10);
  EXPECT_EQ(s->stats().fsyncsTotal, 10u);
  EXPECT_GE(env_.dirSyncs.load(), 2);  // one per created segment
}

TEST_F(DiskSpoolTest, FsyncIntervalSyncsAtMostOncePerInterval) {
  SpoolOptions o = options();
  o.fsync = FsyncPolicy::kInterval;
  o.fsyncInterval = 1000ms;
  o.segmentBytes = 1 << 20;
  auto s = open(o);
  appendRange(*s, 0, 1);
  EXPECT_EQ(env_.fileSyncs.load(), 0);
  clock_.advance(999ms);
  appendRange(*s, 1, 2);
  EXPECT_EQ(env_.fileSyncs.load(), 0);
  clock_.advance(1ms);
  appendRange(*s, 2, 3);  // the appender syncs
  EXPECT_EQ(env_.fileSyncs.load(), 1);
  ASSERT_TRUE(s->maybeSync(clock_.now()).isOk());  // nothing unsynced
  EXPECT_EQ(env_.fileSyncs.load(), 1);
  appendRange(*s, 3, 4);
  ASSERT_TRUE(s->maybeSync(clock_.now()).isOk());  // too soon
  EXPECT_EQ(env_.fileSyncs.load(), 1);
  clock_.advance(1s);
  ASSERT_TRUE(s->maybeSync(clock_.now()).isOk());  // the background call syncs
  EXPECT_EQ(env_.fileSyncs.load(), 2);
  ASSERT_TRUE(s->maybeSync(clock_.now()).isOk());
  EXPECT_EQ(env_.fileSyncs.load(), 2);
  appendRange(*s, 4, 5);
  s.reset();  // closing syncs what is left
  EXPECT_EQ(env_.fileSyncs.load(), 3);
}

TEST_F(DiskSpoolTest, FsyncIntervalErrorIsReported) {
  SpoolOptions o = options();
  o.fsync = FsyncPolicy::kInterval;
  auto s = open(o);
  appendRange(*s, 0, 1);
  clock_.advance(2s);
  env_.failSync(EIO);
  EXPECT_EQ(s->maybeSync(clock_.now()).code(), Status::Code::kIoError);
  EXPECT_EQ(s->stats().writeErrorsTotal, 1u);
  appendRange(*s, 1, 2);  // continues in a new segment
  EXPECT_EQ(numbers(readAll(*s)), iota(0, 2));
}

TEST_F(DiskSpoolTest, FsyncNeverDoesNotSync) {
  auto s = open();  // kNever
  appendRange(*s, 0, 20);
  clock_.advance(1h);
  ASSERT_TRUE(s->maybeSync(clock_.now()).isOk());
  s.reset();
  EXPECT_EQ(env_.fileSyncs.load(), 0);
  EXPECT_EQ(env_.dirSyncs.load(), 0);
}

// --- one writer, one reader ---

TEST_F(DiskSpoolTest, ReadingWhileAppendingDeliversEveryFrameOnceInOrder) {
  SpoolOptions o = options();
  o.segmentBytes = 2048;
  o.maxTotalBytes = 64 * 1024;  // small: the writer meets "full" and waits for acks
  auto s = open(o);
  constexpr int kBatches = 3000;
  std::atomic<bool> writerFailed{false};
  std::thread writer([&] {
    for (int n = 0; n < kBatches;) {
      auto id = s->append(makeBatch(n));
      if (id) {
        ++n;
      } else if (isFull(id.error())) {
        std::this_thread::yield();
      } else {
        writerFailed = true;
        return;
      }
    }
  });
  std::vector<int> got;
  bool readerOk = true;
  while (static_cast<int>(got.size()) < kBatches && !writerFailed) {
    auto r = s->readNext();
    if (!r) {
      readerOk = false;
      break;
    }
    if (!*r) {
      std::this_thread::yield();
      continue;
    }
    got.push_back(batchNumber((*r)->batch));
    if (!sameBatch((*r)->batch, makeBatch(got.back()))) readerOk = false;
    if (!s->ack((*r)->id).isOk()) readerOk = false;
  }
  writer.join();
  ASSERT_FALSE(writerFailed);
  ASSERT_TRUE(readerOk);
  EXPECT_EQ(got, iota(0, kBatches));
  auto r = s->readNext();
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->has_value());
  SpoolStats st = s->stats();
  EXPECT_EQ(st.frames, 0u);
  EXPECT_LE(st.segments, 1u);
  EXPECT_GT(st.fullRejectionsTotal + 1, 0u);
}

}  // namespace
}  // namespace kinship::spool
