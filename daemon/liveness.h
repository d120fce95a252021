#pragma once
// Liveness: whether the event loop and every pipeline thread still turn.
// The same verdict feeds /healthz (503 naming the stuck thread) and the
// systemd watchdog (no WATCHDOG=1 ping while anything is stuck), so a
// wedged daemon is restarted rather than left holding its inputs.

#include <chrono>
#include <optional>
#include <span>
#include <string>

#include "common/heartbeat.h"

namespace kinship::daemon {

// A thread to watch, named for the log line and /healthz.
struct WatchedThread {
  std::string name;  // "pipeline app: sink thread"
  const Heartbeat* heartbeat;
};

struct Stall {
  std::string name;
  std::chrono::milliseconds silentFor;
  // "pipeline app: sink thread has not turned for 31.2 s"
  std::string describe() const;
};

// The thread that has been silent longest, when that is over `limit`.
// Threads whose heartbeat is not watched (not started, or finished) are
// skipped.
std::optional<Stall> findStall(std::span<const WatchedThread> threads, Heartbeat::TimePoint now,
                               std::chrono::milliseconds limit);

}  // namespace kinship::daemon
