// ShardPacer with a hand-driven clock: rates, burst, debt, quanta, cuts and
// growth, and producers sharing a simulated shard (a sliding second).

#include "sinks/kinesis/shard_pacer.h"

#include <gtest/gtest.h>

#include <deque>
#include <random>
#include <vector>

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

TEST(ShardPacer, AThrottleCutsByTheShareRefusedSinceTheLastCutAtMostEvery250Ms) {
  TimePoint now{};
  ShardPacer pacer({.recordsPerSecond = 1000, .bytesPerSecond = 1e9, .burstSeconds = 0.05}, now);
  for (int i = 0; i < 3; ++i) pacer.onAccepted(now);
  for (int i = 0; i < 9; ++i) pacer.onThrottled(now);  // 1 of 12 refused: cut at the first
  EXPECT_NEAR(pacer.rateFactor(), 0.75, 1e-9) << "3 accepted, 1 refused: 25%";
  pacer.onThrottled(now + 100ms);  // the same full second: no second cut yet
  EXPECT_NEAR(pacer.rateFactor(), 0.75, 1e-9);
  for (int i = 0; i < 90; ++i) pacer.onAccepted(now + 200ms);
  pacer.onThrottled(now + 250ms);  // 9 + 1 + 1 refused since the cut, 90 accepted: 11% off
  EXPECT_NEAR(pacer.rateFactor(), 0.75 * (1 - 10.0 / 100), 1e-9);
  pacer.onThrottled(now + 500ms);  // only refusals since: the most a cut takes is 75%
  EXPECT_NEAR(pacer.rateFactor(), 0.75 * 0.9 * 0.25, 1e-9);
  for (int i = 0; i < 999; ++i) pacer.onAccepted(now + 750ms);
  pacer.onThrottled(now + 750ms);  // 0.1% refused: at least 10%
  EXPECT_NEAR(pacer.rateFactor(), 0.75 * 0.9 * 0.25 * 0.9, 1e-9);
  for (int i = 1; i < 100; ++i) pacer.onThrottled(now + 750ms + i * 250ms);
  EXPECT_DOUBLE_EQ(pacer.rateFactor(), ShardPacer::kMinRateFactor);
}

TEST(ShardPacer, AfterAHoldTheRateGrowsByTheSameStepAtEveryRate) {
  TimePoint now{};
  const PacingLimits limits{.recordsPerSecond = 1000, .bytesPerSecond = 1e9, .burstSeconds = 0.05};
  ShardPacer fast(limits, now, 7);
  ShardPacer slow(limits, now, 7);  // the same seed: the same hold
  fast.onAccepted(now);
  for (int i = 0; i < 9; ++i) fast.onAccepted(now);
  fast.onThrottled(now);  // 10% refused: 0.9
  slow.onThrottled(now);  // all refused: 0.25
  ASSERT_NEAR(fast.rateFactor(), 0.9, 1e-9);
  ASSERT_NEAR(slow.rateFactor(), 0.25, 1e-9);
  // Held for 0.3-0.6 s: no growth before 300 ms.
  for (auto t = now; t <= now + 300ms; t += 10ms) {
    fast.onAccepted(t);
    slow.onAccepted(t);
  }
  EXPECT_NEAR(fast.rateFactor(), 0.9, 1e-9);
  EXPECT_NEAR(slow.rateFactor(), 0.25, 1e-9);
  for (auto t = now + 310ms; t <= now + 1600ms; t += 10ms) {
    fast.onAccepted(t);
    slow.onAccepted(t);
  }
  const double grown = slow.rateFactor() - 0.25;
  // 3% of the rate per second for 1.0-1.3 s, a little more the longer it lasts.
  EXPECT_GT(grown, 0.03 * 1.0);
  EXPECT_LT(grown, 0.03 * 1.3 * 1.5);
  EXPECT_NEAR(fast.rateFactor() - 0.9, grown, 1e-9) << "the step does not depend on the rate";
}

TEST(ShardPacer, AShardJoinsARequestOnlyOnceItsBucketHoldsAQuantum) {
  TimePoint now{};
  ShardPacer pacer({.recordsPerSecond = 1000, .bytesPerSecond = 1e9, .burstSeconds = 0.05}, now);
  pacer.newRequest();
  while (pacer.ready(now)) pacer.take(1, 1);  // the burst: 50 records
  pacer.newRequest();
  EXPECT_FALSE(pacer.ready(now + 4ms)) << "4 tokens: less than a quantum";
  EXPECT_EQ(pacer.readyAt(now + 4ms), now + 5ms);
  ASSERT_TRUE(pacer.ready(now + 5ms));
  int taken = 0;
  while (pacer.ready(now + 5ms)) {
    pacer.take(1, 1);
    ++taken;
  }
  EXPECT_EQ(taken, 5);
  EXPECT_TRUE(pacer.ready(now + 6ms)) << "within the request, one token is enough";
}

TEST(ShardPacer, ALowRateNeedsNoMoreThanItsBucketHolds) {
  TimePoint now{};
  // 19 records/s: a bucket of 0.95 tokens, at least one.
  ShardPacer pacer({.recordsPerSecond = 19, .bytesPerSecond = 1e9, .burstSeconds = 0.05}, now);
  pacer.newRequest();
  EXPECT_TRUE(pacer.ready(now + 60ms));
}

// A shard as Kinesis and the fake endpoint count it: at most `limit`
// records accepted in any sliding second.
class SlidingShard {
 public:
  explicit SlidingShard(size_t limit) : limit_(limit) {}
  bool offer(TimePoint now) {
    while (!accepted_.empty() && now - accepted_.front() >= 1s) accepted_.pop_front();
    if (accepted_.size() >= limit_) return false;
    accepted_.push_back(now);
    return true;
  }

 private:
  size_t limit_;
  std::deque<TimePoint> accepted_;
};

struct Producer {
  ShardPacer pacer;
  std::minstd_rand rng;
  TimePoint start;
  TimePoint nextSend;
  size_t accepted = 0;
  size_t throttled = 0;
};

// Producers with a backlog share one shard: each fills a request every
// 5-10 ms from its pacer, answered at once. Returns each one's records
// accepted in [from, until).
std::vector<size_t> share(std::vector<TimePoint> starts, TimePoint from, TimePoint until, size_t& throttled) {
  const PacingLimits limits{.recordsPerSecond = 950, .bytesPerSecond = 1e9, .burstSeconds = 0.05};
  SlidingShard shard(1000);
  std::vector<Producer> producers;
  for (size_t i = 0; i < starts.size(); ++i) {
    producers.push_back({ShardPacer(limits, starts[i], 100 + i), std::minstd_rand(200 + i), starts[i], starts[i]});
  }
  std::vector<size_t> accepted(starts.size(), 0);
  throttled = 0;
  for (TimePoint now{}; now < until; now += 1ms) {
    for (size_t i = 0; i < producers.size(); ++i) {
      Producer& p = producers[i];
      if (now < p.start || now < p.nextSend) continue;
      std::uniform_int_distribution<int> interval(5, 10);
      p.nextSend = now + std::chrono::milliseconds(interval(p.rng));
      p.pacer.newRequest();
      int records = 0;
      while (p.pacer.ready(now)) {
        p.pacer.take(1, 100);
        ++records;
      }
      for (int r = 0; r < records; ++r) {
        if (shard.offer(now)) {
          p.pacer.onAccepted(now);
          if (now >= from) ++accepted[i];
        } else {
          p.pacer.onThrottled(now);
          if (now >= from) ++throttled;
        }
      }
    }
  }
  return accepted;
}

TEST(ShardPacer, AloneOnAShardItKeepsTheFullRate) {
  size_t throttled = 0;
  auto accepted = share({TimePoint{}}, TimePoint{} + 5s, TimePoint{} + 35s, throttled);
  EXPECT_GE(accepted[0], 0.94 * 1000 * 30);
  EXPECT_EQ(throttled, 0u);
}

TEST(ShardPacer, ProducersThatShareAShardConvergeOnEqualSharesFromUnequalStarts) {
  // Two producers share the shard from the start; a third joins at 20 s at
  // the full rate, twice what the others then send. Over the last 30 s each
  // has about a third, and together they keep the shard nearly full.
  const TimePoint t0{};
  size_t throttled = 0;
  auto early = share({t0, t0, t0 + 20s}, t0 + 20s, t0 + 22s, throttled);
  auto late = share({t0, t0, t0 + 20s}, t0 + 50s, t0 + 80s, throttled);
  const double mean = (late[0] + late[1] + late[2]) / 3.0;
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_NEAR(static_cast<double>(late[i]), mean, 0.1 * mean) << "producer " << i;
  }
  EXPECT_GE(late[0] + late[1] + late[2], 0.93 * 1000 * 30);
  EXPECT_LE(throttled, 0.03 * (late[0] + late[1] + late[2]));
  // It did start unequal: in its first two seconds the newcomer took more.
  EXPECT_GT(early[2], early[0]);
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
