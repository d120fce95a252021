#pragma once
// KinesisService: the fake's model of Kinesis Data Streams, in memory. It
// answers the API operations (PutRecords, PutRecord, ListShards,
// DescribeStreamSummary, DescribeStream, CreateStream, DeleteStream) and the
// control API under /_fake/, enforcing per-shard limits, injecting faults,
// logging accepted records and counting everything.
//
// Threading: handle() and every other member are thread-safe. A request is
// parsed, validated and hashed outside the lock; one short critical section
// routes its records, applies the limits, assigns sequence numbers and logs.

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "tests/support/fake_kinesis/http_server.h"
#include "tests/support/fake_kinesis/latency_histogram.h"
#include "tests/support/fake_kinesis/latency_stamp.h"
#include "tests/support/fake_kinesis/options.h"
#include "tests/support/fake_kinesis/record_log.h"

namespace kinship::fake {

// The protocol a request speaks, and so its answer: JSON for every
// operation, CBOR for PutRecords and PutRecord.
enum class Protocol : uint8_t { kJson, kCbor };

class KinesisService {
 public:
  explicit KinesisService(FakeOptions options);
  ~KinesisService();
  KinesisService(const KinesisService&) = delete;
  KinesisService& operator=(const KinesisService&) = delete;

  // Opens the record log file and creates the configured streams.
  Status start();

  // The HTTP handler.
  void handle(const HttpRequest& request, HttpReply& reply);

  Stats stats() const;
  std::vector<StoredRecord> records(size_t from, size_t limit) const;
  Faults faults() const;
  // Replaces the faults; the schedule counts requests from here.
  void setFaults(Faults faults);
  void setLimits(uint64_t recordsPerSecond, uint64_t bytesPerSecond);
  Status createStream(const StreamSpec& spec);
  Status deleteStream(std::string_view name);
  std::string streamArn(std::string_view name) const;
  // Back to the state at start: configured streams, limits and faults;
  // counters, windows and the record log cleared.
  void reset();
  void flush();

  const FakeOptions& options() const { return options_; }

 private:
  struct Stream;
  struct Shard;

  void handleControl(const HttpRequest& request, HttpReply& reply);
  // The operations. Each fills in the reply and returns the outcome for the
  // stats ("ok", "partial" or an error's __type).
  std::string_view putRecords(const HttpRequest& request, HttpReply& reply, FaultDecision& faults);
  std::string_view putRecord(const HttpRequest& request, HttpReply& reply, FaultDecision& faults);
  std::string_view listShards(const HttpRequest& request, HttpReply& reply, FaultDecision& faults);
  std::string_view describeStreamSummary(const HttpRequest& request, HttpReply& reply, FaultDecision& faults);
  std::string_view describeStream(const HttpRequest& request, HttpReply& reply, FaultDecision& faults);
  std::string_view createStreamOp(const HttpRequest& request, HttpReply& reply, FaultDecision& faults);
  std::string_view deleteStreamOp(const HttpRequest& request, HttpReply& reply, FaultDecision& faults);

  // Routes, limits, sequences and logs the records this thread's scratch
  // holds (parsed and validated by putRecords / putRecord), then writes the
  // answer. Takes mutex_.
  std::string_view commit(std::string_view stream, bool arnMatches, const FaultDecision& faults, HttpReply& reply,
                          bool batch, Protocol protocol);
  // Callers hold mutex_.
  Status createStreamLocked(const StreamSpec& spec);
  Stream* findLocked(std::string_view name);
  void resetLocked();
  void appendShardJson(std::string& out, const Stream& stream, size_t index) const;

  FakeOptions options_;
  const Clock* clock_;
  const StampFinder stamps_;
  mutable std::mutex mutex_;
  // Everything below is guarded by mutex_.
  std::vector<std::unique_ptr<Stream>> streams_;  // sorted by name
  uint64_t generation_ = 0;
  uint64_t recordsPerSecond_;
  uint64_t bytesPerSecond_;
  FaultInjector injector_;
  RecordLog log_;
  FingerprintSet fingerprints_;
  Stats counters_;  // without shards, recordsStored and latency, which are derived
  LatencyHistogram latency_;
};

}  // namespace kinship::fake
