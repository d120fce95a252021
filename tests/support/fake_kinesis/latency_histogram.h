#pragma once
// LatencyHistogram: counts of non-negative durations in nanoseconds in fixed
// log-linear buckets (32 per power of two, so a quantile is at most 1/32 above
// the true value), for the fake's end-to-end latency figures. Recording never
// allocates: the buckets are one fixed array, so the fake can record every
// accepted record of a benchmark run.
//
// Threading: none; the owner locks (KinesisService records under its mutex).

#include <array>
#include <cstddef>
#include <cstdint>

namespace kinship::fake {

class LatencyHistogram {
 public:
  void record(uint64_t nanos);
  void clear();

  uint64_t count() const { return count_; }
  uint64_t maxNanos() const { return max_; }
  uint64_t meanNanos() const { return count_ == 0 ? 0 : static_cast<uint64_t>(sum_ / count_); }
  // The smallest bucket bound at or above the q-th quantile (0 < q <= 1) of
  // what was recorded, capped at the maximum; 0 when nothing was.
  uint64_t quantileNanos(double q) const;

 private:
  // Values below 64 have a bucket each; above, each power of two [2^e, 2^e+1)
  // (e = 6..63) is cut into 32 equal sub-buckets.
  static constexpr int kSubBits = 5;
  static constexpr size_t kBuckets = (64 - kSubBits - 1) * (size_t{1} << kSubBits) + 64;
  static size_t bucketOf(uint64_t nanos);
  static uint64_t upperBoundOf(size_t bucket);

  std::array<uint64_t, kBuckets> buckets_{};
  uint64_t count_ = 0;
  uint64_t max_ = 0;
  unsigned __int128 sum_ = 0;
};

}  // namespace kinship::fake
