#pragma once
// Heartbeat: proof that a thread's loop is still turning, for the systemd
// watchdog and /healthz. The owning thread calls beat() on every turn of its
// loop (one relaxed atomic store: cheap enough for the hot loop); a watcher
// on another thread reads lastBeat(). Only a thread between start() and
// retire() is watched: one that has not started yet or has finished is not
// stuck.
//
// Loops that beat must never wait longer than a second or so without
// turning (their waits have short timeouts), so that "has not turned for
// stall_timeout" means stuck, not idle.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>

namespace kinship {

class Heartbeat {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  // The thread begins its loop (also a first beat).
  void start() { beat(); }
  void beat() { beatAt(std::chrono::steady_clock::now()); }
  // A beat at `t` (steady_clock): beat() with the time given, so that tests
  // place beats at exact instants.
  void beatAt(TimePoint t) { lastNs_.store(t.time_since_epoch().count(), std::memory_order_relaxed); }
  // The thread has left its loop: no longer watched.
  void retire() { lastNs_.store(kNotWatched, std::memory_order_relaxed); }

  // When the thread last turned; nullopt when not watched.
  std::optional<TimePoint> lastBeat() const {
    auto ns = lastNs_.load(std::memory_order_relaxed);
    if (ns == kNotWatched) return std::nullopt;
    return TimePoint(TimePoint::duration(ns));
  }

 private:
  static constexpr int64_t kNotWatched = INT64_MIN;
  std::atomic<int64_t> lastNs_{kNotWatched};
};

}  // namespace kinship
