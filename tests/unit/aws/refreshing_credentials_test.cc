#include "aws/refreshing_credentials.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>

#include "tests/support/manual_clock.h"
#include "tests/support/metrics_reader.h"

namespace kinship::aws {
namespace {

using namespace std::chrono_literals;
using kinship::testing::ManualClock;

// Issues credentials that live `lifetime` from the clock's now, numbered;
// or fails while `failing` is set.
class ExpiringSource final : public CredentialsSource {
 public:
  ExpiringSource(const Clock& clock, std::chrono::seconds lifetime) : clock_(clock), lifetime_(lifetime) {}
  std::string_view name() const override { return "web_identity"; }
  bool configured() override { return true; }
  Result<Credentials> fetch() override {
    std::unique_lock lock(mu_);
    ++fetches;
    blockedReached_ = true;
    changed_.notify_all();
    changed_.wait(lock, [this] { return !blocking_; });
    if (failing) return fail(Status::unavailable("STS at http://127.0.0.1:1 did not answer"));
    return Credentials{.accessKeyId = "AKID" + std::to_string(fetches),
                       .secretAccessKey = "secret",
                       .sessionToken = "token",
                       .expiration = clock_.wallNow() + lifetime_};
  }
  // The next fetch blocks until release().
  void block() {
    std::lock_guard lock(mu_);
    blocking_ = true;
    blockedReached_ = false;
  }
  void waitUntilBlocked() {
    std::unique_lock lock(mu_);
    changed_.wait(lock, [this] { return blockedReached_; });
  }
  void release() {
    std::lock_guard lock(mu_);
    blocking_ = false;
    changed_.notify_all();
  }
  std::atomic<int> fetches{0};
  std::atomic<bool> failing{false};

 private:
  const Clock& clock_;
  std::chrono::seconds lifetime_;
  std::mutex mu_;
  std::condition_variable changed_;
  bool blocking_ = false;
  bool blockedReached_ = false;
};

RefreshingCredentials::Options byHand() {
  RefreshingCredentials::Options options;
  options.runThread = false;
  return options;
}

TEST(RefreshingCredentials, CredentialsThatLiveSixtySecondsNeverRunOutWhileRequestsFlow) {
  ManualClock clock;
  auto owned = std::make_unique<ExpiringSource>(clock, 60s);
  ExpiringSource& source = *owned;
  RefreshingCredentials provider(std::move(owned), clock, byHand(), nullptr);
  ASSERT_TRUE(provider.start());
  // 10,000 requests 10 ms apart: 100 s, so the 60 s credentials must be
  // replaced at least once, each time before they expire.
  for (int i = 0; i < 10000; ++i) {
    clock.advance(10ms);
    provider.refreshIfDue();
    auto creds = provider.current();
    ASSERT_TRUE(creds) << "request " << i << ": " << creds.error().message();
    ASSERT_GT(*creds->expiration, clock.wallNow() + 10s) << "request " << i;
  }
  EXPECT_GE(source.fetches.load(), 3);  // start + about every 30 s
  EXPECT_FALSE(provider.start()) << "a second start is refused";
}

TEST(RefreshingCredentials, AFailedRefreshKeepsValidCredentialsThenReportsTheExpiry) {
  ManualClock clock;
  auto owned = std::make_unique<ExpiringSource>(clock, 60s);
  ExpiringSource& source = *owned;
  RefreshingCredentials provider(std::move(owned), clock, byHand(), nullptr);
  ASSERT_TRUE(provider.start());
  source.failing = true;
  int before = source.fetches;
  for (int s = 0; s < 49; ++s) {  // up to 11 s before the expiry: still valid
    clock.advance(1s);
    provider.refreshIfDue();
    ASSERT_TRUE(provider.current()) << "second " << s;
  }
  EXPECT_GT(source.fetches - before, 3) << "retried with backoff";
  clock.advance(2s);  // within expirySkew of the expiry
  provider.refreshIfDue();
  auto creds = provider.current();
  ASSERT_FALSE(creds);
  EXPECT_NE(creds.error().message().find("AWS credentials from web_identity expired at"), std::string::npos)
      << creds.error().message();
  EXPECT_NE(creds.error().message().find("STS at http://127.0.0.1:1 did not answer"), std::string::npos)
      << creds.error().message();
  EXPECT_EQ(creds.error().message().find("secret"), std::string::npos);
  EXPECT_EQ(creds.error().message().find("token"), std::string::npos);

  // Retries continue, sooner as the expiry nears: once STS answers again,
  // sending resumes within seconds.
  source.failing = false;
  for (int s = 0; s < 10 && !provider.current(); ++s) {
    clock.advance(1s);
    provider.refreshIfDue();
  }
  ASSERT_TRUE(provider.current()) << "a refresh that succeeds resumes sending";
}

TEST(RefreshingCredentials, AFailureAtStartIsReturnedAndRetried) {
  ManualClock clock;
  auto owned = std::make_unique<ExpiringSource>(clock, 3600s);
  ExpiringSource& source = *owned;
  source.failing = true;
  RefreshingCredentials provider(std::move(owned), clock, byHand(), nullptr);
  Status started = provider.start();
  ASSERT_FALSE(started);
  EXPECT_NE(started.message().find("did not answer"), std::string::npos);
  ASSERT_FALSE(provider.current());
  source.failing = false;
  clock.advance(1s);
  provider.refreshIfDue();
  EXPECT_TRUE(provider.current());
}

TEST(RefreshingCredentials, RefreshSoonFetchesAgainButNotFasterThanTheMinimumBackoff) {
  ManualClock clock;
  auto owned = std::make_unique<ExpiringSource>(clock, 3600s);
  ExpiringSource& source = *owned;
  RefreshingCredentials provider(std::move(owned), clock, byHand(), nullptr);
  ASSERT_TRUE(provider.start());
  EXPECT_EQ(provider.current()->accessKeyId, "AKID1");
  provider.refreshSoon();
  provider.refreshIfDue();
  EXPECT_EQ(source.fetches, 1) << "within minBackoff of the last fetch";
  clock.advance(1s);
  provider.refreshIfDue();
  EXPECT_EQ(source.fetches, 2);
  EXPECT_EQ(provider.current()->accessKeyId, "AKID2");
  clock.advance(10s);
  provider.refreshIfDue();
  EXPECT_EQ(source.fetches, 2) << "not forced again";
}

TEST(RefreshingCredentials, SendingDoesNotWaitForARefreshInProgress) {
  ManualClock clock;
  auto owned = std::make_unique<ExpiringSource>(clock, 60s);
  ExpiringSource& source = *owned;
  RefreshingCredentials::Options options;
  options.pollInterval = 1ms;
  RefreshingCredentials provider(std::move(owned), clock, options, nullptr);
  ASSERT_TRUE(provider.start());
  source.block();
  clock.advance(31s);  // due: the refresh thread starts a fetch and blocks in it
  source.waitUntilBlocked();
  for (int i = 0; i < 1000; ++i) {
    auto creds = provider.current();
    ASSERT_TRUE(creds) << creds.error().message();
    EXPECT_EQ(creds->accessKeyId, "AKID1");
  }
  source.release();
}

TEST(RefreshingCredentials, MetricsCountRefreshesByProviderAndShowTimeLeft) {
  ManualClock clock;
  auto registry = std::make_shared<prometheus::Registry>();
  auto metrics = std::make_shared<CredentialsMetrics>(*registry, "app");
  auto owned = std::make_unique<ExpiringSource>(clock, 60s);
  ExpiringSource& source = *owned;
  RefreshingCredentials provider(std::move(owned), clock, byHand(), metrics);
  ASSERT_TRUE(provider.start());
  clock.advance(31s);
  provider.refreshIfDue();
  source.failing = true;
  clock.advance(31s);
  provider.refreshIfDue();
  using kinship::testing::metricValue;
  EXPECT_EQ(metricValue(*registry, "kinship_credentials_refreshes_total",
                        {{"pipeline", "app"}, {"provider", "web_identity"}, {"result", "success"}}),
            2);
  EXPECT_EQ(metricValue(*registry, "kinship_credentials_refreshes_total",
                        {{"pipeline", "app"}, {"provider", "web_identity"}, {"result", "failure"}}),
            1);
  EXPECT_EQ(metricValue(*registry, "kinship_credentials_expiry_seconds", {{"pipeline", "app"}}), 29);
}

}  // namespace
}  // namespace kinship::aws
