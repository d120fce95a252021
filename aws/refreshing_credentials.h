#pragma once
// RefreshingCredentials: serves a source's credentials to the sending thread
// from a cache, and fetches new ones on its own thread ahead of their
// expiry (refresh_schedule.h), so that sending never waits for STS or the
// metadata service.
//
// While a refresh fails, credentials that are still valid keep being
// served (the failure is logged and retried with backoff). Once they have
// expired, current() fails, naming the provider and the last error: the
// sink pauses with its records kept and /readyz says why, until a refresh
// succeeds.
//
// Threading: current() and refreshSoon() from any thread. start() once,
// before them. The source is used by one thread at a time: start()'s caller,
// then the refresh thread.

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>

#include "aws/credentials_metrics.h"
#include "aws/credentials_provider.h"
#include "aws/refresh_schedule.h"
#include "common/clock.h"

namespace kinship::aws {

class RefreshingCredentials final : public CredentialsProvider {
 public:
  struct Options {
    RefreshPolicy policy;
    // How often the refresh thread looks at the clock. Short in tests that
    // move a manual clock.
    std::chrono::milliseconds pollInterval{1000};
    // Tests drive refreshIfDue() by hand instead.
    bool runThread = true;
  };

  // `metrics` may be null.
  RefreshingCredentials(std::unique_ptr<CredentialsSource> source, const Clock& clock, Options options,
                        std::shared_ptr<CredentialsMetrics> metrics);
  ~RefreshingCredentials() override;
  RefreshingCredentials(const RefreshingCredentials&) = delete;
  RefreshingCredentials& operator=(const RefreshingCredentials&) = delete;

  // Fetches once (blocking for at most the source's timeouts) and starts the
  // refresh thread. A failure is returned for the caller to report, and is
  // what current() says until a refresh succeeds; the thread keeps trying.
  // A second call fails and changes nothing.
  Status start() override;

  Result<Credentials> current() override;
  void refreshSoon() override;

  // One step of the refresh thread: fetches if due. Public for tests that
  // run without the thread.
  void refreshIfDue();

  // The source that answered ("web_identity", ...); for logs.
  std::string providerName() const;

 private:
  void fetchNow();
  void run();
  bool usable(const Credentials& credentials, WallTime now) const;

  std::unique_ptr<CredentialsSource> source_;
  const Clock& clock_;
  Options options_;
  std::shared_ptr<CredentialsMetrics> metrics_;
  std::mt19937_64 random_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::optional<Credentials> credentials_;  // the last good ones
  std::string provider_;
  std::string lastError_;  // empty after a success
  std::optional<WallTime> nextFetch_;  // nullopt: never (long-term keys)
  std::optional<WallTime> lastFetch_;
  int failures_ = 0;
  bool forced_ = false;
  bool stopping_ = false;
  bool started_ = false;  // start()'s caller only
  std::thread thread_;
};

}  // namespace kinship::aws
