#include "sinks/kinesis/shard_pacer.h"

#include <algorithm>

namespace kinship::kinesis {

namespace {
constexpr double kDecreaseFactor = 0.7;
constexpr double kIncreaseStep = 0.05;
// One answer often reports several throttled records of a shard; they are
// one signal, not several.
constexpr auto kDecreaseSpacing = std::chrono::milliseconds(200);
constexpr auto kIncreaseSpacing = std::chrono::seconds(1);
}  // namespace

ShardPacer::ShardPacer(const PacingLimits& limits, Clock::TimePoint now)
    : limits_(limits),
      recordTokens_(limits.recordsPerSecond * limits.burstSeconds),
      byteTokens_(limits.bytesPerSecond * limits.burstSeconds),
      lastRefill_(now),
      lastDecrease_(now - kDecreaseSpacing),
      lastIncrease_(now) {}

void ShardPacer::refill(Clock::TimePoint now) {
  double elapsed = std::chrono::duration<double>(now - lastRefill_).count();
  if (elapsed <= 0) return;
  lastRefill_ = now;
  double recordRate = limits_.recordsPerSecond * factor_;
  double byteRate = limits_.bytesPerSecond * factor_;
  recordTokens_ = std::min(recordTokens_ + elapsed * recordRate, std::max(1.0, recordRate * limits_.burstSeconds));
  byteTokens_ = std::min(byteTokens_ + elapsed * byteRate, std::max(1.0, byteRate * limits_.burstSeconds));
}

bool ShardPacer::ready(Clock::TimePoint now) {
  refill(now);
  return recordTokens_ >= 1.0 && byteTokens_ > 0;
}

void ShardPacer::take(size_t records, size_t bytes) {
  recordTokens_ -= static_cast<double>(records);
  byteTokens_ -= static_cast<double>(bytes);
}

Clock::TimePoint ShardPacer::readyAt(Clock::TimePoint now) {
  refill(now);
  double recordWait = recordTokens_ >= 1.0 ? 0 : (1.0 - recordTokens_) / (limits_.recordsPerSecond * factor_);
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
  lastIncrease_ = now;
  if (now - lastDecrease_ < kDecreaseSpacing) return;
  lastDecrease_ = now;
  factor_ = std::max(kMinRateFactor, factor_ * kDecreaseFactor);
}

void ShardPacer::onAccepted(Clock::TimePoint now) {
  if (factor_ >= 1.0 || now - lastIncrease_ < kIncreaseSpacing) return;
  refill(now);  // the past interval accrues at the old rate
  lastIncrease_ = now;
  factor_ = std::min(1.0, factor_ + kIncreaseStep);
}

}  // namespace kinship::kinesis
