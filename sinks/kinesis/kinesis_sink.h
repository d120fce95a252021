#pragma once
// KinesisSink: delivers a pipeline's records to a Kinesis data stream with
// PutRecords. Records are taken from the queue in batches, packed into
// requests of at most max_batch_records records and max_batch_bytes bytes
// (data + keys), and sent when a request is full or its oldest record has
// lingered long enough. Only the records a response marks as failed are
// retried, first in line, after an exponential backoff with full jitter;
// request-level failures retry the whole request. Nothing is dropped because
// retries ran out; a record too large for the stream is dropped and counted.
//
// Threading: one sender thread between start() and stop().

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "pipeline/batch_queue.h"
#include "sinks/kinesis/backoff.h"
#include "sinks/kinesis/credentials.h"
#include "sinks/kinesis/http_client.h"
#include "sinks/kinesis/kinesis_config.h"
#include "sinks/kinesis/put_records_encoder.h"
#include "sinks/kinesis/put_records_response.h"
#include "sinks/kinesis/sigv4.h"
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
  KinesisSink(const sinks::SinkContext& context, KinesisConfig config,
              std::unique_ptr<CredentialsProvider> credentials);
  ~KinesisSink() override;

  Status start() override;
  void stop(std::chrono::steady_clock::time_point deadline) override;
  std::string notReadyReason() const override;

 private:
  struct Pending {
    pipeline::RecordBatch* batch;
    uint32_t index;
    Clock::TimePoint arrival;
  };

  void run();
  void admit(pipeline::BatchPtr batch);
  bool canAdmit() const;
  void sendRequest();
  void acknowledge(const Pending& record);
  void requeueFront(const std::vector<Pending>& records);
  void onRequestFailed(const std::string& errorType, const std::string& detail, bool needsOperator);
  void onRequestSucceeded();
  // Waits until `until`, or less when stop() is called; returns early on stop.
  void sleepUntil(Clock::TimePoint until);
  size_t pendingRecordBytes(const Pending& p) const;

  sinks::SinkContext context_;
  KinesisConfig config_;
  std::unique_ptr<CredentialsProvider> credentials_;
  std::string url_;
  std::string host_;
  SigV4Signer signer_;
  PutRecordsEncoder encoder_;
  PutRecordsResponse response_;
  HttpResponse http_;
  std::unique_ptr<HttpClient> client_;
  Backoff backoff_;
  Clock::TimePoint retryNotBefore_{};

  std::deque<Pending> pending_;
  size_t pendingBytes_ = 0;
  std::vector<Pending> inFlight_;
  std::vector<Pending> failed_;
  std::vector<pipeline::BatchPtr> held_;

  std::thread thread_;
  std::mutex stopMutex_;
  std::condition_variable stopSignal_;
  bool stopping_ = false;
  Clock::TimePoint stopDeadline_{};

  mutable std::mutex stateMutex_;
  std::string notReadyReason_;
  std::string lastErrorType_;

  prometheus::Counter* recordsSent_;
  prometheus::Counter* bytesSent_;
  prometheus::Counter* failedByError_[4] = {};  // by RecordError
  prometheus::Counter* recordsRetried_;
  prometheus::Counter* requestsOk_;
  prometheus::Counter* requestsPartial_;
  prometheus::Counter* requestsError_;
  prometheus::Family<prometheus::Counter>* requestErrors_;
  prometheus::Counter* droppedTooLarge_;
  prometheus::Counter* droppedShutdown_;
  prometheus::Histogram* requestSeconds_;
  prometheus::Gauge* pendingGauge_;
};

}  // namespace kinship::kinesis
