// Tests of the fake's latency histogram and of the stamp finder that feeds
// it: bucket bounds hold every value, quantiles are never below the truth
// nor more than 1/32 above it, and stamps are read only when well formed.

#include "tests/support/fake_kinesis/latency_histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "tests/support/fake_kinesis/latency_stamp.h"

namespace kinship::fake {
namespace {

TEST(LatencyHistogramTest, EmptyAnswersZero) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.quantileNanos(0.5), 0u);
  EXPECT_EQ(h.maxNanos(), 0u);
  EXPECT_EQ(h.meanNanos(), 0u);
}

TEST(LatencyHistogramTest, SmallValuesAreExact) {
  LatencyHistogram h;
  for (uint64_t v = 0; v < 64; ++v) h.record(v);
  EXPECT_EQ(h.count(), 64u);
  EXPECT_EQ(h.quantileNanos(0.5), 31u);  // the 32nd of 0..63
  EXPECT_EQ(h.quantileNanos(1.0), 63u);
  EXPECT_EQ(h.quantileNanos(0.0), 0u);
  EXPECT_EQ(h.meanNanos(), 31u);
}

TEST(LatencyHistogramTest, QuantilesWithinOneThirtySecondAbove) {
  // Values spread over six decades, as latencies in nanoseconds are.
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> exponent(2.0, 9.0);
  std::vector<uint64_t> values;
  LatencyHistogram h;
  for (int i = 0; i < 20000; ++i) {
    auto v = static_cast<uint64_t>(std::pow(10.0, exponent(rng)));
    values.push_back(v);
    h.record(v);
  }
  std::sort(values.begin(), values.end());
  for (double q : {0.01, 0.25, 0.5, 0.9, 0.99, 0.999, 1.0}) {
    auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(values.size())));
    uint64_t truth = values[rank - 1];
    uint64_t got = h.quantileNanos(q);
    EXPECT_GE(got, truth) << "q=" << q;
    EXPECT_LE(static_cast<double>(got), static_cast<double>(truth) * (1.0 + 1.0 / 32)) << "q=" << q;
  }
  EXPECT_EQ(h.maxNanos(), values.back());
  EXPECT_EQ(h.quantileNanos(1.0), values.back());
}

TEST(LatencyHistogramTest, EveryPowerOfTwoBoundaryAndTheTop) {
  // Each value lands in a bucket whose bound is at or above it: record one
  // value at a time and read it back as the only quantile.
  for (int e = 0; e < 64; ++e) {
    for (uint64_t v : {uint64_t{1} << e, (uint64_t{1} << e) - 1, (uint64_t{1} << e) + 1}) {
      LatencyHistogram h;
      h.record(v);
      h.record(std::numeric_limits<uint64_t>::max());
      uint64_t got = h.quantileNanos(0.5);
      EXPECT_GE(got, v) << v;
      EXPECT_LE(static_cast<double>(got - v), static_cast<double>(v) / 32 + 1) << v;
    }
  }
  LatencyHistogram top;
  top.record(std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(top.quantileNanos(0.99), std::numeric_limits<uint64_t>::max());
}

TEST(LatencyHistogramTest, ClearForgetsEverything) {
  LatencyHistogram h;
  h.record(1'000'000);
  h.clear();
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.maxNanos(), 0u);
  h.record(10);
  EXPECT_EQ(h.quantileNanos(0.99), 10u);
}

TEST(StampFinderTest, ReadsTheFirstWellFormedField) {
  StampFinder ts("ts");
  EXPECT_TRUE(ts.enabled());
  EXPECT_EQ(ts.find(R"({"ts":1700000000123456789,"seq":1})"), 1700000000123456789u);
  EXPECT_EQ(ts.find(R"({"seq":1,"ts":42})"), 42u);
  EXPECT_EQ(ts.find(R"("ts":7)"), 7u);  // at the very end of the data
  EXPECT_EQ(ts.find(R"({"ts":1,"ts":2})"), 1u);
}

TEST(StampFinderTest, RejectsWhatIsNotAStamp) {
  StampFinder ts("ts");
  EXPECT_EQ(ts.find(R"({"seq":1})"), std::nullopt);
  EXPECT_EQ(ts.find(R"({"ts":"1700"})"), std::nullopt);
  EXPECT_EQ(ts.find(R"({"ts":-5})"), std::nullopt);
  EXPECT_EQ(ts.find(R"({"ts": 5})"), std::nullopt);  // the generator writes no space
  EXPECT_EQ(ts.find(R"({"ts":)"), std::nullopt);
  EXPECT_EQ(ts.find(R"({"ts":123456789012345678901})"), std::nullopt);  // 21 digits
  EXPECT_EQ(ts.find(R"({"ts":99999999999999999999})"), std::nullopt);   // 20 digits
  EXPECT_EQ(ts.find(R"({"xts":5})"), std::nullopt);
  StampFinder off;
  EXPECT_FALSE(off.enabled());
  EXPECT_EQ(off.find(R"({"ts":5})"), std::nullopt);
}

}  // namespace
}  // namespace kinship::fake
