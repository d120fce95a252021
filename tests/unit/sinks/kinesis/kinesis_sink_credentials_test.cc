// The Kinesis sink and its credentials, on a manual clock: no credentials
// pauses sending with the records kept and /readyz naming the provider;
// ExpiredToken asks the provider for new ones and retries the same records;
// credentials that expire every minute are replaced while records flow,
// and no request goes out without valid ones.

#include <atomic>

#include "aws/refreshing_credentials.h"
#include "tests/support/manual_clock.h"
#include "tests/unit/sinks/kinesis/kinesis_sink_fixture.h"

namespace kinship::kinesis {
namespace {

using namespace kinship::kinesis::test;
using namespace std::chrono_literals;

// Credentials a test hands out or withholds; counts refreshSoon() calls.
class SwitchableCredentials final : public aws::CredentialsProvider {
 public:
  Result<aws::Credentials> current() override {
    std::lock_guard lock(mu_);
    if (!available_) return fail(Status::unavailable("credentials from web_identity: STS refused: HTTP 403 AccessDenied"));
    return aws::Credentials{.accessKeyId = keyId_, .secretAccessKey = "secret-value", .sessionToken = "token-value"};
  }
  void refreshSoon() override {
    std::lock_guard lock(mu_);
    ++refreshes;
    keyId_ = "AKIDFRESH";
  }
  void setAvailable(bool available) {
    std::lock_guard lock(mu_);
    available_ = available;
  }
  std::atomic<int> refreshes{0};

 private:
  std::mutex mu_;
  bool available_ = true;
  std::string keyId_ = "AKIDOLD";
};

std::string accessKeyOf(const HttpRequest& request) {
  const std::string& auth = request.headers.at("authorization");
  size_t start = auth.find("Credential=") + 11;
  return auth.substr(start, auth.find('/', start) - start);
}

TEST_F(KinesisSinkTest, WithoutCredentialsNothingIsSentTheRecordsWaitAndReadyzSaysWhy) {
  ScriptedKinesis kinesis;
  auto owned = std::make_unique<SwitchableCredentials>();
  SwitchableCredentials& credentials = *owned;
  credentials.setAvailable(false);
  auto sink = startSink(configFor(kinesis), std::move(owned));
  push(5, 5);
  ASSERT_TRUE(runUntil([&] { return !sink->notReadyReason().empty(); }));
  EXPECT_EQ(sink->notReadyReason(),
            "kinesis sink of pipeline p: credentials: credentials from web_identity: STS refused: HTTP 403 "
            "AccessDenied");
  EXPECT_EQ(kinesis.requestCount(), 0u);
  EXPECT_GE(metric("kinship_sink_request_errors_total", {{"error", "credentials"}}), 1);

  credentials.setAvailable(true);
  ASSERT_TRUE(runUntilAccepted(kinesis, 5));
  stopSink(*sink);
  EXPECT_EQ(sink->notReadyReason(), "");
  EXPECT_EQ(dataOf(kinesis.accepted()).size(), 5u);
}

TEST_F(KinesisSinkTest, ExpiredTokenAsksForNewCredentialsAndRetriesTheSameRecords) {
  ScriptedKinesis kinesis;
  // The endpoint refuses the old key as expired and accepts the fresh one.
  kinesis.setRequestFilter([](const HttpRequest& request) -> std::optional<HttpReply> {
    if (accessKeyOf(request) != "AKIDOLD") return std::nullopt;
    return HttpReply{400, R"({"__type":"ExpiredTokenException","message":"The security token included in the )"
                          R"(request is expired"})"};
  });
  auto owned = std::make_unique<SwitchableCredentials>();
  SwitchableCredentials& credentials = *owned;
  auto sink = startSink(configFor(kinesis), std::move(owned));
  push(6, 6);
  ASSERT_TRUE(runUntilAccepted(kinesis, 6));
  stopSink(*sink);
  EXPECT_GE(kinesis.filteredCount(), 1u);
  EXPECT_GE(credentials.refreshes.load(), 1);
  EXPECT_EQ(dataOf(kinesis.accepted()).size(), 6u);
  for (const auto& r : kinesis.rawRequests()) EXPECT_EQ(accessKeyOf(r), "AKIDFRESH");
  EXPECT_GE(metric("kinship_sink_request_errors_total", {{"error", "ExpiredTokenException"}}), 1);
  EXPECT_EQ(sink->notReadyReason(), "") << "an expired token is not a pause";
}

TEST_F(KinesisSinkTest, ARegionLeftToTheMetadataServiceIsAskedAtStartNotAtConstruction) {
  ScriptedKinesis kinesis;
  auto config = configFor(kinesis);
  config.region.clear();
  config.regionFromInstanceMetadata = true;
  config.endpointConfigured = true;
  int lookups = 0;
  std::string credentialsRegion;
  auto sink = std::make_unique<KinesisSink>(
      sinks::SinkContext{queue_, registry_, "p", clock_}, config,
      [&](const aws::CredentialsOptions& options) -> std::unique_ptr<aws::CredentialsProvider> {
        credentialsRegion = options.region;
        return std::make_unique<SwitchableCredentials>();
      },
      [&]() -> Result<std::string> {
        ++lookups;
        return std::string("eu-west-3");
      },
      transportFactory());
  EXPECT_EQ(lookups, 0) << "construction (also --check-config) makes no call";
  ASSERT_TRUE(sink->open());
  sink_ = sink.get();
  EXPECT_EQ(lookups, 1);
  EXPECT_EQ(credentialsRegion, "eu-west-3") << "STS calls use the region found";
  push(2, 2);
  ASSERT_TRUE(runUntilAccepted(kinesis, 2));
  stopSink(*sink);
  EXPECT_NE(kinesis.rawRequests().at(0).headers.at("authorization").find("/eu-west-3/kinesis/aws4_request"),
            std::string::npos);
}

TEST_F(KinesisSinkTest, NoRegionFromTheMetadataServiceFailsTheStartWithTheReason) {
  ScriptedKinesis kinesis;
  auto config = configFor(kinesis);
  config.region.clear();
  config.regionFromInstanceMetadata = true;
  config.endpointConfigured = true;
  KinesisSink sink(
      sinks::SinkContext{queue_, registry_, "p", clock_}, config,
      [](const aws::CredentialsOptions&) -> std::unique_ptr<aws::CredentialsProvider> {
        return std::make_unique<SwitchableCredentials>();
      },
      []() -> Result<std::string> {
        return fail(Status::unavailable("the instance metadata service did not answer at http://127.0.0.1:9"));
      });
  Status started = sink.start();
  ASSERT_FALSE(started);
  EXPECT_NE(started.message().find("no region"), std::string::npos) << started.message();
  EXPECT_NE(started.message().find("did not answer"), std::string::npos) << started.message();
}

// Issues credentials that live 60 s on a manual clock, each with a new key;
// remembers when each key expires.
class ShortLivedSource final : public aws::CredentialsSource {
 public:
  explicit ShortLivedSource(const Clock& clock) : clock_(clock) {}
  std::string_view name() const override { return "container"; }
  bool configured() override { return true; }
  Result<aws::Credentials> fetch() override {
    std::lock_guard lock(mu_);
    std::string id = "AKID" + std::to_string(expiries_.size());
    auto expiration = clock_.wallNow() + 60s;
    expiries_[id] = expiration;
    return aws::Credentials{.accessKeyId = id, .secretAccessKey = "s", .sessionToken = "t", .expiration = expiration};
  }
  std::optional<std::chrono::system_clock::time_point> expiryOf(const std::string& id) {
    std::lock_guard lock(mu_);
    auto it = expiries_.find(id);
    if (it == expiries_.end()) return std::nullopt;
    return it->second;
  }
  size_t issued() {
    std::lock_guard lock(mu_);
    return expiries_.size();
  }

 private:
  const Clock& clock_;
  std::mutex mu_;
  std::map<std::string, std::chrono::system_clock::time_point> expiries_;
};

TEST_F(KinesisSinkTest, CredentialsThatLiveSixtySecondsAreReplacedWhileTenThousandRecordsFlow) {
  kinship::testing::ManualClock credentialsClock;
  auto ownedSource = std::make_unique<ShortLivedSource>(credentialsClock);
  ShortLivedSource& source = *ownedSource;
  aws::RefreshingCredentials::Options options;
  options.runThread = false;  // refreshed by hand below, as its thread would
  auto provider =
      std::make_unique<aws::RefreshingCredentials>(std::move(ownedSource), credentialsClock, options, nullptr);
  aws::RefreshingCredentials& refreshing = *provider;

  ScriptedKinesis kinesis;
  int refused = 0;
  // The endpoint refuses any key it does not know or that has expired, by
  // the same clock the credentials live on.
  kinesis.setRequestFilter([&](const HttpRequest& request) -> std::optional<HttpReply> {
    auto expiry = source.expiryOf(accessKeyOf(request));
    if (expiry && credentialsClock.wallNow() < *expiry) return std::nullopt;
    ++refused;
    return HttpReply{400, R"({"__type":"ExpiredTokenException","message":"expired"})"};
  });
  auto sink = startSink(configFor(kinesis), std::move(provider));
  // 100 rounds of 100 records, one simulated second each: 100 s of traffic
  // over credentials that live 60 s.
  for (size_t round = 1; round <= 100; ++round) {
    push(100, 100);
    ASSERT_TRUE(runUntilAccepted(kinesis, round * 100)) << "round " << round;
    credentialsClock.advance(1s);
    refreshing.refreshIfDue();
  }
  stopSink(*sink);
  EXPECT_EQ(refused, 0) << "a request went out with expired credentials";
  EXPECT_EQ(metric("kinship_sink_request_errors_total", {{"error", "credentials"}}), -1)
      << "a request found no usable credentials";
  EXPECT_GE(source.issued(), 3u);
  EXPECT_EQ(kinesis.accepted().size(), 10000u);
}

}  // namespace
}  // namespace kinship::kinesis
