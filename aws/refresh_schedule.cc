#include "aws/refresh_schedule.h"

#include <algorithm>

namespace kinship::aws {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

std::optional<WallTime> refreshTimeAfterSuccess(WallTime fetchedAt, std::optional<WallTime> expiration,
                                                const RefreshPolicy& policy, double random01) {
  if (!expiration) return std::nullopt;
  const milliseconds lifetime = std::max(milliseconds(0), duration_cast<milliseconds>(*expiration - fetchedAt));
  const milliseconds margin = std::min(duration_cast<milliseconds>(policy.refreshAhead), lifetime / 2);
  const auto jitter = milliseconds(static_cast<int64_t>(static_cast<double>(margin.count()) * policy.jitter * random01));
  return *expiration - margin - jitter;
}

WallTime retryTimeAfterFailure(WallTime now, int failures, std::optional<WallTime> expiration,
                               const RefreshPolicy& policy, double random01) {
  milliseconds delay = policy.minBackoff;
  for (int i = 1; i < failures && delay < policy.maxBackoff; ++i) delay *= 2;
  delay = std::min(delay, policy.maxBackoff);
  // Between half and all of the backoff, so that retries spread out.
  delay = milliseconds(static_cast<int64_t>(static_cast<double>(delay.count()) * (0.5 + 0.5 * random01)));
  if (expiration && *expiration > now) {
    delay = std::min(delay, std::max(policy.minBackoff, duration_cast<milliseconds>(*expiration - now) / 2));
  }
  return now + delay;
}

}  // namespace kinship::aws
