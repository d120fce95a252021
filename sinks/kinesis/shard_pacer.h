#pragma once
// ShardPacer: keeps the writes to one shard under its provisioned
// throughput with two token buckets (records/s and bytes/s), and shares a
// shard with other producers that nothing coordinates (several daemons on
// one stream) by adapting its rate to the shard's throttling.
//
// Fairness comes from how often a producer is refused: a shard's records
// join a request only once its bucket holds a quantum of them (three), so a
// producer sends to the shard, and meets it full, in proportion to its
// rate. A throttled answer (at most one per 250 ms) cuts the rate by the
// share of the shard's records refused since the last cut, by 25% at least
// and 75% at most. The cut is taken once the whole answer is counted, at
// the next ready() or readyAt(): taken at its first refused
// record, it would judge by the records before it alone. After a hold of
// 0.1-0.2 s, drawn anew each time so producers do not move in step, the
// rate grows by 8% of the configured rate per second, the same at every
// rate, doubling every 8 s without a throttle. The faster producer is cut
// more often and by more, and the slower one catches up.
//
// A new pacer starts at an eighth of the rate and doubles it every 100 ms
// while its answers bring no throttle (slow start, as TCP's): alone, it is
// at the full rate within 0.3 s and stays there; on a shard that others
// already fill, it is refused while still near a share, instead of after a
// burst at the full rate that cuts everyone (the burst's cuts keep every
// producer's ratio to the others, and the newcomer kept about 1.5 times its
// share for 8 s). The first cut takes at least half: slow start may have
// overshot by its last doubling.
//
// A bucket may go into debt by one record, so a record larger than the
// burst still passes, and the debt is paid before the next one. The burst
// is kept small on purpose: Kinesis counts over a sliding second, so a
// bucket of capacity C refilling at r lets through at most C + r in any
// second; the defaults keep C + r at the shard's limit.
// Not thread-safe: owned by the sink's sender thread.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>

#include "common/clock.h"

namespace kinship::kinesis {

struct PacingLimits {
  double recordsPerSecond = 1000;
  double bytesPerSecond = 1024 * 1024;
  double burstSeconds = 0.05;  // bucket capacity, in seconds of rate
  bool slowStart = true;       // start at an eighth of the rate (see below)
};

class ShardPacer {
 public:
  // The lowest fraction of the configured rate throttling can push a shard to.
  static constexpr double kMinRateFactor = 0.05;

  ShardPacer(const PacingLimits& limits, Clock::TimePoint now, uint64_t seed = 1);

  // True when the shard may take another record now: into a request that
  // already holds some of its records (`inRequest`), with one token; to
  // join a request, only once the bucket holds a quantum (or all it can
  // hold, if less).
  bool ready(Clock::TimePoint now, bool inRequest);
  // Charges a record taken after ready() returned true.
  void take(size_t records, size_t bytes);
  // When ready() will next be true for a new request (now, if it already
  // is); after now whenever it is not ready now.
  Clock::TimePoint readyAt(Clock::TimePoint now);

  // One Kinesis record of this shard answered.
  void onThrottled(Clock::TimePoint now);
  void onAccepted(Clock::TimePoint now);

  // The fraction of the configured rate it sends at (after any cut due).
  double rateFactor() {
    takeDueCut();
    return factor_;
  }

 private:
  void takeDueCut();
  void refill(Clock::TimePoint now);
  // Tokens a record needs: one within a request the shard has joined, a
  // quantum to join one.
  double needed(bool inRequest) const;
  void grow(Clock::TimePoint now);

  PacingLimits limits_;
  std::minstd_rand rng_;
  double factor_;
  bool slowStart_;  // doubling, until the first cut or the full rate
  double recordTokens_;
  double byteTokens_;
  Clock::TimePoint lastRefill_;
  Clock::TimePoint lastCut_;
  std::optional<Clock::TimePoint> cutDue_;  // a refusal's time, when it calls for a cut
  Clock::TimePoint growFrom_;    // end of the hold after the last cut
  Clock::TimePoint lastGrowth_;
  uint32_t accepted_ = 0;        // since the last cut
  uint32_t throttled_ = 0;
};

}  // namespace kinship::kinesis
