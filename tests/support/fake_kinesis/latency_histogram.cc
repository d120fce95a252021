#include "tests/support/fake_kinesis/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace kinship::fake {

size_t LatencyHistogram::bucketOf(uint64_t nanos) {
  if (nanos < 64) return static_cast<size_t>(nanos);
  int msb = 63 - std::countl_zero(nanos);  // >= 6
  int shift = msb - kSubBits;               // >= 1
  // nanos >> shift is in [32, 64): the sub-bucket within this power of two.
  return static_cast<size_t>(shift) * (size_t{1} << kSubBits) + static_cast<size_t>(nanos >> shift);
}

uint64_t LatencyHistogram::upperBoundOf(size_t bucket) {
  if (bucket < 64) return bucket;
  size_t shift = bucket / (size_t{1} << kSubBits) - 1;
  uint64_t sub = bucket % (size_t{1} << kSubBits) + (uint64_t{1} << kSubBits);
  // For the top bucket (sub + 1) << shift wraps to 0, and the bound to
  // 2^64 - 1, as it should: unsigned arithmetic is modular.
  return ((sub + 1) << shift) - 1;
}

void LatencyHistogram::record(uint64_t nanos) {
  ++buckets_[bucketOf(nanos)];
  ++count_;
  max_ = std::max(max_, nanos);
  sum_ += nanos;
}

void LatencyHistogram::clear() { *this = LatencyHistogram(); }

uint64_t LatencyHistogram::quantileNanos(double q) const {
  if (count_ == 0) return 0;
  // The rank of the q-th quantile among count_ sorted values, 1-based.
  auto rank = static_cast<uint64_t>(std::ceil(std::clamp(q, 0.0, 1.0) * static_cast<double>(count_)));
  rank = std::max<uint64_t>(rank, 1);
  uint64_t seen = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    seen += buckets_[i];
    if (seen >= rank) return std::min(upperBoundOf(i), max_);
  }
  return max_;
}

}  // namespace kinship::fake
