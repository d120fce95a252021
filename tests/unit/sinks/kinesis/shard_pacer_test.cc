// ShardPacer with a hand-driven clock: rates, burst, debt, quanta, cuts and
// growth, and producers sharing a simulated shard (a sliding second).

#include "sinks/kinesis/shard_pacer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <deque>
#include <random>
#include <vector>

namespace kinship::kinesis {
namespace {

using namespace std::chrono_literals;
using TimePoint = Clock::TimePoint;

// Takes one record of `bytes` whenever ready, stepping time by `step`, for
// `duration`, all into one endless request; returns how many were taken.
int drive(ShardPacer& pacer, TimePoint& now, std::chrono::microseconds duration, std::chrono::microseconds step,
          size_t bytes) {
  int taken = 0;
  TimePoint end = now + duration;
  for (; now < end; now += step) {
    while (pacer.ready(now, taken > 0)) {
      pacer.take(1, bytes);
      ++taken;
    }
  }
  return taken;
}

TEST(ShardPacer, HoldsTheRecordRateWithASmallBurst) {
  TimePoint now{};
  ShardPacer pacer({.recordsPerSecond = 950, .bytesPerSecond = 1e9, .burstSeconds = 0.05, .slowStart = false}, now);
  int taken = drive(pacer, now, 10s, 100us, 10);
  // 10 s at 950/s plus the initial burst of 47.5.
  EXPECT_GE(taken, 9500);
  EXPECT_LE(taken, 9500 + 48);
}

TEST(ShardPacer, NeverExceedsTheLimitInAnySlidingSecond) {
  TimePoint now{};
  ShardPacer pacer({.recordsPerSecond = 950, .bytesPerSecond = 1e9, .burstSeconds = 0.05, .slowStart = false}, now);
  std::vector<TimePoint> times;
  TimePoint end = now + 5s;
  for (; now < end; now += 200us) {
    while (pacer.ready(now, !times.empty())) {
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
  ShardPacer pacer({.recordsPerSecond = 1e6, .bytesPerSecond = 1000, .burstSeconds = 0.05, .slowStart = false}, now);
  ASSERT_TRUE(pacer.ready(now, false));
  pacer.take(1, 5000);  // far over the 50-byte burst: allowed once, as debt
  EXPECT_FALSE(pacer.ready(now, true));
  // The debt of 4950 bytes is paid at 1000 bytes/s.
  EXPECT_LE(pacer.readyAt(now + 4s), now + 4951ms);
  EXPECT_GE(pacer.readyAt(now + 4s), now + 4950ms);
  EXPECT_FALSE(pacer.ready(now + 4900ms, true));
  EXPECT_TRUE(pacer.ready(now + 4951ms, true));
}

TEST(ShardPacer, AThrottleCutsByTheShareRefusedSinceTheLastCutAtMostEvery250Ms) {
  TimePoint now{};
  ShardPacer pacer({.recordsPerSecond = 1000, .bytesPerSecond = 1e9, .burstSeconds = 0.05, .slowStart = false}, now);
  for (int i = 0; i < 3; ++i) pacer.onAccepted(now);
  for (int i = 0; i < 9; ++i) pacer.onThrottled(now);
  // Judged by the whole answer, not by its first refusal (1 of 4).
  EXPECT_NEAR(pacer.rateFactor(), 0.25, 1e-9) << "3 accepted, 9 refused: 75%";
  pacer.onThrottled(now + 100ms);  // the same full second: no second cut yet
  EXPECT_NEAR(pacer.rateFactor(), 0.25, 1e-9);
  // Accepted within the hold after the cut (0.1-0.2 s), so the rate has not grown.
  for (int i = 0; i < 60; ++i) pacer.onAccepted(now + 50ms);
  pacer.onThrottled(now + 250ms);  // 1 + 1 refused since the cut, 60 accepted: 3%, so the least cut, 25%
  EXPECT_NEAR(pacer.rateFactor(), 0.25 * 0.75, 1e-9);
  for (int i = 0; i < 20; ++i) pacer.onAccepted(now + 300ms);
  for (int i = 0; i < 30; ++i) pacer.onThrottled(now + 500ms);  // 30 of 50 refused since: 60%
  EXPECT_NEAR(pacer.rateFactor(), 0.25 * 0.75 * 0.4, 1e-9);
  pacer.onThrottled(now + 750ms);  // only refusals since: the most a cut takes is 75%
  EXPECT_DOUBLE_EQ(pacer.rateFactor(), ShardPacer::kMinRateFactor) << "0.014 is below the floor";
}

TEST(ShardPacer, ACutIsTakenOnceTheWholeAnswerIsCounted) {
  TimePoint now{};
  ShardPacer pacer({.recordsPerSecond = 1000, .bytesPerSecond = 1e9, .burstSeconds = 0.05, .slowStart = false}, now);
  // A newcomer's first answer from a full shard: 2 of its 50 records
  // accepted, the first of them before any refusal.
  pacer.onAccepted(now);
  for (int i = 0; i < 48; ++i) pacer.onThrottled(now);
  pacer.onAccepted(now);
  EXPECT_FALSE(pacer.ready(now, false)) << "refused: the bucket is empty";
  EXPECT_NEAR(pacer.rateFactor(), 0.25, 1e-9) << "96% refused: the largest cut, not the least for 1 of 2";
  // Nothing more is due until 250 ms have passed.
  pacer.onThrottled(now + 249ms);
  EXPECT_NEAR(pacer.rateFactor(), 0.25, 1e-9);
  for (int i = 0; i < 3; ++i) pacer.onAccepted(now + 50ms);  // within the hold
  pacer.onThrottled(now + 250ms);
  EXPECT_GT(pacer.readyAt(now + 250ms), now + 250ms);
  EXPECT_NEAR(pacer.rateFactor(), 0.25 * 0.6, 1e-9) << "2 of 5 refused since the cut: 40%";
}

TEST(ShardPacer, AfterAHoldTheRateGrowsByTheSameStepAtEveryRate) {
  TimePoint now{};
  const PacingLimits limits{.recordsPerSecond = 1000, .bytesPerSecond = 1e9, .burstSeconds = 0.05, .slowStart = false};
  ShardPacer fast(limits, now, 7);
  ShardPacer slow(limits, now, 7);  // the same seed: the same hold
  for (int i = 0; i < 9; ++i) fast.onAccepted(now);
  fast.onThrottled(now);  // 10% refused: the least cut, 25%
  slow.onThrottled(now);  // all refused: the most, 75%
  ASSERT_NEAR(fast.rateFactor(), 0.75, 1e-9);
  ASSERT_NEAR(slow.rateFactor(), 0.25, 1e-9);
  // Held for 0.1-0.2 s: no growth before 100 ms.
  for (auto t = now; t <= now + 100ms; t += 10ms) {
    fast.onAccepted(t);
    slow.onAccepted(t);
  }
  EXPECT_NEAR(fast.rateFactor(), 0.75, 1e-9);
  EXPECT_NEAR(slow.rateFactor(), 0.25, 1e-9);
  for (auto t = now + 110ms; t <= now + 1200ms; t += 10ms) {
    fast.onAccepted(t);
    slow.onAccepted(t);
  }
  const double grown = slow.rateFactor() - 0.25;
  // 8% of the rate per second for 1.0-1.1 s, a little more the longer it lasts.
  EXPECT_GT(grown, 0.08 * 1.0);
  EXPECT_LT(grown, 0.08 * 1.1 * 1.15);
  EXPECT_NEAR(fast.rateFactor() - 0.75, grown, 1e-9) << "the step does not depend on the rate";
}

TEST(ShardPacer, AShardJoinsARequestOnlyOnceItsBucketHoldsAQuantum) {
  TimePoint now{};
  ShardPacer pacer({.recordsPerSecond = 1000, .bytesPerSecond = 1e9, .burstSeconds = 0.05, .slowStart = false}, now);
  for (bool joined = false; pacer.ready(now, joined); joined = true) pacer.take(1, 1);  // the burst: 50 records
  // A new request.
  EXPECT_FALSE(pacer.ready(now + 2ms, false)) << "2 tokens: less than a quantum";
  EXPECT_EQ(pacer.readyAt(now + 2ms), now + 3ms);
  ASSERT_TRUE(pacer.ready(now + 3ms, false));
  int taken = 0;
  while (pacer.ready(now + 3ms, taken > 0)) {
    pacer.take(1, 1);
    ++taken;
  }
  EXPECT_EQ(taken, 3);
  EXPECT_TRUE(pacer.ready(now + 4ms, true)) << "within the request, one token is enough";
}

TEST(ShardPacer, ALowRateNeedsNoMoreThanItsBucketHolds) {
  TimePoint now{};
  // 19 records/s: a bucket of 0.95 tokens, at least one.
  ShardPacer pacer({.recordsPerSecond = 19, .bytesPerSecond = 1e9, .burstSeconds = 0.05, .slowStart = false}, now);
  EXPECT_TRUE(pacer.ready(now + 60ms, false));
}

TEST(ShardPacer, StartsAtAnEighthAndDoublesEvery100MsUntilTheFirstThrottle) {
  TimePoint now{};
  ShardPacer pacer({.recordsPerSecond = 1000, .bytesPerSecond = 1e9, .burstSeconds = 0.05}, now);
  EXPECT_NEAR(pacer.rateFactor(), 0.125, 1e-9);
  int burst = 0;
  for (; pacer.ready(now, burst > 0); ++burst) pacer.take(1, 1);
  EXPECT_EQ(burst, 6) << "the bucket of an eighth of the rate: 6.25 tokens";
  pacer.onAccepted(now + 100ms);
  EXPECT_NEAR(pacer.rateFactor(), 0.25, 1e-9);
  pacer.onAccepted(now + 250ms);
  EXPECT_NEAR(pacer.rateFactor(), 0.25 * std::exp2(1.5), 1e-9);
  pacer.onAccepted(now + 300ms);
  EXPECT_NEAR(pacer.rateFactor(), 1.0, 1e-9) << "never above the full rate";
  // A second pacer is refused at a quarter: slow start ends with a cut of
  // at least half (it may have overshot by its last doubling), then grows
  // additively after the hold.
  ShardPacer second({.recordsPerSecond = 1000, .bytesPerSecond = 1e9, .burstSeconds = 0.05}, now);
  second.onAccepted(now + 100ms);
  for (int i = 0; i < 9; ++i) second.onAccepted(now + 100ms);
  second.onThrottled(now + 100ms);
  EXPECT_NEAR(second.rateFactor(), 0.125, 1e-9) << "0.25 halved, though only 10% was refused";
  second.onAccepted(now + 200ms);
  EXPECT_NEAR(second.rateFactor(), 0.125, 1e-9) << "held, no longer doubling";
  second.onAccepted(now + 400ms);
  EXPECT_GT(second.rateFactor(), 0.125);
  EXPECT_LT(second.rateFactor(), 0.125 + 0.08 * 0.3 * 1.1);
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
// 5-10 ms from its pacer, and learns each record's fate 25 ms later, as
// from Kinesis. Returns each one's records accepted in [from, until).
std::vector<size_t> share(std::vector<TimePoint> starts, TimePoint from, TimePoint until, size_t& throttled) {
  const PacingLimits limits{.recordsPerSecond = 950, .bytesPerSecond = 1e9, .burstSeconds = 0.05};
  constexpr auto kAnswerDelay = 25ms;
  struct Answer {
    TimePoint at;
    size_t producer;
    std::vector<bool> accepted;
  };
  SlidingShard shard(1000);
  std::deque<Answer> answers;
  std::vector<Producer> producers;
  for (size_t i = 0; i < starts.size(); ++i) {
    producers.push_back({ShardPacer(limits, starts[i], 100 + i), std::minstd_rand(200 + i), starts[i], starts[i]});
  }
  std::vector<size_t> accepted(starts.size(), 0);
  throttled = 0;
  for (TimePoint now{}; now < until; now += 1ms) {
    for (; !answers.empty() && answers.front().at <= now; answers.pop_front()) {
      ShardPacer& pacer = producers[answers.front().producer].pacer;
      for (bool ok : answers.front().accepted) ok ? pacer.onAccepted(now) : pacer.onThrottled(now);
    }
    for (size_t i = 0; i < producers.size(); ++i) {
      Producer& p = producers[i];
      if (now < p.start || now < p.nextSend) continue;
      std::uniform_int_distribution<int> interval(5, 10);
      p.nextSend = now + std::chrono::milliseconds(interval(p.rng));
      Answer answer{now + kAnswerDelay, i, {}};
      while (p.pacer.ready(now, !answer.accepted.empty())) {
        p.pacer.take(1, 100);
        const bool ok = shard.offer(now);
        answer.accepted.push_back(ok);
        if (now >= from) ++(ok ? accepted[i] : throttled);
      }
      if (!answer.accepted.empty()) answers.push_back(std::move(answer));
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
  // Three producers share the shard from the start; a fourth joins at 20 s
  // and takes what room there is. Over the 80 s from its first answer each
  // has about a quarter, and together they keep the shard nearly full.
  const TimePoint t0{};
  size_t throttled = 0;
  const std::vector<TimePoint> starts{t0, t0, t0, t0 + 20s};
  auto early = share(starts, t0 + 20s, t0 + 21s, throttled);
  auto late = share(starts, t0 + 20s + 25ms, t0 + 100s, throttled);
  const double mean = (late[0] + late[1] + late[2] + late[3]) / 4.0;
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_NEAR(static_cast<double>(late[i]), mean, 0.1 * mean) << "producer " << i;
  }
  const double sent = 4 * mean + throttled;
  EXPECT_GE(4 * mean, 0.95 * 1000 * 80);
  EXPECT_LE(throttled, 0.03 * sent);
  // It did start unequal: in its first second the newcomer, starting slow, took less.
  EXPECT_LT(early[3], early[0]);
  std::printf("shares over 80 s: %zu %zu %zu %zu; %.1f%% of the shard; %.2f%% throttled\n", late[0], late[1],
              late[2], late[3], 100 * 4 * mean / (1000 * 80), 100 * throttled / sent);
}

TEST(ShardPacer, IsReadyAtTheInstantReadyAtNamesNeverAHairBefore) {
  // 19 records/s: a token every 52.631578947... ms, which no clock tick holds.
  TimePoint now{};
  ShardPacer pacer({.recordsPerSecond = 19, .bytesPerSecond = 1e9, .burstSeconds = 0.05, .slowStart = false}, now);
  for (int i = 0; i < 100; ++i) {
    TimePoint at = pacer.readyAt(now);
    if (!pacer.ready(now, i > 0)) {
      EXPECT_GT(at, now) << "not ready, yet readyAt says now";
      now = at;
    }
    ASSERT_TRUE(pacer.ready(now, i > 0)) << "record " << i;
    pacer.take(1, 10);
  }
  // 100 records: the first at once (a bucket holds at least one token),
  // then one per 1/19 s: 99 x 52.63 ms, to within rounding.
  EXPECT_GE(now - TimePoint{}, std::chrono::microseconds(5'210'520));
  EXPECT_LE(now - TimePoint{}, std::chrono::microseconds(5'210'540));
}

}  // namespace
}  // namespace kinship::kinesis
