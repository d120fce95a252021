#pragma once
// Exponential backoff with full jitter, capped: the delay before attempt
// n+1 after n failures in a row is uniform in [min, min(max, min * 2^(n-1))].

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>

namespace kinship::kinesis {

// The delay after `failures` (>= 1) failures in a row.
template <typename Rng>
std::chrono::milliseconds fullJitterDelay(int failures, std::chrono::milliseconds min, std::chrono::milliseconds max,
                                          Rng& rng) {
  int64_t ceiling = min.count();
  for (int i = 1; i < failures && ceiling < max.count(); ++i) ceiling *= 2;
  ceiling = std::min<int64_t>(ceiling, max.count());
  std::uniform_int_distribution<int64_t> pick(min.count(), std::max(min.count(), ceiling));
  return std::chrono::milliseconds(pick(rng));
}

// The same, counting failures itself: a success resets it. Not thread-safe.
class Backoff {
 public:
  Backoff(std::chrono::milliseconds min, std::chrono::milliseconds max) : min_(min), max_(max) {}

  std::chrono::milliseconds next() { return fullJitterDelay(++failures_, min_, max_, rng_); }
  void reset() { failures_ = 0; }
  int failures() const { return failures_; }

 private:
  std::chrono::milliseconds min_;
  std::chrono::milliseconds max_;
  int failures_ = 0;
  std::minstd_rand rng_{std::random_device{}()};
};

}  // namespace kinship::kinesis
