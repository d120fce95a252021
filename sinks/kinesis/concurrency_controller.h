#pragma once
// ConcurrencyController: how many PutRecords requests the sink may have in
// flight (adaptive request concurrency). Real Kinesis answers in tens of
// milliseconds, so a fixed handful of requests in flight caps throughput
// far below what one core can encode; many requests at once against an
// endpoint that is struggling only add to its trouble. The limit moves like
// a TCP congestion window, one decision per window of about one round trip
// (judged by the answers that came in it):
//
//   - a window with back-pressure (a request-level throttle, a 5xx, a
//     timeout or a reset, or an answer whose every record was throttled):
//     the limit is multiplied by 0.9 (not below 1);
//   - a window whose fastest answer took longer than the round-trip floor
//     allows (floor x 1.25 + 5 ms, or + the floor if less; the floor is
//     the fastest answer of the last minute or so): the same cut, since a
//     queue is building somewhere and every answer waits in it, but not
//     below the initial limit (a few requests in flight wait on the
//     endpoint's own work, which fewer would not shorten). The fastest
//     answer, not the mean: an endpoint whose answers vary (real Kinesis:
//     tens of milliseconds, with a tail) has window means far above its
//     fastest answer whatever the load, and judged by the mean, answers
//     spread over 10-40 ms held the limit at 4 against an endpoint that
//     took any number at once;
//   - otherwise, if the limit was reached during the window: x2 until the
//     first cut, as TCP's slow start (a 1,000,000-line backlog behind a
//     25 ms endpoint is shipped in about a second, and growing by one per
//     round trip from 4 to 30 would take most of it), or until a doubling
//     raised limit / mean round trip (the answers per second, by Little's
//     law) by less than half, judged by answers to requests sent after
//     it: then the limit goes back to what it was before that doubling,
//     without a cut (an endpoint answering in 2 ms from a shared CPU took
//     slow start from 4 to 15-21 and back, and the records admitted for
//     it were the run's peak memory). Half, not a quarter: the first
//     requests after a doubling find the endpoint's queue still short, so
//     their mean overstates what the doubling brings. After slow start,
//     +1/8 of the limit (at least 1) while the window's fastest answer
//     keeps to the lower half of the allowance, and +1 in its upper half.
//
// So the limit grows only while it binds and the fastest answers stay near
// the floor, and a lone sink against a slow endpoint settles where more
// requests no longer bring more throughput. Never above `max` (max_in_flight); with
// `adaptive` off the limit is `max`, always.
//
// Answers that say nothing about the endpoint's load (a request refused as
// invalid, access denied, no credentials) are left out.
//
// Not thread-safe: the sink's sender thread.

#include <cstddef>
#include <cstdint>

#include "common/clock.h"

namespace kinship::kinesis {

struct ConcurrencyOptions {
  size_t max = 64;
  bool adaptive = true;
  size_t initial = 4;  // where an adaptive limit starts (at most max)
};

class ConcurrencyController {
 public:
  using Duration = Clock::TimePoint::duration;

  enum class Signal : uint8_t {
    kOk,            // answered record by record (some records may have failed)
    kBackPressure,  // the endpoint is overloaded or unreachable: see above
  };

  // Multiplier of a cut.
  static constexpr double kDecrease = 0.9;
  // Growth per window, as a share of the limit, while answers stay near
  // the floor (after slow start).
  static constexpr double kGrowthNearFloor = 1.0 / 8;
  // An answer is "near the floor" while it takes at most floor x
  // kLatencyRatio + min(kLatencySlack, floor).
  static constexpr double kLatencyRatio = 1.25;
  static constexpr Duration kLatencySlack = std::chrono::milliseconds(5);
  // Slow start ends when a doubling raised limit / mean round trip by
  // less than this.
  static constexpr double kSlowStartGain = 1.5;
  // The floor forgets answers older than two of these periods.
  static constexpr Duration kFloorPeriod = std::chrono::seconds(30);
  // Windows are at least this long, so a local endpoint answering in
  // microseconds does not make a decision per answer.
  static constexpr Duration kMinWindow = std::chrono::milliseconds(5);

  ConcurrencyController(const ConcurrencyOptions& options, Clock::TimePoint now);

  // Requests that may be in flight now.
  size_t limit() const { return static_cast<size_t>(limit_); }
  size_t max() const { return max_; }

  // A request was sent; `inFlight` counts it.
  void onSent(size_t inFlight);
  // A request was answered after `roundTrip`.
  void onAnswer(Clock::TimePoint now, Duration roundTrip, Signal signal);

  // The fastest answer the floor remembers (zero before any).
  Duration roundTripFloor() const;

 private:
  void cut(Clock::TimePoint now);
  bool doublingPaid(double limit, Duration mean) const;
  void startWindow(Clock::TimePoint now);

  const size_t max_;
  const bool adaptive_;
  const size_t initial_;
  double limit_;
  bool slowStart_ = true;
  // The last slow-start window that doubled the limit: its limit and mean
  // round trip.
  double slowStartLimit_ = 0;
  Duration slowStartMean_{0};

  // The floor: the fastest answer of the current period and of the last.
  Duration floorCurrent_ = Duration::max();
  Duration floorPrevious_ = Duration::max();
  Clock::TimePoint periodStart_;

  // Answers to requests sent before the last cut report the load that cut
  // was for: they count for no decision.
  Clock::TimePoint lastCut_{};
  // Likewise, in slow start, answers to requests sent before the last
  // doubling.
  Clock::TimePoint lastDoubling_{};
  // The window being observed.
  Clock::TimePoint windowStart_;
  Duration windowSum_{0};
  Duration windowFastest_ = Duration::max();
  size_t windowAnswers_ = 0;
  bool windowLimitReached_ = false;
  Duration smoothedRoundTrip_{0};
};

}  // namespace kinship::kinesis
