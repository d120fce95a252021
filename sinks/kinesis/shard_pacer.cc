#include "sinks/kinesis/shard_pacer.h"

#include <algorithm>
#include <cmath>

namespace kinship::kinesis {

namespace {
// A shard's records join a request once its bucket holds this many: a
// producer meets a full shard, and is cut, as often as it sends.
constexpr double kQuantum = 3;
// The rate's growth, in shares of the configured rate per second, doubled
// by each kIncreaseSpeedup seconds without a throttle.
constexpr double kIncreasePerSecond = 0.08;
constexpr double kIncreaseSpeedup = 8.0;
// A cut takes the share of records refused since the last one, within
// these bounds; one answer's many refusals are one signal.
constexpr double kCutMin = 0.25;
constexpr double kCutMax = 0.75;
constexpr auto kCutSpacing = std::chrono::milliseconds(250);
// After a cut the rate holds for a time drawn from this range, so that
// producers cut by the same full second do not grow back in step.
constexpr double kHoldMin = 0.1;
constexpr double kHoldMax = 0.2;
// A new pacer starts at this share of the rate and doubles it every
// kSlowStartDoubling seconds of answers without a throttle: at the full rate
// in 0.3 s when alone, and on a shard that others already fill, refused
// while still near its share instead of after a burst that cuts them all.
constexpr double kSlowStartFactor = 0.125;
constexpr double kSlowStartDoubling = 0.1;
constexpr double kSlowStartCut = 0.5;
}  // namespace

ShardPacer::ShardPacer(const PacingLimits& limits, Clock::TimePoint now, uint64_t seed)
    : limits_(limits),
      rng_(static_cast<std::minstd_rand::result_type>(seed % 2147483646 + 1)),
      factor_(limits.slowStart ? kSlowStartFactor : 1.0),
      slowStart_(limits.slowStart),
      recordTokens_(std::max(1.0, limits.recordsPerSecond * factor_ * limits.burstSeconds)),
      byteTokens_(std::max(1.0, limits.bytesPerSecond * factor_ * limits.burstSeconds)),
      lastRefill_(now),
      lastCut_(now - kCutSpacing),
      growFrom_(now),
      lastGrowth_(now) {}

void ShardPacer::refill(Clock::TimePoint now) {
  double elapsed = std::chrono::duration<double>(now - lastRefill_).count();
  if (elapsed <= 0) return;
  lastRefill_ = now;
  double recordRate = limits_.recordsPerSecond * factor_;
  double byteRate = limits_.bytesPerSecond * factor_;
  recordTokens_ = std::min(recordTokens_ + elapsed * recordRate, std::max(1.0, recordRate * limits_.burstSeconds));
  byteTokens_ = std::min(byteTokens_ + elapsed * byteRate, std::max(1.0, byteRate * limits_.burstSeconds));
}

double ShardPacer::needed(bool inRequest) const {
  if (inRequest) return 1.0;
  const double capacity = std::max(1.0, limits_.recordsPerSecond * factor_ * limits_.burstSeconds);
  return std::clamp(kQuantum, 1.0, capacity);
}

bool ShardPacer::ready(Clock::TimePoint now, bool inRequest) {
  takeDueCut();
  refill(now);
  return recordTokens_ >= needed(inRequest) && byteTokens_ > 0;
}

void ShardPacer::take(size_t records, size_t bytes) {
  recordTokens_ -= static_cast<double>(records);
  byteTokens_ -= static_cast<double>(bytes);
}

Clock::TimePoint ShardPacer::readyAt(Clock::TimePoint now) {
  takeDueCut();
  refill(now);
  // When the next request can take the shard: a quantum, whatever the
  // request being filled took (waking for less only finds it not ready).
  const double need = needed(false);
  double recordWait = recordTokens_ >= need ? 0 : (need - recordTokens_) / (limits_.recordsPerSecond * factor_);
  // Bytes only need to be out of debt; a microsecond more makes sure of it.
  double byteWait = byteTokens_ > 0 ? 0 : -byteTokens_ / (limits_.bytesPerSecond * factor_) + 1e-6;
  double wait = std::max(recordWait, byteWait);
  // Rounded up: at the instant returned the bucket holds what it needs (a
  // wait truncated to the instant itself would read as "ready now" to a
  // caller that then finds it a hair short).
  return now + std::chrono::ceil<Clock::TimePoint::duration>(std::chrono::duration<double>(wait));
}

void ShardPacer::onThrottled(Clock::TimePoint now) {
  refill(now);
  // The shard is saturated: whatever the bucket holds is not really there.
  recordTokens_ = std::min(recordTokens_, 0.0);
  byteTokens_ = std::min(byteTokens_, 0.0);
  ++throttled_;
  if (!cutDue_ && now - lastCut_ >= kCutSpacing) cutDue_ = now;
}

void ShardPacer::takeDueCut() {
  if (!cutDue_) return;
  const Clock::TimePoint at = *cutDue_;
  cutDue_.reset();
  const double refused = static_cast<double>(throttled_) / static_cast<double>(accepted_ + throttled_);
  // Slow start overshoots by up to its last doubling: the first cut halves at least.
  const double least = slowStart_ ? kSlowStartCut : kCutMin;
  slowStart_ = false;
  factor_ = std::max(kMinRateFactor, factor_ * (1.0 - std::clamp(refused, least, kCutMax)));
  lastCut_ = at;
  std::uniform_real_distribution<double> hold(kHoldMin, kHoldMax);
  growFrom_ = at + std::chrono::duration_cast<Clock::TimePoint::duration>(std::chrono::duration<double>(hold(rng_)));
  lastGrowth_ = growFrom_;
  accepted_ = 0;
  throttled_ = 0;
}

void ShardPacer::grow(Clock::TimePoint now) {
  // A cut is due: the answer being counted refused records.
  if (cutDue_ || factor_ >= 1.0 || now <= growFrom_ || now <= lastGrowth_) return;
  refill(now);  // the past interval accrues at the old rate
  const double since = std::chrono::duration<double>(now - growFrom_).count();
  const double elapsed = std::chrono::duration<double>(now - lastGrowth_).count();
  lastGrowth_ = now;
  if (slowStart_) {
    factor_ = std::min(1.0, factor_ * std::exp2(elapsed / kSlowStartDoubling));
    slowStart_ = factor_ < 1.0;
    return;
  }
  factor_ = std::min(1.0, factor_ + kIncreasePerSecond * (1.0 + since / kIncreaseSpeedup) * elapsed);
}

void ShardPacer::onAccepted(Clock::TimePoint now) {
  ++accepted_;
  grow(now);
}

}  // namespace kinship::kinesis
