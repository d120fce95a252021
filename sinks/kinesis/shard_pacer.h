#pragma once
// ShardPacer: keeps the writes to one shard under its provisioned
// throughput with two token buckets (records/s and bytes/s), and adapts to
// throttling: each throttle cuts the shard's rate multiplicatively, each
// second without one restores it additively (AIMD). A bucket may go into
// debt by one record, so a record larger than the burst still passes, and
// the debt is paid before the next one.
//
// The burst is kept small on purpose: Kinesis counts over a sliding second,
// so a bucket of capacity C refilling at r lets through at most C + r in any
// second; the defaults keep C + r at the shard's limit.
// Not thread-safe: owned by the sink's sender thread.

#include <cstddef>

#include "common/clock.h"

namespace kinship::kinesis {

struct PacingLimits {
  double recordsPerSecond = 1000;
  double bytesPerSecond = 1024 * 1024;
  double burstSeconds = 0.05;  // bucket capacity, in seconds of rate
};

class ShardPacer {
 public:
  // The lowest fraction of the configured rate throttling can push a shard to.
  static constexpr double kMinRateFactor = 0.05;

  ShardPacer(const PacingLimits& limits, Clock::TimePoint now);

  // True when the shard may take another record now.
  bool ready(Clock::TimePoint now);
  // Charges a record taken after ready() returned true.
  void take(size_t records, size_t bytes);
  // When ready() will next be true (now, if it already is); after now
  // whenever it is not ready now.
  Clock::TimePoint readyAt(Clock::TimePoint now);

  void onThrottled(Clock::TimePoint now);
  void onAccepted(Clock::TimePoint now);

  double rateFactor() const { return factor_; }

 private:
  void refill(Clock::TimePoint now);

  PacingLimits limits_;
  double factor_ = 1.0;
  double recordTokens_;
  double byteTokens_;
  Clock::TimePoint lastRefill_;
  Clock::TimePoint lastDecrease_;
  Clock::TimePoint lastIncrease_;
};

}  // namespace kinship::kinesis
