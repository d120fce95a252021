// SinkHealth: kinship_sink_state, /readyz's reason while paused, and ready
// again after an answer record by record.

#include "sinks/kinesis/sink_health.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include "sinks/kinesis/kinesis_metrics.h"
#include "tests/support/metrics_reader.h"

namespace kinship::kinesis {
namespace {

using namespace std::chrono_literals;
using kinship::testing::metricValue;

class SinkHealthTest : public ::testing::Test {
 protected:
  double state() { return metricValue(registry_, "kinship_sink_state"); }

  prometheus::Registry registry_;
  KinesisSinkMetrics metrics_{registry_, "app"};
  SinkHealth health_{"app", metrics_.state};
};

TEST_F(SinkHealthTest, AFailureTimeFixesIsRetryingAndStillReady) {
  Answer answer{Answer::Kind::kFailed, {ErrorAction::kRetry, "InternalFailure"}, "HTTP 500: boom", nullptr};
  health_.failed({SendVerdict::Health::kRetrying, 0ms, false}, answer, "http://k/", 3);
  EXPECT_EQ(state(), 1);
  EXPECT_EQ(health_.notReadyReason(), "");
}

TEST_F(SinkHealthTest, APauseIsNotReadyNamingTheErrorButNotTheEndpointsWords) {
  Answer answer{Answer::Kind::kFailed, {ErrorAction::kPause, "AccessDeniedException"}, "HTTP 400: {...}", nullptr};
  health_.failed({SendVerdict::Health::kPaused, 10s, false}, answer, "http://k/", 3);
  EXPECT_EQ(state(), 2);
  EXPECT_EQ(health_.notReadyReason(), "kinesis sink of pipeline app: AccessDeniedException");
}

TEST_F(SinkHealthTest, NoCredentialsIsNotReadyNamingTheProviderAndItsError) {
  health_.failed({SendVerdict::Health::kPaused, 10s, false}, notSent(Status::unavailable("credentials from profile: none")),
                 "http://k/", 3);
  EXPECT_EQ(health_.notReadyReason(), "kinesis sink of pipeline app: credentials: credentials from profile: none");
}

TEST_F(SinkHealthTest, AnAnswerRecordByRecordMakesItReadyAgain) {
  Answer answer{Answer::Kind::kFailed, {ErrorAction::kPause, "AccessDeniedException"}, "", nullptr};
  health_.failed({SendVerdict::Health::kPaused, 10s, false}, answer, "http://k/", 3);
  health_.succeeded("http://k/");
  EXPECT_EQ(state(), 0);
  EXPECT_EQ(health_.notReadyReason(), "");
}

}  // namespace
}  // namespace kinship::kinesis
