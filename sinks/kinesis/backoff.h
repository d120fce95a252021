#pragma once
// Backoff: exponential delay with full jitter, capped. Each failure in a row
// doubles the ceiling; a success resets it. Not thread-safe.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>

namespace kinship::kinesis {

class Backoff {
 public:
  Backoff(std::chrono::milliseconds min, std::chrono::milliseconds max) : min_(min), max_(max) {}

  // The delay before the next attempt: uniform in [min, ceiling].
  std::chrono::milliseconds next() {
    int64_t ceiling = min_.count();
    for (int i = 0; i < failures_ && ceiling < max_.count(); ++i) ceiling *= 2;
    ceiling = std::min<int64_t>(ceiling, max_.count());
    ++failures_;
    std::uniform_int_distribution<int64_t> pick(min_.count(), std::max(min_.count(), ceiling));
    return std::chrono::milliseconds(pick(rng_));
  }
  void reset() { failures_ = 0; }
  int failures() const { return failures_; }

 private:
  std::chrono::milliseconds min_;
  std::chrono::milliseconds max_;
  int failures_ = 0;
  std::minstd_rand rng_{std::random_device{}()};
};

}  // namespace kinship::kinesis
