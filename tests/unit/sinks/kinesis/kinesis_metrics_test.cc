// KinesisSinkMetrics: every kinship_sink_* series registered with its
// pipeline label, and the labelled ones made on demand.

#include "sinks/kinesis/kinesis_metrics.h"

#include <gtest/gtest.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <set>
#include <string>

#include "tests/support/metrics_reader.h"

namespace kinship::kinesis {
namespace {

using kinship::testing::metricValue;

TEST(KinesisSinkMetrics, RegistersEverySeriesOfThePipeline) {
  prometheus::Registry registry;
  KinesisSinkMetrics metrics(registry, "app");
  std::set<std::string> names;
  for (const auto& family : registry.Collect()) names.insert(family.name);
  for (const char* name :
       {"kinship_sink_records_sent_total", "kinship_sink_bytes_sent_total", "kinship_sink_records_failed_total",
        "kinship_sink_records_retried_total", "kinship_sink_requests_total", "kinship_sink_records_dropped_total",
        "kinship_sink_dead_letter_errors_total", "kinship_sink_request_duration_seconds",
        "kinship_sink_request_records", "kinship_sink_request_bytes", "kinship_sink_wait_seconds",
        "kinship_sink_pending_records", "kinship_sink_requests_in_flight", "kinship_sink_shards",
        "kinship_sink_state"}) {
    EXPECT_TRUE(names.contains(name)) << name;
    EXPECT_EQ(metricValue(registry, name, {{"pipeline", "app"}}), 0) << name;
  }
}

TEST(KinesisSinkMetrics, LabelledSeriesAreMadeWhenFirstCounted) {
  prometheus::Registry registry;
  KinesisSinkMetrics metrics(registry, "app");
  EXPECT_EQ(metricValue(registry, "kinship_sink_request_errors_total", {{"error", "AccessDeniedException"}}), -1);
  metrics.requestError("AccessDeniedException");
  metrics.requestError("AccessDeniedException");
  EXPECT_EQ(metricValue(registry, "kinship_sink_request_errors_total",
                        {{"pipeline", "app"}, {"error", "AccessDeniedException"}}),
            2);
  metrics.deadLetter("too_large");
  EXPECT_EQ(metricValue(registry, "kinship_sink_dead_letters_total", {{"reason", "too_large"}}), 1);
  metrics.throttledOn("shardId-000000000001")->Increment();
  EXPECT_EQ(metricValue(registry, "kinship_sink_throttled_records_total", {{"shard", "shardId-000000000001"}}), 1);
}

TEST(KinesisSinkMetrics, FailedRecordsAreCountedByTheirErrorCode) {
  prometheus::Registry registry;
  KinesisSinkMetrics metrics(registry, "app");
  metrics.failed(RecordError::kThrottled)->Increment();
  metrics.failed(RecordError::kInternalFailure)->Increment(2);
  metrics.failed(RecordError::kOther)->Increment(3);
  auto failed = [&](const char* code) {
    return metricValue(registry, "kinship_sink_records_failed_total", {{"error_code", code}});
  };
  EXPECT_EQ(failed("ProvisionedThroughputExceededException"), 1);
  EXPECT_EQ(failed("InternalFailure"), 2);
  EXPECT_EQ(failed("other"), 3);
}

}  // namespace
}  // namespace kinship::kinesis
