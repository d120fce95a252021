#pragma once
// KinesisSink: delivers a pipeline's records to a Kinesis data stream with
// PutRecords.
//
// Records taken from the queue are routed to the shard that will receive
// them (MD5 of the partition key against the hash-key ranges ListShards
// reports) and wait in that shard's line. Requests are filled from the shards
// whose token buckets allow it (ShardPacer), so a hot or throttled shard
// never holds back the others, and sent when full (max_batch_records,
// max_batch_bytes of data plus keys) or when the oldest record has lingered;
// up to max_in_flight requests run at once. Only the records an answer marks
// as failed are retried, first in their shard's line, after their own
// exponential backoff with full jitter; nothing is dropped because retries
// ran out. Errors that retrying cannot fix pause sending (the data stays),
// turn notReadyReason() non-empty, and are probed at retry_backoff_max until
// a request succeeds. A record too large for the stream is dropped and
// counted.
//
// Threading: one sender thread between start() and stop(); notReadyReason()
// may be called from any thread.

#include <condition_variable>
#include <functional>
#include <deque>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "aws/credentials_provider.h"
#include "aws/http_transport.h"
#include "aws/sigv4.h"
#include "common/ring_queue.h"
#include "pipeline/batch_queue.h"
#include "sinks/kinesis/backoff.h"
#include "sinks/kinesis/dead_letter_file.h"
#include "sinks/kinesis/kinesis_errors.h"
#include "sinks/kinesis/hash_key.h"
#include "sinks/kinesis/kinesis_config.h"
#include "sinks/kinesis/put_records_encoder.h"
#include "sinks/kinesis/put_records_response.h"
#include "sinks/kinesis/shard_map.h"
#include "sinks/kinesis/shard_pacer.h"
#include "sinks/sink.h"

namespace prometheus {
class Counter;
class Gauge;
class Histogram;
template <typename T>
class Family;
}  // namespace prometheus

namespace kinship::kinesis {

class KinesisSink final : public sinks::Sink {
 public:
  // What start() needs from outside, kept out of construction so that
  // building a sink (also for --check-config) touches no network.
  // Makes the credentials provider once the region is known.
  using CredentialsFactory =
      std::function<std::unique_ptr<aws::CredentialsProvider>(const aws::CredentialsOptions& options)>;
  // The instance metadata service's region, for a config that has none.
  using RegionLookup = std::function<Result<std::string>()>;

  KinesisSink(const sinks::SinkContext& context, KinesisConfig config, CredentialsFactory credentials,
              RegionLookup regionLookup = {});
  // With a provider already made (tests, a region in the config).
  KinesisSink(const sinks::SinkContext& context, KinesisConfig config,
              std::unique_ptr<aws::CredentialsProvider> credentials);
  ~KinesisSink() override;

  // Asks the metadata service for the region when the config has none (a
  // failure fails the start, with the reason), makes and starts the
  // credentials provider (a failure there only pauses sending: the
  // provider keeps trying), opens the dead-letter file, if configured
  // (fails when it cannot), and starts the sending thread.

  Status start() override;
  void stop(std::chrono::steady_clock::time_point deadline) override;
  const Heartbeat* heartbeat() const override { return &heartbeat_; }
  std::string notReadyReason() const override;

 private:
  struct Pending {
    pipeline::RecordBatch* batch;
    uint32_t index;
    uint32_t bytes;  // data plus partition key: kept here so that sending
                     // and answers need not touch the batch's index again
    uint64_t seq;    // admission order, kept across retries
    uint16_t attempts;
    Clock::TimePoint arrival;
    Clock::TimePoint notBefore;
  };
  struct ShardLine {
    std::string shardId;  // empty for the single unpaced line
    RingQueue<Pending> records;  // new records, in the order read
    // Records to send again, each after its own backoff; they do not hold
    // back the new records behind them.
    RingQueue<Pending> retries;
    size_t bytes = 0;
    std::unique_ptr<ShardPacer> pacer;  // null when unpaced
    prometheus::Counter* throttled = nullptr;
  };
  struct Slot {
    aws::HttpRequest http;
    PutRecordsEncoder encoder;
    std::vector<std::pair<Pending, uint32_t>> records;  // with their shard line
    bool listShards = false;
    bool inFlight = false;
    // Why the request could not be signed (no usable credentials); it was
    // then never sent.
    Status signError;
    uint64_t mapGeneration = 0;
    std::string listShardsBody;
    Slot(std::string_view streamField, std::string_view streamValue, WireProtocol protocol)
        : encoder(streamField, streamValue, protocol) {}
  };

  void run();
  void admit(pipeline::BatchPtr batch);
  bool canAdmit() const;
  void route(const Pending& p);
  uint32_t lineFor(const Pending& p);
  bool sendReady(Clock::TimePoint now);
  Clock::TimePoint nextEvent(Clock::TimePoint now);
  void startListShards(const std::string& nextToken);
  void sign(Slot& slot, std::string_view target, WireProtocol protocol);
  void complete(Slot& slot);
  void completePutRecords(Slot& slot);
  void completeListShards(Slot& slot);
  void requeue(Slot& slot);
  void putBackForRetry(const Pending& p, uint32_t line);
  void acknowledge(const Pending& record);
  // Tells the record's source that this one record is done (see
  // AckReceiver::recordDone); settleRecords() then lets every source told
  // so make it durable, once per turn, before more requests go out.
  void recordDone(const pipeline::RecordBatch& batch, uint32_t index);
  void settleRecords();
  // Releases the record's key for ordering: per_key (accepted or given up).
  void releaseKey(const Pending& record);
  uint64_t keyIdentity(const Pending& record) const;
  // kTaken, kSkipped (the key is busy), kRequestFull (stop filling), or
  // kShardOutOfTokens (go on with the next line).
  enum class TakeOutcome { kTaken, kSkipped, kRequestFull, kShardOutOfTokens };
  TakeOutcome take(Slot& slot, uint32_t li, const Pending& p, bool retry, Clock::TimePoint now, size_t& bytes);
  // Fills the slot with one line's due retries, then (under per_key
  // ordering) its new records; returns true when the request is full.
  bool takeFromLine(Slot& slot, uint32_t li, Clock::TimePoint now, size_t& bytes, bool newRecords);
  // Fills the slot with new records of every line in the order they were
  // admitted, skipping lines out of tokens; returns true when it is full.
  bool takeInAdmissionOrder(Slot& slot, Clock::TimePoint now, size_t& bytes);
  void applyShardMap(ShardMap map);
  void onRequestFailed(const ErrorClass& error, const std::string& detail);
  // Splits a request refused as invalid or too large in two; a single record
  // becomes a dead letter.
  void bisect(Slot& slot, const ErrorClass& error, const std::string& detail);
  void deadLetter(const Pending& p, std::string_view reason, std::string_view detail);
  void onRequestSucceeded();
  size_t recordBytes(const Pending& p) const;
  void sleepUntil(Clock::TimePoint until);

  sinks::SinkContext context_;
  KinesisConfig config_;
  CredentialsFactory makeCredentials_;
  RegionLookup regionLookup_;
  std::unique_ptr<aws::CredentialsProvider> credentials_;
  std::string url_;
  std::string host_;
  std::string streamField_;
  std::string streamValue_;
  aws::SigV4Signer signer_;
  PutRecordsResponse response_;
  std::unique_ptr<aws::HttpTransport> transport_;
  std::vector<std::unique_ptr<Slot>> slots_;  // PutRecords requests
  std::vector<Slot*> freeSlots_;
  std::unique_ptr<Slot> listSlot_;  // ListShards, one page at a time
  std::vector<aws::HttpRequest*> completed_;

  PartitionKeyHasher hasher_;
  ShardMap shardMap_;
  std::vector<ShardLine> lines_;
  size_t nextLine_ = 0;  // round-robin start for retries
  uint64_t nextSeq_ = 0;
  // Lines by the admission order of their oldest new record, while a
  // request is filled; kept to reuse its memory.
  std::vector<std::pair<uint64_t, uint32_t>> lineFronts_;
  // Halves of requests refused as invalid, sent as they are (before the
  // shard lines) until the bad records are isolated.
  std::deque<std::vector<std::pair<Pending, uint32_t>>> bisectGroups_;
  // ordering: per_key — keys (by a 64-bit hash; a collision only serializes
  // two keys) with a record in flight or waiting to be retried.
  std::unordered_map<uint64_t, uint32_t> busyKeys_;
  size_t pendingRecords_ = 0;
  size_t pendingBytes_ = 0;
  std::vector<pipeline::BatchPtr> held_;
  // Sources told of single records since the last settleRecords().
  std::vector<std::shared_ptr<pipeline::AckReceiver>> unsettled_;
  std::vector<ShardRange> listedShards_;
  bool listingShards_ = false;
  Clock::TimePoint nextShardRefresh_{};
  bool warnedNoListShards_ = false;
  uint64_t mapGeneration_ = 0;
  // Under pacing, requests not filled to the limits start at most once per
  // burst period, so each carries what the buckets refilled meanwhile.
  std::chrono::milliseconds minSendInterval_{0};
  Clock::TimePoint lastSendStart_{};
  bool lastRequestFull_ = false;
  bool stoppingSnapshot_ = false;

  // Applied to all sends only after several request failures in a row (an
  // outage), so that scattered failures do not stall healthy traffic.
  Backoff requestBackoff_;
  Clock::TimePoint sendNotBefore_{};
  std::minstd_rand rng_{std::random_device{}()};

  Heartbeat heartbeat_;
  std::thread thread_;
  std::mutex stopMutex_;
  std::condition_variable stopSignal_;
  bool stopping_ = false;
  Clock::TimePoint stopDeadline_{};

  mutable std::mutex stateMutex_;
  std::string notReadyReason_;
  std::string lastErrorType_;

  prometheus::Registry& registry_;
  prometheus::Counter* recordsSent_;
  prometheus::Counter* bytesSent_;
  prometheus::Counter* failedByError_[4] = {};  // by RecordError
  prometheus::Counter* recordsRetried_;
  prometheus::Counter* requestsOk_;
  prometheus::Counter* requestsPartial_;
  prometheus::Counter* requestsError_;
  prometheus::Family<prometheus::Counter>* requestErrors_;
  prometheus::Family<prometheus::Counter>* throttledByShard_;
  prometheus::Counter* droppedTooLarge_;
  prometheus::Counter* droppedShutdown_;
  prometheus::Counter* droppedInvalid_;
  prometheus::Counter* droppedDeadLetterFailed_;
  prometheus::Family<prometheus::Counter>* deadLetters_;
  std::unique_ptr<DeadLetterFile> deadLetterFile_;
  prometheus::Histogram* requestSeconds_;
  prometheus::Histogram* recordsPerRequest_;
  prometheus::Histogram* bytesPerRequest_;
  prometheus::Histogram* waitSeconds_;
  prometheus::Gauge* pendingGauge_;
  prometheus::Gauge* inFlightGauge_;
  prometheus::Gauge* shardsGauge_;
  prometheus::Gauge* stateGauge_;
};

}  // namespace kinship::kinesis
