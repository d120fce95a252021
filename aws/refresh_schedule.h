#pragma once
// When to fetch credentials again: the arithmetic of RefreshingCredentials,
// apart from its thread, so it can be checked on its own. Pure functions.

#include <chrono>
#include <optional>

namespace kinship::aws {

struct RefreshPolicy {
  // Refresh this long before the credentials expire, but never earlier
  // than half their lifetime (credentials that live 60 s are refreshed
  // after about 30 s, not at once).
  std::chrono::seconds refreshAhead{300};
  // A random part of the margin above, up to this fraction of it, is added
  // so that many daemons started together do not call STS together.
  double jitter = 0.2;
  // After a failed fetch: the first retry after minBackoff, doubling up to
  // maxBackoff (each with jitter), and never later than half the time the
  // current credentials have left.
  std::chrono::milliseconds minBackoff{1000};
  std::chrono::milliseconds maxBackoff{60000};
  // Credentials this close to their expiration are treated as expired: a
  // request signed with them may arrive after it.
  std::chrono::seconds expirySkew{10};
};

using WallTime = std::chrono::system_clock::time_point;

// The time to refresh credentials fetched at `fetchedAt`; nullopt for
// credentials that do not expire. `random01` is uniform in [0, 1).
std::optional<WallTime> refreshTimeAfterSuccess(WallTime fetchedAt, std::optional<WallTime> expiration,
                                                const RefreshPolicy& policy, double random01);

// The time to try again after `failures` (>= 1) failed fetches in a row,
// while the credentials in hand expire at `expiration` (nullopt: none in
// hand, or they do not expire).
WallTime retryTimeAfterFailure(WallTime now, int failures, std::optional<WallTime> expiration,
                               const RefreshPolicy& policy, double random01);

}  // namespace kinship::aws
