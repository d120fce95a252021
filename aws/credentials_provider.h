#pragma once
// CredentialsProvider: what a sink signs its requests with. Thread-safe:
// the sending thread calls current() once per request, so it must never
// wait on the network; providers whose credentials expire refresh them
// elsewhere (refreshing_credentials.h).

#include "aws/credentials.h"
#include "common/status.h"

namespace kinship::aws {

class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  // Fetches the first credentials (may block for the sources' timeouts);
  // called once, before current(). A failure is also what current() reports
  // until the provider recovers.
  virtual Status start() { return Status::ok(); }
  // Credentials valid now, or why there are none (never a secret).
  virtual Result<Credentials> current() = 0;
  // The endpoint said the credentials expired (ExpiredToken): fetch new ones
  // as soon as possible. Returns at once.
  virtual void refreshSoon() {}
};

}  // namespace kinship::aws
