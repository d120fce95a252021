#include "aws/refresh_schedule.h"

#include <gtest/gtest.h>

namespace kinship::aws {
namespace {

using namespace std::chrono_literals;

const WallTime kT0{std::chrono::seconds(1'700'000'000)};

TEST(RefreshSchedule, LongTermKeysAreNeverRefreshed) {
  EXPECT_FALSE(refreshTimeAfterSuccess(kT0, std::nullopt, RefreshPolicy{}, 0.5).has_value());
}

TEST(RefreshSchedule, AnHourLongCredentialIsRefreshedFiveMinutesEarlyPlusJitter) {
  RefreshPolicy policy;
  EXPECT_EQ(*refreshTimeAfterSuccess(kT0, kT0 + 1h, policy, 0.0), kT0 + 55min);
  // The jitter moves it earlier by at most a fifth of the margin (one minute).
  EXPECT_EQ(*refreshTimeAfterSuccess(kT0, kT0 + 1h, policy, 0.5), kT0 + 55min - 30s);
  EXPECT_GT(*refreshTimeAfterSuccess(kT0, kT0 + 1h, policy, 0.999), kT0 + 54min);
}

TEST(RefreshSchedule, ShortLivedCredentialsAreRefreshedAfterHalfTheirLifetime) {
  RefreshPolicy policy;
  EXPECT_EQ(*refreshTimeAfterSuccess(kT0, kT0 + 60s, policy, 0.0), kT0 + 30s);
  EXPECT_GE(*refreshTimeAfterSuccess(kT0, kT0 + 60s, policy, 0.999), kT0 + 24s);
  // Already expired: at once.
  EXPECT_EQ(*refreshTimeAfterSuccess(kT0, kT0 - 5s, policy, 0.5), kT0 - 5s);
}

TEST(RefreshSchedule, FailuresBackOffExponentiallyUpToTheMaximum) {
  RefreshPolicy policy;  // 1 s doubling to 60 s
  EXPECT_EQ(retryTimeAfterFailure(kT0, 1, std::nullopt, policy, 0.999999), kT0 + 999ms);
  EXPECT_EQ(retryTimeAfterFailure(kT0, 1, std::nullopt, policy, 0.0), kT0 + 500ms);
  EXPECT_EQ(retryTimeAfterFailure(kT0, 3, std::nullopt, policy, 0.0), kT0 + 2s);
  EXPECT_EQ(retryTimeAfterFailure(kT0, 30, std::nullopt, policy, 0.0), kT0 + 30s);
  EXPECT_LE(retryTimeAfterFailure(kT0, 1000, std::nullopt, policy, 0.999999), kT0 + 60s);
}

TEST(RefreshSchedule, RetriesComeSoonerWhenTheCurrentCredentialsRunOut) {
  RefreshPolicy policy;
  // 20 s left: no retry later than 10 s from now, however many failures.
  EXPECT_EQ(retryTimeAfterFailure(kT0, 30, kT0 + 20s, policy, 0.999999), kT0 + 10s);
  // Nearly expired: still no faster than minBackoff.
  EXPECT_EQ(retryTimeAfterFailure(kT0, 30, kT0 + 1s, policy, 0.999999), kT0 + 1s);
}

}  // namespace
}  // namespace kinship::aws
