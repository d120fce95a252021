#pragma once
// The Kinesis sink's options: schema table and typed form.

#include <chrono>
#include <cstdint>
#include <string>

#include "aws/default_credentials.h"
#include "config/schema.h"
#include "sinks/kinesis/wire_protocol.h"

namespace kinship::kinesis {

// Kinesis limits (see the PutRecords API reference).
inline constexpr size_t kMaxRecordsPerRequest = 500;
inline constexpr size_t kMaxBytesPerRequest = 5 * 1024 * 1024;
inline constexpr size_t kDefaultMaxRecordSize = 1024 * 1024;

struct KinesisConfig {
  std::string stream;     // StreamName; empty when streamArn is used
  std::string streamArn;  // StreamARN; empty when stream is used
  std::string region;
  // No region was configured or found in the environment or the profile:
  // the sink asks the instance metadata service at start (applyRegion).
  bool regionFromInstanceMetadata = false;
  bool endpointConfigured = false;  // `endpoint` was set, not derived from the region
  std::string endpoint;  // full URL: scheme://host[:port]
  std::chrono::milliseconds linger{200};
  size_t maxBatchRecords = kMaxRecordsPerRequest;
  size_t maxBatchBytes = kMaxBytesPerRequest;
  size_t maxRecordSize = kDefaultMaxRecordSize;
  // max_record_size was set: the stream's own (DescribeStreamSummary) is not asked.
  bool maxRecordSizeSet = false;
  std::chrono::milliseconds connectTimeout{5000};
  std::chrono::milliseconds requestTimeout{30000};
  std::chrono::milliseconds retryBackoffMin{100};
  std::chrono::milliseconds retryBackoffMax{10000};
  std::string caFile;
  // Where the credentials come from (profile, role_arn, ...).
  aws::CredentialsOptions credentials;
  WireProtocol protocol = WireProtocol::kCbor;  // of PutRecords; ListShards is always JSON
  size_t maxInFlight = 64;
  bool adaptiveConcurrency = true;  // concurrency: adaptive (else fixed at maxInFlight)
  size_t maxInFlightBytes = 8 * 1024 * 1024;
  bool pacing = true;
  double shardRecordsPerSecond = 1000;
  double shardBytesPerSecond = 1024 * 1024;
  int shardCapacityPercent = 95;
  std::chrono::milliseconds shardRefreshInterval{5 * 60 * 1000};
  // per_key: records of one partition key reach the stream in the order
  // read, at the cost of one record per key per round trip.
  bool orderingPerKey = false;
  // aggregation: kpl (kpl_aggregator.h), with aggregated records of at most
  // aggregationMaxSize bytes of data plus key (0: the record size limit).
  bool aggregate = false;
  size_t aggregationMaxSize = 0;
  std::string deadLetterPath;  // empty: dead letters are only counted and logged
  uint64_t deadLetterMaxSize = 100 * 1024 * 1024;
};

config::Schema kinesisSinkSchema();
// Throws ConfigError for what the schema cannot check (stream vs stream_arn,
// a missing region, a malformed endpoint, a dead_letter_path whose directory
// does not exist). `env` supplies AWS_REGION.
KinesisConfig kinesisConfigFrom(const config::Section& section, const config::EnvLookup& env);

// "https://kinesis.<region>.amazonaws.com", or ".amazonaws.com.cn" for cn- regions.
std::string defaultEndpoint(const std::string& region);

// Sets a region found at start (from the instance metadata service), and
// the endpoint and STS region that derive from it.
Status applyRegion(KinesisConfig& config, std::string region);

}  // namespace kinship::kinesis
