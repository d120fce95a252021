#pragma once
// FakeOptions and Stats: the fake Kinesis endpoint's configuration and its
// counters. Plain values, copied freely.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "common/clock.h"
#include "tests/support/fake_kinesis/faults.h"
#include "tests/support/fake_kinesis/hash_key.h"

namespace kinship::fake {

struct StreamSpec {
  std::string name;
  int shardCount = 1;
  // Starting hash keys of shards 1..n-1 (see hash_key.h); empty: AWS's even
  // layout. unevenSplits(n) gives 10/20/30/40% for 4 shards.
  std::vector<HashKey> splits;
};

struct FakeOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0: an ephemeral port, see FakeKinesis::port()
  int threads = 1;    // threads running the io_context

  // Streams that exist at start (and again after reset()).
  std::vector<StreamSpec> streams;

  // Per-shard write limits over a sliding one-second window; 0: no limit.
  uint64_t recordsPerSecond = 1000;
  uint64_t bytesPerSecond = 1024 * 1024;    // data + partition key
  size_t maxRecordSize = 1024 * 1024;       // data + partition key
  size_t maxRequestSize = 5 * 1024 * 1024;  // sum of data + keys in a PutRecords
  size_t maxBodySize = 8 * 1024 * 1024;     // HTTP body; larger gets 413

  Faults faults;      // at start (and again after reset())
  uint64_t seed = 1;  // the fault RNG's seed (Faults::seed overrides it)

  // Time for the throughput windows and stream timestamps; tests inject a
  // manual clock so windows slide without sleeping. Null: the system clock.
  // Must outlive the fake.
  const Clock* clock = nullptr;

  // Records kept in memory for records(); later ones are only counted (and
  // written to recordLogPath).
  size_t maxStoredRecords = std::numeric_limits<size_t>::max();
  std::string recordLogPath;  // every accepted record as a JSON line; empty: none
  bool trackDuplicates = true;
  // When set, each accepted record whose data holds `"<latencyField>":<unix
  // ns>` adds (wall clock now - that stamp) to Stats::latency: the end-to-end
  // latency of a benchmark's lines (see latency_stamp.h). Empty: off.
  std::string latencyField;

  bool requireAuthorization = true;
  std::string region = "us-east-1";
  std::string accountId = "123456789012";
  std::chrono::milliseconds idleTimeout{std::chrono::minutes(2)};
  // HTTPS with this PEM certificate chain and key (both or neither); empty:
  // plain HTTP.
  std::string tlsCertificateFile;
  std::string tlsKeyFile;
};

// Counts keyed by name; std::less<> so lookups by string_view do not allocate.
using Counts = std::map<std::string, uint64_t, std::less<>>;

struct ShardStats {
  std::string stream;
  std::string shardId;
  uint64_t accepted = 0;   // records
  uint64_t bytes = 0;      // data + key of those records
  uint64_t throttled = 0;  // records refused by this shard's limits
};

// End-to-end latency of stamped records (FakeOptions::latencyField), from
// LatencyHistogram: quantiles are bucket bounds, at most 1/32 above the truth.
struct LatencyStats {
  uint64_t count = 0;   // accepted records that carried a stamp
  uint64_t future = 0;  // of those, stamped later than accepted (clock skew), counted as 0
  uint64_t p50Nanos = 0;
  uint64_t p90Nanos = 0;
  uint64_t p99Nanos = 0;
  uint64_t p999Nanos = 0;
  uint64_t maxNanos = 0;
  uint64_t meanNanos = 0;
};

struct Stats {
  uint64_t requests = 0;  // Kinesis API requests (not control requests)
  // "ok", "partial" (some records failed), "dropped", "droppedAfterProcessing",
  // or the error's __type ("ValidationException", "PayloadTooLarge", ...).
  Counts requestsByOutcome;
  Counts requestsByOperation;
  uint64_t recordsAccepted = 0;
  uint64_t bytesAccepted = 0;
  // Records refused by a shard's records/s or bytes/s limit (not injected).
  uint64_t recordsThrottled = 0;
  // Every per-record failure by ErrorCode, limits and injected faults alike.
  Counts recordsFailed;
  // Accepted records whose (partition key, data) pair had been accepted before.
  uint64_t duplicates = 0;
  uint64_t recordsStored = 0;      // kept in memory for records()
  std::vector<ShardStats> shards;  // current streams, in name then shard order
  LatencyStats latency;            // all zero unless FakeOptions::latencyField is set

  uint64_t outcome(std::string_view name) const {
    auto it = requestsByOutcome.find(name);
    return it == requestsByOutcome.end() ? 0 : it->second;
  }
  uint64_t failed(std::string_view code) const {
    auto it = recordsFailed.find(code);
    return it == recordsFailed.end() ? 0 : it->second;
  }
  std::string toJson() const;
};

}  // namespace kinship::fake
