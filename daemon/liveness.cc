#include "daemon/liveness.h"

#include <fmt/format.h>

namespace kinship::daemon {

std::string Stall::describe() const {
  return fmt::format("{} has not turned for {:.1f} s", name, static_cast<double>(silentFor.count()) / 1000.0);
}

std::optional<Stall> findStall(std::span<const WatchedThread> threads, Heartbeat::TimePoint now,
                               std::chrono::milliseconds limit) {
  std::optional<Stall> worst;
  for (const WatchedThread& thread : threads) {
    auto last = thread.heartbeat->lastBeat();
    if (!last || *last >= now) continue;
    auto silent = std::chrono::duration_cast<std::chrono::milliseconds>(now - *last);
    if (silent <= limit) continue;
    if (!worst || silent > worst->silentFor) worst = Stall{thread.name, silent};
  }
  return worst;
}

}  // namespace kinship::daemon
