#include "sinks/kinesis/concurrency_controller.h"

#include <algorithm>
#include <cmath>

namespace kinship::kinesis {

ConcurrencyController::ConcurrencyController(const ConcurrencyOptions& options, Clock::TimePoint now)
    : max_(std::max<size_t>(1, options.max)),
      adaptive_(options.adaptive),
      initial_(std::clamp<size_t>(options.initial, 1, max_)),
      limit_(static_cast<double>(adaptive_ ? initial_ : max_)),
      periodStart_(now),
      windowStart_(now) {}

void ConcurrencyController::onSent(size_t inFlight) {
  if (inFlight >= limit()) windowLimitReached_ = true;
}

ConcurrencyController::Duration ConcurrencyController::roundTripFloor() const {
  const Duration floor = std::min(floorCurrent_, floorPrevious_);
  return floor == Duration::max() ? Duration::zero() : floor;
}

void ConcurrencyController::onAnswer(Clock::TimePoint now, Duration roundTrip, Signal signal) {
  if (!adaptive_) return;
  const Clock::TimePoint sentAt = now - roundTrip;
  if (signal == Signal::kBackPressure) {
    // One cut per overload: the answers to what was already in flight
    // when it came report the same overload.
    if (sentAt >= lastCut_) cut(now);
    return;
  }

  if (now - periodStart_ >= kFloorPeriod) {
    floorPrevious_ = floorCurrent_;
    floorCurrent_ = Duration::max();
    periodStart_ = now;
  }
  floorCurrent_ = std::min(floorCurrent_, roundTrip);
  smoothedRoundTrip_ = smoothedRoundTrip_ == Duration::zero() ? roundTrip : (3 * smoothedRoundTrip_ + roundTrip) / 4;
  // Answers to requests sent before the last cut report the load that cut
  // was for.
  if (sentAt < lastCut_) return;
  // In slow start, likewise for the last doubling: a window's mean must
  // be of answers to requests sent at the doubled limit, or it would judge
  // the doubling by the round trips before it.
  if (slowStart_ && sentAt < lastDoubling_) return;
  windowSum_ += roundTrip;
  windowFastest_ = std::min(windowFastest_, roundTrip);
  ++windowAnswers_;

  if (now - windowStart_ < std::max(kMinWindow, smoothedRoundTrip_) || windowAnswers_ == 0) return;
  const Duration mean = windowSum_ / static_cast<int64_t>(windowAnswers_);
  // The slack is at most the floor itself: against an endpoint a fraction
  // of a millisecond away, 5 ms would let the limit grow far past any gain
  // (each request in flight costs memory and a little CPU).
  const Duration floor = roundTripFloor();
  const auto allowed =
      std::chrono::duration_cast<Duration>(floor * kLatencyRatio) + std::min<Duration>(kLatencySlack, floor);
  // Judged by the window's fastest answer (see the header): a queue delays
  // every answer, variation only some.
  const Duration fastest = windowFastest_;
  if (fastest > allowed) {
    // Slower answers alone never take the limit below where it started:
    // with a few requests in flight the wait is the endpoint's own work
    // (TLS, parsing), which fewer requests would not shorten, only idle.
    if (limit_ > static_cast<double>(initial_)) {
      cut(now);
      limit_ = std::max(limit_, static_cast<double>(initial_));
    } else {
      startWindow(now);
    }
    return;
  }
  if (windowLimitReached_) {
    // After slow start: an eighth more while the fastest answer keeps to
    // the lower half of the allowance, where no queue is building (at one
    // per window a limit cut to 28 took a second and a half to reach 56
    // against an endpoint 25 ms away: most of a 1,000,000-line backlog);
    // one more in the upper half, where the next requests may only wait.
    const double whole = std::floor(limit_);
    if (slowStart_ && !doublingPaid(whole, mean)) {
      // The last doubling brought less than half as many answers again per
      // second (limit / mean round trip, by Little's law): the endpoint,
      // or a CPU it shares, was already busy. Going on doubling only
      // holds more records in memory; back to the limit that served as
      // much, and on with the growth after slow start.
      slowStart_ = false;
      limit_ = std::max(static_cast<double>(initial_), slowStartLimit_);
      startWindow(now);
      return;
    }
    if (slowStart_) {
      slowStartLimit_ = whole;
      slowStartMean_ = mean;
    }
    const bool nearFloor = fastest <= floor + (allowed - floor) / 2;
    const double step = slowStart_ ? whole : (nearFloor ? std::max(1.0, std::floor(whole * kGrowthNearFloor)) : 1.0);
    limit_ = std::min(static_cast<double>(max_), whole + step);
    if (slowStart_) lastDoubling_ = now;
  }
  startWindow(now);
}

bool ConcurrencyController::doublingPaid(double limit, Duration mean) const {
  if (slowStartLimit_ == 0 || limit <= slowStartLimit_ || mean <= Duration::zero()) return true;
  const double before = slowStartLimit_ / static_cast<double>(slowStartMean_.count());
  const double after = limit / static_cast<double>(mean.count());
  return after >= before * kSlowStartGain;
}

void ConcurrencyController::cut(Clock::TimePoint now) {
  limit_ = std::max(1.0, limit_ * kDecrease);
  slowStart_ = false;
  lastCut_ = now;
  startWindow(now);
}

void ConcurrencyController::startWindow(Clock::TimePoint now) {
  windowStart_ = now;
  windowSum_ = Duration::zero();
  windowFastest_ = Duration::max();
  windowAnswers_ = 0;
  windowLimitReached_ = false;
}

}  // namespace kinship::kinesis
