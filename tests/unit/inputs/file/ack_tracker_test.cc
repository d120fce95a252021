#include "inputs/file/ack_tracker.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

using namespace kinship::inputs;

namespace {

TEST(AckTrackerTest, StartsAtTheGivenOffset) {
  AckTracker t;
  EXPECT_FALSE(t.acknowledgedOffset(1).has_value());
  t.add(1, 500);
  EXPECT_EQ(t.acknowledgedOffset(1), 500u);
  EXPECT_TRUE(t.takeChanged());
  EXPECT_FALSE(t.takeChanged());
}

TEST(AckTrackerTest, OutOfOrderAcksAdvanceOnlyOverTheContiguousPrefix) {
  AckTracker t;
  t.add(1, 0);
  t.takeChanged();
  for (uint64_t end : {100, 200, 300, 400}) t.submitted(1, end);
  EXPECT_EQ(t.outstanding(1), 4u);

  t.acknowledged(1, 300);
  t.acknowledged(1, 200);
  EXPECT_EQ(t.acknowledgedOffset(1), 0u) << "the first batch is not acknowledged yet";
  EXPECT_FALSE(t.takeChanged());

  t.acknowledged(1, 100);
  EXPECT_EQ(t.acknowledgedOffset(1), 300u) << "100, 200, 300 are all done";
  EXPECT_EQ(t.outstanding(1), 1u);
  EXPECT_TRUE(t.takeChanged());

  t.acknowledged(1, 400);
  EXPECT_EQ(t.acknowledgedOffset(1), 400u);
  EXPECT_EQ(t.outstanding(1), 0u);
}

TEST(AckTrackerTest, SourcesAreIndependent) {
  AckTracker t;
  t.add(1, 0);
  t.add(2, 10);
  t.submitted(1, 100);
  t.submitted(2, 50);
  t.submitted(1, 200);
  t.acknowledged(2, 50);
  t.acknowledged(1, 200);
  EXPECT_EQ(t.acknowledgedOffset(1), 0u);
  EXPECT_EQ(t.acknowledgedOffset(2), 50u);
  t.acknowledged(1, 100);
  EXPECT_EQ(t.acknowledgedOffset(1), 200u);
}

TEST(AckTrackerTest, AfterATruncationTheLatestBatchWinsNotTheHighestOffset) {
  AckTracker t;
  t.add(1, 0);
  t.submitted(1, 900);  // before the file was truncated
  t.submitted(1, 40);   // read again from its start
  t.acknowledged(1, 40);
  t.acknowledged(1, 900);
  EXPECT_EQ(t.acknowledgedOffset(1), 40u);
}

TEST(AckTrackerTest, ClosedSourcesIgnoreLateAcks) {
  AckTracker t;
  t.add(1, 0);
  t.submitted(1, 100);
  t.close(1);
  t.acknowledged(1, 100);
  EXPECT_FALSE(t.acknowledgedOffset(1).has_value());
  t.submitted(1, 200);  // unknown source: ignored
  EXPECT_EQ(t.outstanding(1), 0u);
}

TEST(AckTrackerTest, AcksFromAnotherThread) {
  AckTracker t;
  t.add(1, 0);
  constexpr uint64_t kBatches = 20000;
  for (uint64_t i = 1; i <= kBatches; ++i) t.submitted(1, i * 10);
  std::thread sink([&] {
    // Acknowledge in reverse pairs to exercise out-of-order completion.
    for (uint64_t i = 1; i + 1 <= kBatches; i += 2) {
      t.acknowledged(1, (i + 1) * 10);
      t.acknowledged(1, i * 10);
    }
  });
  uint64_t last = 0;
  while (last < kBatches * 10) {
    uint64_t now = *t.acknowledgedOffset(1);
    EXPECT_GE(now, last);
    last = now;
  }
  sink.join();
  EXPECT_EQ(t.acknowledgedOffset(1), kBatches * 10);
}

}  // namespace
