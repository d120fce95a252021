// RecordAcks: each record reported done to its source once, settled once per
// source per settle(), and its batch acknowledged and let go with its last.

#include "sinks/kinesis/record_acks.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace kinship::kinesis {
namespace {

class Recording final : public pipeline::AckReceiver {
 public:
  void acknowledged(uint64_t sourceId, uint64_t endOffset) override { acks.emplace_back(sourceId, endOffset); }
  void recordDone(uint64_t sourceId, uint64_t, uint32_t index) override { done.emplace_back(sourceId, index); }
  void recordsSettled() override { ++settles; }

  std::vector<std::pair<uint64_t, uint64_t>> acks;
  std::vector<std::pair<uint64_t, uint32_t>> done;
  int settles = 0;
};

class RecordAcksTest : public ::testing::Test {
 protected:
  pipeline::BatchPtr batch(const std::shared_ptr<Recording>& source, uint64_t id, size_t records) {
    auto b = queue_.acquire();
    for (size_t i = 0; i < records; ++i) b->append("r" + std::to_string(i), "k");
    b->setSource(source, id, id * 100);
    return b;
  }
  static PendingRecord record(pipeline::RecordBatch* b, uint32_t index) { return {b, index, 3, index, 0, 0, {}, {}}; }

  pipeline::BatchQueue queue_{1 << 20};
  RecordAcks acks_;
};

TEST_F(RecordAcksTest, EachRecordIsToldAtOnceAndSettledOncePerSourcePerTurn) {
  auto source = std::make_shared<Recording>();
  auto b1 = batch(source, 1, 3);
  auto b2 = batch(source, 2, 2);
  pipeline::RecordBatch* p1 = b1.get();
  pipeline::RecordBatch* p2 = b2.get();
  acks_.hold(std::move(b1), 3);
  acks_.hold(std::move(b2), 2);
  EXPECT_EQ(acks_.held(), 2u);

  acks_.done(record(p1, 0));
  acks_.done(record(p2, 1));
  acks_.done(record(p1, 2));
  EXPECT_EQ(source->done, (std::vector<std::pair<uint64_t, uint32_t>>{{1, 0}, {2, 1}, {1, 2}}));
  EXPECT_EQ(source->settles, 0) << "nothing settles before settle()";
  acks_.settle();
  EXPECT_EQ(source->settles, 1) << "one source, one settle";
  acks_.settle();
  EXPECT_EQ(source->settles, 1) << "nothing new to settle";
  EXPECT_TRUE(source->acks.empty()) << "no batch is complete yet";
}

TEST_F(RecordAcksTest, ABatchIsAcknowledgedAndLetGoWithItsLastRecord) {
  auto source = std::make_shared<Recording>();
  auto b = batch(source, 7, 2);
  pipeline::RecordBatch* p = b.get();
  acks_.hold(std::move(b), 2);
  acks_.done(record(p, 1));
  EXPECT_TRUE(source->acks.empty());
  acks_.done(record(p, 0));
  EXPECT_EQ(source->acks, (std::vector<std::pair<uint64_t, uint64_t>>{{7, 700}}));
  EXPECT_EQ(acks_.held(), 0u);
}

TEST_F(RecordAcksTest, ABatchWhoseRecordsWereAllDeadLettersIsAcknowledgedWhenHeld) {
  auto source = std::make_shared<Recording>();
  auto b = batch(source, 3, 2);
  acks_.doneAtAdmission(*b, 0);
  acks_.doneAtAdmission(*b, 1);
  acks_.hold(std::move(b), 0);
  EXPECT_EQ(source->acks, (std::vector<std::pair<uint64_t, uint64_t>>{{3, 300}}));
  EXPECT_EQ(acks_.held(), 0u);
  acks_.settle();
  EXPECT_EQ(source->done.size(), 2u);
  EXPECT_EQ(source->settles, 1);
}

TEST_F(RecordAcksTest, EverySourceToldIsSettled) {
  auto a = std::make_shared<Recording>();
  auto b = std::make_shared<Recording>();
  auto ba = batch(a, 1, 1);
  auto bb = batch(b, 2, 1);
  pipeline::RecordBatch* pa = ba.get();
  pipeline::RecordBatch* pb = bb.get();
  acks_.hold(std::move(ba), 1);
  acks_.hold(std::move(bb), 1);
  acks_.done(record(pa, 0));
  acks_.done(record(pb, 0));
  acks_.settle();
  EXPECT_EQ(a->settles, 1);
  EXPECT_EQ(b->settles, 1);
}

TEST_F(RecordAcksTest, ClearLetsHeldBatchesGoUnacknowledged) {
  auto source = std::make_shared<Recording>();
  acks_.hold(batch(source, 1, 2), 2);
  acks_.clear();
  EXPECT_EQ(acks_.held(), 0u);
  EXPECT_TRUE(source->acks.empty());
}

TEST_F(RecordAcksTest, ABatchWithoutASourceIsStillHeldAndLetGo) {
  auto b = queue_.acquire();
  b->append("r", "k");
  pipeline::RecordBatch* p = b.get();
  acks_.hold(std::move(b), 1);
  acks_.done(record(p, 0));
  acks_.settle();
  EXPECT_EQ(acks_.held(), 0u);
}

}  // namespace
}  // namespace kinship::kinesis
