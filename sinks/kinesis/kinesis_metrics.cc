#include "sinks/kinesis/kinesis_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace kinship::kinesis {

namespace {

using prometheus::Labels;
using Buckets = prometheus::Histogram::BucketBoundaries;

prometheus::Family<prometheus::Counter>& counters(prometheus::Registry& r, const char* name, const char* help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(r);
}
prometheus::Counter* counter(prometheus::Registry& r, const char* name, const char* help, const Labels& l) {
  return &counters(r, name, help).Add(l);
}
prometheus::Gauge* gauge(prometheus::Registry& r, const char* name, const char* help, const Labels& l) {
  return &prometheus::BuildGauge().Name(name).Help(help).Register(r).Add(l);
}
prometheus::Histogram* histogram(prometheus::Registry& r, const char* name, const char* help, const Labels& l,
                                 Buckets buckets) {
  return &prometheus::BuildHistogram().Name(name).Help(help).Register(r).Add(l, std::move(buckets));
}

}  // namespace

KinesisSinkMetrics::KinesisSinkMetrics(prometheus::Registry& r, const std::string& pipelineName)
    : pipeline(pipelineName) {
  const Labels l{{"pipeline", pipeline}};
  recordsSent = counter(r, "kinship_sink_records_sent_total",
                        "Records Kinesis accepted (with aggregation: kpl, each record inside an aggregated record)", l);
  bytesSent = counter(r, "kinship_sink_bytes_sent_total",
                      "Bytes of data and partition keys of the records Kinesis accepted (as records_sent counts them)",
                      l);
  kinesisRecordsSent = counter(r, "kinship_sink_kinesis_records_sent_total",
                               "Kinesis records accepted: an aggregated record counts once (without aggregation, "
                               "equal to kinship_sink_records_sent_total)",
                               l);
  aggregatedRecordsSent = counter(r, "kinship_sink_aggregated_records_total",
                                  "Aggregated records (aggregation: kpl) Kinesis accepted, each carrying two records "
                                  "or more",
                                  l);
  aggregatedUserRecords = histogram(r, "kinship_sink_aggregated_user_records",
                                    "Records per aggregated record Kinesis accepted (aggregation: kpl)", l,
                                    Buckets{2, 5, 10, 50, 100, 500, 1000, 5000, 10000, 65535});
  auto& recordsFailed =
      counters(r, "kinship_sink_records_failed_total",
               "Records a PutRecords answer marked as failed, by error_code "
               "(ProvisionedThroughputExceededException, InternalFailure, other); each is retried");
  for (RecordError e : {RecordError::kThrottled, RecordError::kInternalFailure, RecordError::kOther}) {
    failedByError[static_cast<size_t>(e)] =
        &recordsFailed.Add({{"pipeline", pipeline}, {"error_code", std::string(recordErrorLabel(e))}});
  }
  recordsRetried =
      counter(r, "kinship_sink_records_retried_total", "Records sent again after a failed record or a failed request", l);
  auto& requests = counters(r, "kinship_sink_requests_total",
                            "PutRecords requests by outcome: ok (every record accepted), partial (some records "
                            "failed), error (the request failed as a whole)");
  requestsOk = &requests.Add({{"pipeline", pipeline}, {"outcome", "ok"}});
  requestsPartial = &requests.Add({{"pipeline", pipeline}, {"outcome", "partial"}});
  requestsError = &requests.Add({{"pipeline", pipeline}, {"outcome", "error"}});
  requestErrors = &counters(r, "kinship_sink_request_errors_total",
                            "Kinesis requests (PutRecords, ListShards) that failed as a whole, by error: the AWS "
                            "error type, http_<status>, transport, bad_response or credentials");
  throttledByShard = &counters(r, "kinship_sink_throttled_records_total",
                               "Records refused with ProvisionedThroughputExceededException, by shard");
  auto& dropped = counters(r, "kinship_sink_records_dropped_total",
                           "Records never delivered to Kinesis, by reason: too_large (data plus key over "
                           "max_record_size), invalid (refused alone as invalid), shutdown (still undelivered "
                           "when shutdown_timeout ran out, in spool mode memory). too_large and invalid records "
                           "also go to the dead-letter file when one is configured");
  droppedTooLarge = &dropped.Add({{"pipeline", pipeline}, {"reason", "too_large"}});
  droppedShutdown = &dropped.Add({{"pipeline", pipeline}, {"reason", "shutdown"}});
  droppedInvalid = &dropped.Add({{"pipeline", pipeline}, {"reason", "invalid"}});
  deadLetters = &counters(r, "kinship_sink_dead_letters_total",
                          "Records written to the dead-letter file, by reason (too_large, invalid)");
  deadLetterErrors = counter(r, "kinship_sink_dead_letter_errors_total",
                             "Dead letters that could not be written: the file was full "
                             "(dead_letter_max_size) or a write failed",
                             l);
  requestSeconds = histogram(r, "kinship_sink_request_duration_seconds",
                             "Time from sending a PutRecords request to its answer", l,
                             Buckets{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30});
  recordsPerRequest = histogram(r, "kinship_sink_request_records", "Records per PutRecords request", l,
                                Buckets{1, 10, 50, 100, 200, 300, 400, 500});
  bytesPerRequest = histogram(r, "kinship_sink_request_bytes", "Bytes of data and partition keys per PutRecords request",
                              l, Buckets{1024, 16384, 65536, 262144, 1048576, 2097152, 4194304, 5242880});
  waitSeconds = histogram(r, "kinship_sink_wait_seconds",
                          "How long the oldest record of each PutRecords request waited in the sink before it "
                          "was sent: linger, per-shard pacing and retry backoff",
                          l, Buckets{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60});
  pendingRecords = gauge(r, "kinship_sink_pending_records",
                         "Records the sink holds, waiting to be sent or retried (not counting those in flight)", l);
  requestsInFlight = gauge(r, "kinship_sink_requests_in_flight", "PutRecords requests sent and not yet answered", l);
  concurrencyLimit = gauge(r, "kinship_sink_concurrency_limit",
                           "PutRecords requests that may be in flight now (concurrency: adaptive moves it up to "
                           "max_in_flight)",
                           l);
  bytesInFlight = gauge(r, "kinship_sink_bytes_in_flight", "Encoded PutRecords bodies sent and not yet answered", l);
  shards = gauge(r, "kinship_sink_shards", "Open shards the sink paces (0: no shard map, sending unpaced)", l);
  state = gauge(r, "kinship_sink_state",
                "0 ok, 1 retrying after request errors, 2 paused on an error that needs an operator "
                "(access denied, stream not found, bad credentials...)",
                l);
}

void KinesisSinkMetrics::requestError(std::string_view label) {
  requestErrors->Add({{"pipeline", pipeline}, {"error", std::string(label)}}).Increment();
}

void KinesisSinkMetrics::deadLetter(std::string_view reason) {
  deadLetters->Add({{"pipeline", pipeline}, {"reason", std::string(reason)}}).Increment();
}

prometheus::Counter* KinesisSinkMetrics::throttledOn(const std::string& shardId) {
  return &throttledByShard->Add({{"pipeline", pipeline}, {"shard", shardId}});
}

}  // namespace kinship::kinesis
