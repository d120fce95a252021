#pragma once
// The kinship_sink_* series of one Kinesis sink, declared in one list
// (kinesis_metrics.cc) with their help texts, apart from the sink's logic.
// The sink holds the handles and counts through them; label values that
// depend on data (a shard, an error type) are looked up once per request
// or shard map, never per record.
// Thread-safe as prometheus-cpp's handles are; used by the sink's thread.

#include <string>
#include <string_view>

#include "sinks/kinesis/put_records_response.h"

namespace prometheus {
class Registry;
class Counter;
class Gauge;
class Histogram;
template <typename T>
class Family;
}  // namespace prometheus

namespace kinship::kinesis {

struct KinesisSinkMetrics {
  KinesisSinkMetrics(prometheus::Registry& registry, const std::string& pipeline);

  // A request (PutRecords or ListShards) that failed as a whole, by its label.
  void requestError(std::string_view label);
  void deadLetter(std::string_view reason);
  prometheus::Counter* throttledOn(const std::string& shardId);
  prometheus::Counter* failed(RecordError error) { return failedByError[static_cast<size_t>(error)]; }

  std::string pipeline;
  prometheus::Counter* recordsSent;
  prometheus::Counter* bytesSent;
  // aggregation: kpl. recordsSent and bytesSent count user records; these
  // the Kinesis records that carried them.
  prometheus::Counter* kinesisRecordsSent;
  prometheus::Counter* aggregatedRecordsSent;
  prometheus::Histogram* aggregatedUserRecords;
  prometheus::Counter* failedByError[4] = {};  // by RecordError
  prometheus::Counter* recordsRetried;
  prometheus::Counter* requestsOk;
  prometheus::Counter* requestsPartial;
  prometheus::Counter* requestsError;
  prometheus::Family<prometheus::Counter>* requestErrors;
  prometheus::Family<prometheus::Counter>* throttledByShard;
  prometheus::Counter* droppedTooLarge;
  prometheus::Counter* droppedShutdown;
  prometheus::Counter* droppedInvalid;
  prometheus::Family<prometheus::Counter>* deadLetters;
  prometheus::Counter* deadLetterErrors;
  prometheus::Histogram* requestSeconds;
  prometheus::Histogram* recordsPerRequest;
  prometheus::Histogram* bytesPerRequest;
  prometheus::Histogram* waitSeconds;
  prometheus::Gauge* pendingRecords;
  prometheus::Gauge* requestsInFlight;
  prometheus::Gauge* concurrencyLimit;
  prometheus::Gauge* bytesInFlight;
  prometheus::Gauge* shards;
  prometheus::Gauge* state;  // SinkState
};

// kinship_sink_state's values.
enum class SinkState { kOk = 0, kRetrying = 1, kPaused = 2 };

}  // namespace kinship::kinesis
