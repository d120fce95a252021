#pragma once
// KinesisSink: delivers a pipeline's records to a Kinesis data stream with
// PutRecords. A thin loop that wires the sink's stages, each with one job
// (docs/ARCHITECTURE.md, "The Kinesis sink's stages"):
//
//   queue -> ShardRouter (admission, routing to shard lines, per_key busy
//            keys; each shard paced by its ShardPacer; with aggregation:
//            kpl, KplPacker packs each shard's records into aggregates)
//         -> RequestBuilder (encoder + the 500-record / 5 MiB / record-size
//            limits)
//         -> RequestSender (SigV4, the HttpTransport)
//         -> RetryPolicy (answer -> each record's fate: accepted, retry
//            after a delay, throttled, split, dead letter, paused)
//         -> RecordAcks (record done, settle, batch acknowledged)
//   ConcurrencyController says how many requests may be in flight;
//   ShardLister keeps the shard map current; SinkHealth says what /readyz
//   and kinship_sink_state say; KinesisSinkMetrics holds the
//   kinship_sink_* series.
//
// Requests are sent when full (max_batch_records, max_batch_bytes of data
// plus keys) or when the oldest record has lingered; as many run at once as
// the ConcurrencyController allows (at most max_in_flight) while their
// bodies stay under max_in_flight_bytes. Only the records an answer marks as failed are retried,
// after their own backoff; nothing is dropped because retries ran out.
// Errors that retrying cannot fix pause sending (the data stays), turn
// notReadyReason() non-empty, and are probed at retry_backoff_max until a
// request succeeds. A record too large for the stream is a dead letter.
//
// Each turn of the loop: read the answers that arrived, admit batches, settle
// the records done (RecordAcks::settle: after the answers, before freed
// request slots send again), list shards if due, send what is due. Between
// turns the thread waits for an answer, a batch, or the next instant
// something is due (a linger, a backoff, a shard's tokens).
//
// At the first turn, unless max_record_size is set, the stream's record
// size is asked (StreamDescriber); admission waits for the answer, at most
// 2 s.
//
// Threading: one sender thread between start() and stop(); notReadyReason()
// may be called from any thread. Tests may instead drive the loop on their
// own thread with open() and turn() (no thread is started then).

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "aws/credentials_provider.h"
#include "aws/http_transport.h"
#include "pipeline/batch_queue.h"
#include "sinks/kinesis/concurrency_controller.h"
#include "sinks/kinesis/dead_letter_file.h"
#include "sinks/kinesis/kinesis_config.h"
#include "sinks/kinesis/kinesis_metrics.h"
#include "sinks/kinesis/put_records_response.h"
#include "sinks/kinesis/record_acks.h"
#include "sinks/kinesis/request_builder.h"
#include "sinks/kinesis/request_sender.h"
#include "sinks/kinesis/retry_policy.h"
#include "sinks/kinesis/shard_lister.h"
#include "sinks/kinesis/shard_router.h"
#include "sinks/kinesis/sink_health.h"
#include "sinks/kinesis/stream_describer.h"
#include "sinks/sink.h"

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
  // Makes the transport at start: the libcurl one when empty.
  using TransportFactory = std::function<std::unique_ptr<aws::HttpTransport>(const aws::HttpOptions& options)>;

  KinesisSink(const sinks::SinkContext& context, KinesisConfig config, CredentialsFactory credentials,
              RegionLookup regionLookup = {}, TransportFactory transport = {});
  // With a provider already made (tests, a region in the config).
  KinesisSink(const sinks::SinkContext& context, KinesisConfig config,
              std::unique_ptr<aws::CredentialsProvider> credentials, TransportFactory transport = {});
  ~KinesisSink() override;

  // open(), then the sending thread.
  Status start() override;
  void stop(std::chrono::steady_clock::time_point deadline) override;
  const Heartbeat* heartbeat() const override { return &heartbeat_; }
  std::string notReadyReason() const override { return health_.notReadyReason(); }

  // What start() does but start the thread: asks the metadata service for
  // the region when the config has none (a failure fails, with the reason),
  // makes and starts the credentials provider (a failure there only pauses
  // sending: the provider keeps trying), opens the dead-letter file, if
  // configured (fails when it cannot), and makes the transport.
  Status open();
  // One turn of the loop on the caller's thread; never waits. Returns false
  // once the loop has ended: stop() was called and everything is
  // delivered, or its deadline passed (then what is undelivered is counted).
  // For tests on a manual clock, after open() instead of start().
  bool turn();
  // When the loop next has something to do, as of the last turn(): the
  // thread waits until then unless an answer or a batch comes first.
  Clock::TimePoint wakeAt() const { return wakeAt_; }

 private:
  // One PutRecords request slot: reused, so its buffers are too.
  struct Request {
    explicit Request(RequestBuilder b) : builder(std::move(b)) {}
    aws::HttpRequest http;
    RequestBuilder builder;
    std::vector<TakenRecord> records;
    uint64_t generation = 0;  // the router's shard map it was filled under
    Clock::TimePoint sentAt{};
    bool inFlight = false;
  };

  void run();
  void waitForWork();
  void sleepUntil(Clock::TimePoint until);
  void admit(pipeline::BatchPtr batch, Clock::TimePoint now);
  bool canAdmit() const;
  // Admits batches from the queue while canAdmit(); true if it stopped
  // there (not for want of batches).
  bool admitFromQueue(Clock::TimePoint now);
  bool sendReady(Clock::TimePoint now);
  Clock::TimePoint nextEvent(Clock::TimePoint now);
  void completed(aws::HttpRequest* http, Clock::TimePoint now);
  // What an answer says of the endpoint's load, for the ConcurrencyController;
  // empty when it says nothing (refused as invalid, access denied).
  static std::optional<ConcurrencyController::Signal> loadSignal(const Answer& answer, size_t records);
  size_t requestsInFlight() const { return requests_.size() - freeRequests_.size(); }
  // Applies `answer` to each record of the request and to sending as a whole.
  void complete(Request& request, const Answer& answer, Clock::TimePoint now);
  void startListShards(Clock::TimePoint now);
  void sendListPage(Clock::TimePoint now);
  void onListStep(ShardLister::Step step, Clock::TimePoint now);
  void applyShardMap(ShardMap map, Clock::TimePoint now);
  void startDescribe();
  void applyRecordSize(size_t bytes);
  void deadLetter(const PendingRecord& p, std::string_view reason, std::string_view detail);
  void finish();

  sinks::SinkContext context_;
  KinesisConfig config_;
  CredentialsFactory makeCredentials_;
  RegionLookup regionLookup_;
  TransportFactory makeTransport_;
  std::unique_ptr<aws::CredentialsProvider> credentials_;
  std::unique_ptr<DeadLetterFile> deadLetterFile_;
  KinesisSinkMetrics metrics_;
  SinkHealth health_;
  RequestLimits limits_;  // the record size may come from the stream at start

  // The stages.
  ShardRouter router_;
  ShardLister lister_;
  RetryPolicy policy_;
  RequestSender sender_;
  RecordAcks acks_;
  ConcurrencyController concurrency_;
  PutRecordsResponse response_;

  // Made as the concurrency first needs them (each keeps its buffers), up
  // to max_in_flight.
  std::vector<std::unique_ptr<Request>> requests_;
  std::vector<Request*> freeRequests_;
  size_t bytesInFlight_ = 0;  // bodies of the requests in flight
  aws::HttpRequest listRequest_;  // ListShards, one page at a time
  bool listInFlight_ = false;
  // DescribeStreamSummary, once at start when max_record_size is unset.
  // Admission waits for its answer, at most kDescribeWait, so that no
  // record is taken for too large under a limit about to grow.
  StreamDescriber describer_;
  aws::HttpRequest describeRequest_;
  bool describeDue_ = false;
  bool describeInFlight_ = false;
  Clock::TimePoint admitWithoutDescribeAt_{};
  std::vector<aws::HttpRequest*> completed_;
  pipeline::BatchPtr waited_;  // popped while waiting; admitted at the next turn
  std::vector<prometheus::Counter*> throttledByLine_;  // by router line; null when unpaced

  // Under pacing, requests not filled to the limits start at most every
  // 10 ms (kPacedSendInterval); the interval is drawn from [half, all] of it
  // each time, so daemons sharing a stream do not send in step with
  // Kinesis's sliding second (one that sends at a fixed period keeps
  // finding the room its own records of a second ago left, and keeps a
  // larger share).
  std::chrono::milliseconds minSendInterval_{0};
  Clock::TimePoint::duration sendInterval_{0};
  std::minstd_rand sendJitter_{std::random_device{}()};
  Clock::TimePoint lastSendStart_{};
  bool lastRequestFull_ = false;
  // Every send waits until then (a pause, or an outage: RetryPolicy).
  Clock::TimePoint sendNotBefore_{};
  bool stoppingSnapshot_ = false;
  Clock::TimePoint wakeAt_{};
  bool ended_ = false;

  Heartbeat heartbeat_;
  std::thread thread_;
  std::mutex stopMutex_;
  std::condition_variable stopSignal_;
  bool stopping_ = false;
  Clock::TimePoint stopDeadline_{};
};

}  // namespace kinship::kinesis
