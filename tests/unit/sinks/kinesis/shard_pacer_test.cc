// ShardPacer with a hand-driven clock: rates, burst, debt, AIMD.

#include "sinks/kinesis/shard_pacer.h"

#include <gtest/gtest.h>

namespace kinship::kinesis {
namespace {

using namespace std::chrono_literals;
using TimePoint = Clock::TimePoint;

// Takes one record of `bytes` whenever ready, stepping time by `step`, for
// `duration`; returns how many records were taken.
int drive(ShardPacer& pacer, TimePoint& now, std::chrono::microseconds duration, std::chrono::microseconds step,
          size_t bytes) {
  int taken = 0;
  TimePoint end = now + duration;
  for (; now < end; now += step) {
    while (pacer.ready(now)) {
      pacer.take(1, bytes);
      ++taken;
    }
  }
  return taken;
}

TEST(ShardPacer, HoldsTheRecordRateWithASmallBurst) {
  TimePoint now{};
  ShardPacer pacer({.recordsPerSecond = 950, .bytesPerSecond = 1e9, .burstSeconds = 0.05}, now);
  int taken = drive(pacer, now, 10s, 100us, 10);
  // 10 s at 950/s plus the initial burst of 47.5.
  EXPECT_GE(taken, 9500);
  EXPECT_LE(taken, 9500 + 48);
}

TEST(ShardPacer, NeverExceedsTheLimitInAnySlidingSecond) {
  TimePoint now{};
  ShardPacer pacer({.recordsPerSecond = 950, .bytesPerSecond = 1e9, .burstSeconds = 0.05}, now);
  std::vector<TimePoint> times;
  TimePoint end = now + 5s;
  for (; now < end; now += 200us) {
    while (pacer.ready(now)) {
      pacer.take(1, 1);
      times.push_back(now);
    }
  }
  size_t first = 0;
  for (size_t last = 0; last < times.size(); ++last) {
    while (times[last] - times[first] >= 1s) ++first;
    ASSERT_LE(last - first + 1, 1000u) << "window ending at record " << last;
  }
}

TEST(ShardPacer, HoldsTheByteRateAndLetsALargeRecordThroughOnDebt) {
  TimePoint now{};
  ShardPacer pacer({.recordsPerSecond = 1e6, .bytesPerSecond = 1000, .burstSeconds = 0.05}, now);
  ASSERT_TRUE(pacer.ready(now));
  pacer.take(1, 5000);  // far over the 50-byte burst: allowed once, as debt
  EXPECT_FALSE(pacer.ready(now));
  // The debt of 4950 bytes is paid at 1000 bytes/s.
  EXPECT_LE(pacer.readyAt(now + 4s), now + 4951ms);
  EXPECT_GE(pacer.readyAt(now + 4s), now + 4950ms);
  EXPECT_FALSE(pacer.ready(now + 4900ms));
  EXPECT_TRUE(pacer.ready(now + 4951ms));
}

TEST(ShardPacer, ThrottlingCutsTheRateAndQuietTimeRestoresIt) {
  TimePoint now{};
  ShardPacer pacer({.recordsPerSecond = 1000, .bytesPerSecond = 1e9, .burstSeconds = 0.05}, now);
  pacer.onThrottled(now);
  EXPECT_DOUBLE_EQ(pacer.rateFactor(), 0.7);
  pacer.onThrottled(now + 50ms);  // the same answer's other records: one signal
  EXPECT_DOUBLE_EQ(pacer.rateFactor(), 0.7);
  pacer.onThrottled(now + 300ms);
  EXPECT_NEAR(pacer.rateFactor(), 0.49, 1e-9);
  for (int i = 0; i < 100; ++i) pacer.onThrottled(now + 300ms + i * 250ms);
  EXPECT_DOUBLE_EQ(pacer.rateFactor(), ShardPacer::kMinRateFactor);

  TimePoint t = now + 30s;
  pacer.onAccepted(t);  // a second has passed since the last throttle
  EXPECT_NEAR(pacer.rateFactor(), ShardPacer::kMinRateFactor + 0.05, 1e-9);
  pacer.onAccepted(t + 500ms);  // too soon for another step
  EXPECT_NEAR(pacer.rateFactor(), ShardPacer::kMinRateFactor + 0.05, 1e-9);
  for (int i = 1; i <= 40; ++i) pacer.onAccepted(t + i * 1s);
  EXPECT_DOUBLE_EQ(pacer.rateFactor(), 1.0);
}

TEST(ShardPacer, AThrottledShardSendsAtItsReducedRate) {
  TimePoint now{};
  ShardPacer pacer({.recordsPerSecond = 1000, .bytesPerSecond = 1e9, .burstSeconds = 0.05}, now);
  pacer.onThrottled(now);  // 700/s, bucket emptied
  int taken = drive(pacer, now, 10s, 100us, 1);
  EXPECT_GE(taken, 6990);
  EXPECT_LE(taken, 7000 + 36);
}

TEST(ShardPacer, IsReadyAtTheInstantReadyAtNamesNeverAHairBefore) {
  // 19 records/s: a token every 52.631578947... ms, which no clock tick holds.
  TimePoint now{};
  ShardPacer pacer({.recordsPerSecond = 19, .bytesPerSecond = 1e9, .burstSeconds = 0.05}, now);
  for (int i = 0; i < 100; ++i) {
    TimePoint at = pacer.readyAt(now);
    if (!pacer.ready(now)) {
      EXPECT_GT(at, now) << "not ready, yet readyAt says now";
      now = at;
    }
    ASSERT_TRUE(pacer.ready(now)) << "record " << i;
    pacer.take(1, 10);
  }
  // 100 records: the first after 2.6 ms (the bucket starts at 0.95 tokens),
  // then one per 1/19 s: 2.63 ms + 99 x 52.63 ms, to within rounding.
  EXPECT_GE(now - TimePoint{}, std::chrono::microseconds(5'213'150));
  EXPECT_LE(now - TimePoint{}, std::chrono::microseconds(5'213'170));
}

}  // namespace
}  // namespace kinship::kinesis
