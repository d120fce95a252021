#pragma once
// Clock: the source of time for everything that paces, lingers or backs off,
// so tests can drive time by hand instead of sleeping. Thread-safe.

#include <chrono>

namespace kinship {

class Clock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
  // Wall time, for signing requests and log lines.
  virtual std::chrono::system_clock::time_point wallNow() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::steady_clock::now(); }
  std::chrono::system_clock::time_point wallNow() const override { return std::chrono::system_clock::now(); }
  static const SystemClock& instance() {
    static const SystemClock clock;
    return clock;
  }
};

}  // namespace kinship
