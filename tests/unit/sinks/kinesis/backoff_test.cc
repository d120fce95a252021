#include "sinks/kinesis/backoff.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

using kinship::kinesis::Backoff;
using namespace std::chrono_literals;
using std::chrono::milliseconds;

namespace {

// The ceiling of the k-th delay (k = failures before it) for min/max.
int64_t ceilingOf(int k, int64_t min, int64_t max) {
  int64_t c = min;
  for (int i = 0; i < k && c < max; ++i) c *= 2;
  return std::min(c, max);
}

// Samples the k-th delay of `samples` fresh Backoffs.
std::vector<int64_t> sampleDelay(int k, milliseconds min, milliseconds max, int samples) {
  std::vector<int64_t> out;
  for (int s = 0; s < samples; ++s) {
    Backoff b(min, max);
    for (int i = 0; i < k; ++i) b.next();
    out.push_back(b.next().count());
  }
  return out;
}

}  // namespace

TEST(Backoff, FirstDelayIsTheMinimum) {
  for (int i = 0; i < 50; ++i) {
    Backoff b(100ms, 10s);
    EXPECT_EQ(b.next(), 100ms);
  }
}

TEST(Backoff, DelaysStayWithinMinAndCeiling) {
  const int64_t min = 100, max = 1000;
  for (int k = 0; k < 8; ++k) {
    auto delays = sampleDelay(k, milliseconds(min), milliseconds(max), 500);
    int64_t ceiling = ceilingOf(k, min, max);
    for (int64_t d : delays) {
      ASSERT_GE(d, min) << "k=" << k;
      ASSERT_LE(d, ceiling) << "k=" << k;
    }
  }
}

TEST(Backoff, CeilingDoublesUpToMax) {
  // With min 100 and max 1000, ceilings are 100, 200, 400, 800, 1000, 1000.
  const int64_t min = 100, max = 1000;
  const int64_t expectedCeilings[] = {100, 200, 400, 800, 1000, 1000};
  for (int k = 0; k < 6; ++k) {
    auto delays = sampleDelay(k, milliseconds(min), milliseconds(max), 2000);
    int64_t hi = *std::max_element(delays.begin(), delays.end());
    int64_t lo = *std::min_element(delays.begin(), delays.end());
    EXPECT_LE(hi, expectedCeilings[k]) << "k=" << k;
    EXPECT_GE(lo, min) << "k=" << k;
    if (k > 0) {
      // 2000 uniform draws: the top reaches well past the previous ceiling
      // (the chance that none does is far below 1e-100).
      int64_t previous = expectedCeilings[k - 1];
      int64_t span = expectedCeilings[k] - previous;
      int64_t floor = span > 0 ? previous + span / 2 : expectedCeilings[k] * 9 / 10;
      EXPECT_GT(hi, floor) << "k=" << k;
    }
    // Full jitter: the low end is used too.
    if (k >= 2) {
      EXPECT_LT(lo, min + (expectedCeilings[k] - min) / 4) << "k=" << k;
    }
  }
}

TEST(Backoff, ManyFailuresStayCapped) {
  Backoff b(1ms, 10s);
  for (int i = 0; i < 1000; ++i) {
    milliseconds d = b.next();
    ASSERT_GE(d, 1ms) << i;
    ASSERT_LE(d, 10s) << i;
  }
  EXPECT_EQ(b.failures(), 1000);
}

TEST(Backoff, ResetStartsOver) {
  Backoff b(50ms, 5s);
  for (int i = 0; i < 10; ++i) b.next();
  EXPECT_EQ(b.failures(), 10);
  b.reset();
  EXPECT_EQ(b.failures(), 0);
  EXPECT_EQ(b.next(), 50ms);
  EXPECT_EQ(b.failures(), 1);
  milliseconds second = b.next();
  EXPECT_GE(second, 50ms);
  EXPECT_LE(second, 100ms);
}

TEST(Backoff, MinEqualsMax) {
  Backoff b(300ms, 300ms);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(b.next(), 300ms);
}

TEST(Backoff, MaxNotAPowerOfTwoMultiple) {
  // 100 → 200 → 400 → capped at 300.
  auto delays = sampleDelay(3, 100ms, 300ms, 1000);
  for (int64_t d : delays) {
    ASSERT_GE(d, 100);
    ASSERT_LE(d, 300);
  }
  EXPECT_GT(*std::max_element(delays.begin(), delays.end()), 250);
}
