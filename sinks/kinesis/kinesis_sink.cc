#include "sinks/kinesis/kinesis_sink.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "common/log.h"

namespace kinship::kinesis {

namespace {

constexpr std::string_view kComponent = "kinesis";

// Request-level errors that mean throttling or a passing fault: retried
// after a backoff, without operator action.
bool isTransientErrorType(std::string_view type) {
  return type == "ProvisionedThroughputExceededException" || type == "LimitExceededException" ||
         type == "ThrottlingException" || type == "KMSThrottlingException" || type == "InternalFailure" ||
         type == "ServiceUnavailable" || type == "InternalServerError";
}

}  // namespace

KinesisSink::KinesisSink(const sinks::SinkContext& context, KinesisConfig config,
                         std::unique_ptr<CredentialsProvider> credentials)
    : context_(context),
      config_(std::move(config)),
      credentials_(std::move(credentials)),
      url_(config_.endpoint + "/"),
      host_(config_.endpoint.substr(config_.endpoint.find("//") + 2)),
      signer_(config_.region, "kinesis"),
      encoder_(config_.streamArn.empty() ? "StreamName" : "StreamARN",
               config_.streamArn.empty() ? config_.stream : config_.streamArn),
      backoff_(config_.retryBackoffMin, config_.retryBackoffMax) {
  prometheus::Registry& registry = context_.metrics;
  const prometheus::Labels labels{{"pipeline", context_.pipelineName}};
  recordsSent_ = &prometheus::BuildCounter()
                      .Name("kinship_sink_records_sent_total")
                      .Help("Records Kinesis accepted")
                      .Register(registry)
                      .Add(labels);
  bytesSent_ = &prometheus::BuildCounter()
                    .Name("kinship_sink_bytes_sent_total")
                    .Help("Bytes of data and partition keys Kinesis accepted")
                    .Register(registry)
                    .Add(labels);
  auto& recordsFailed = prometheus::BuildCounter()
                            .Name("kinship_sink_records_failed_total")
                            .Help("Records a PutRecords answer marked as failed, by error_code "
                                  "(ProvisionedThroughputExceededException, InternalFailure, other); each is retried")
                            .Register(registry);
  for (RecordError e : {RecordError::kThrottled, RecordError::kInternalFailure, RecordError::kOther}) {
    failedByError_[static_cast<size_t>(e)] =
        &recordsFailed.Add({{"pipeline", context_.pipelineName}, {"error_code", std::string(recordErrorLabel(e))}});
  }
  recordsRetried_ = &prometheus::BuildCounter()
                         .Name("kinship_sink_records_retried_total")
                         .Help("Records sent again after a failed record or a failed request")
                         .Register(registry)
                         .Add(labels);
  auto& requests = prometheus::BuildCounter()
                   .Name("kinship_sink_requests_total")
                   .Help("PutRecords requests by outcome: ok (every record accepted), partial (some records "
                         "failed), error (the request failed as a whole)")
                   .Register(registry);
  requestsOk_ = &requests.Add({{"pipeline", context_.pipelineName}, {"outcome", "ok"}});
  requestsPartial_ = &requests.Add({{"pipeline", context_.pipelineName}, {"outcome", "partial"}});
  requestsError_ = &requests.Add({{"pipeline", context_.pipelineName}, {"outcome", "error"}});
  requestErrors_ = &prometheus::BuildCounter()
                        .Name("kinship_sink_request_errors_total")
                        .Help("PutRecords requests that failed as a whole, by error (the AWS error type, "
                              "http_<status>, transport or bad_response)")
                        .Register(registry);
  auto& dropped = prometheus::BuildCounter()
                      .Name("kinship_sink_records_dropped_total")
                      .Help("Records the sink gave up on, by reason: too_large (data plus key over "
                            "max_record_size), shutdown (still undelivered when shutdown_timeout ran out)")
                      .Register(registry);
  droppedTooLarge_ = &dropped.Add({{"pipeline", context_.pipelineName}, {"reason", "too_large"}});
  droppedShutdown_ = &dropped.Add({{"pipeline", context_.pipelineName}, {"reason", "shutdown"}});
  requestSeconds_ = &prometheus::BuildHistogram()
                         .Name("kinship_sink_request_duration_seconds")
                         .Help("Time from sending a PutRecords request to its answer")
                         .Register(registry)
                         .Add(labels, prometheus::Histogram::BucketBoundaries{0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                                               0.5, 1, 2.5, 5, 10, 30});
  pendingGauge_ = &prometheus::BuildGauge()
                       .Name("kinship_sink_pending_records")
                       .Help("Records the sink holds, waiting to be sent or retried")
                       .Register(registry)
                       .Add(labels);
}

KinesisSink::~KinesisSink() {
  if (thread_.joinable()) stop(context_.clock.now());
}

Status KinesisSink::start() {
  client_ = std::make_unique<HttpClient>(
      HttpOptions{config_.connectTimeout, config_.requestTimeout, config_.caFile});
  thread_ = std::thread([this] { run(); });
  return Status::ok();
}

void KinesisSink::stop(std::chrono::steady_clock::time_point deadline) {
  {
    std::lock_guard lock(stopMutex_);
    stopping_ = true;
    stopDeadline_ = deadline;
  }
  stopSignal_.notify_all();
  context_.queue.close();
  if (thread_.joinable()) thread_.join();
}

std::string KinesisSink::notReadyReason() const {
  std::lock_guard lock(stateMutex_);
  return notReadyReason_;
}

size_t KinesisSink::pendingRecordBytes(const Pending& p) const {
  return p.batch->data(p.index).size() + p.batch->key(p.index).size();
}

bool KinesisSink::canAdmit() const {
  return pending_.size() < 2 * config_.maxBatchRecords && pendingBytes_ < 2 * config_.maxBatchBytes;
}

void KinesisSink::admit(pipeline::BatchPtr batch) {
  const auto now = context_.clock.now();
  size_t kept = 0;
  for (uint32_t i = 0; i < batch->size(); ++i) {
    size_t bytes = batch->data(i).size() + batch->key(i).size();
    if (bytes > config_.maxRecordSize) {
      droppedTooLarge_->Increment();
      log::warn(kComponent, "dropped a record of {} bytes (data plus partition key): over max_record_size ({})",
                bytes, config_.maxRecordSize);
      continue;
    }
    pending_.push_back({batch.get(), i, now});
    pendingBytes_ += bytes;
    ++kept;
  }
  if (kept == 0) return;  // the batch goes back to the pool here
  batch->setUnacknowledged(kept);
  held_.push_back(std::move(batch));
}

void KinesisSink::acknowledge(const Pending& record) {
  if (!record.batch->acknowledgeOne()) return;
  for (size_t i = 0; i < held_.size(); ++i) {
    if (held_[i].get() == record.batch) {
      std::swap(held_[i], held_.back());
      held_.pop_back();  // recycles the batch
      return;
    }
  }
}

void KinesisSink::requeueFront(const std::vector<Pending>& records) {
  for (auto it = records.rbegin(); it != records.rend(); ++it) {
    pending_.push_front(*it);
    pendingBytes_ += pendingRecordBytes(*it);
  }
  recordsRetried_->Increment(static_cast<double>(records.size()));
}

void KinesisSink::sleepUntil(Clock::TimePoint until) {
  std::unique_lock lock(stopMutex_);
  if (stopping_ && stopDeadline_ < until) until = stopDeadline_;
  auto now = context_.clock.now();
  if (until <= now) return;
  stopSignal_.wait_for(lock, until - now, [this] { return stopping_; });
}

void KinesisSink::run() {
  pipeline::BatchQueue& queue = context_.queue;
  for (;;) {
    bool stopping;
    Clock::TimePoint stopDeadline;
    {
      std::lock_guard lock(stopMutex_);
      stopping = stopping_;
      stopDeadline = stopDeadline_;
    }
    auto now = context_.clock.now();
    if (stopping && now >= stopDeadline) break;

    while (canAdmit()) {
      auto batch = queue.tryPop();
      if (!batch) break;
      admit(std::move(batch));
    }
    pendingGauge_->Set(static_cast<double>(pending_.size()));

    if (pending_.empty()) {
      if (stopping && queue.closed() && queue.queuedBatches() == 0) break;
      auto wait = now + std::chrono::milliseconds(100);
      if (stopping && stopDeadline < wait) wait = stopDeadline;
      if (auto batch = queue.popUntil(wait)) admit(std::move(batch));
      continue;
    }

    bool full = pending_.size() >= config_.maxBatchRecords || pendingBytes_ >= config_.maxBatchBytes;
    auto lingerDeadline = pending_.front().arrival + config_.linger;
    if (!full && !stopping && now < lingerDeadline) {
      if (canAdmit()) {
        if (auto batch = queue.popUntil(lingerDeadline)) admit(std::move(batch));
      } else {
        sleepUntil(lingerDeadline);
      }
      continue;
    }
    if (now < retryNotBefore_) {
      sleepUntil(retryNotBefore_);
      continue;
    }
    sendRequest();
  }

  size_t undelivered = pending_.size();
  while (auto batch = queue.tryPop()) undelivered += batch->size();
  if (undelivered != 0) {
    droppedShutdown_->Increment(static_cast<double>(undelivered));
    log::error(kComponent, "shutdown_timeout ran out with {} records of pipeline {} undelivered", undelivered,
               context_.pipelineName);
  }
  pending_.clear();
  held_.clear();
}

void KinesisSink::sendRequest() {
  inFlight_.clear();
  encoder_.begin();
  size_t bytes = 0;
  while (!pending_.empty() && inFlight_.size() < config_.maxBatchRecords) {
    const Pending& p = pending_.front();
    size_t recordBytes = pendingRecordBytes(p);
    if (!inFlight_.empty() && bytes + recordBytes > config_.maxBatchBytes) break;
    encoder_.add(p.batch->data(p.index), p.batch->key(p.index));
    bytes += recordBytes;
    inFlight_.push_back(p);
    pending_.pop_front();
  }
  pendingBytes_ -= bytes;
  std::string_view body = encoder_.finish();

  auto credentials = credentials_->current();
  if (!credentials) {
    requeueFront(inFlight_);
    onRequestFailed("credentials", credentials.error().message(), /*needsOperator=*/true);
    return;
  }
  SigningRequest signing{.method = "POST",
                         .path = "/",
                         .query = "",
                         .headers = {{"Host", host_},
                                     {"Content-Type", "application/x-amz-json-1.1"},
                                     {"X-Amz-Target", "Kinesis_20131202.PutRecords"}},
                         .payload = body};
  HeaderList headers = signing.headers;
  for (auto& h : signer_.sign(signing, *credentials, context_.clock.wallNow())) headers.push_back(std::move(h));

  const auto started = context_.clock.now();
  Status sent = client_->post(url_, headers, body, http_);
  requestSeconds_->Observe(std::chrono::duration<double>(context_.clock.now() - started).count());
  if (!sent) {
    requeueFront(inFlight_);
    onRequestFailed("transport", sent.message(), /*needsOperator=*/false);
    return;
  }
  if (http_.status != 200) {
    requeueFront(inFlight_);
    std::string type = errorTypeOf(http_.body);
    std::string label = type.empty() ? "http_" + std::to_string(http_.status) : type;
    bool transient = http_.status >= 500 || http_.status == 429 || http_.status == 413 || isTransientErrorType(type);
    onRequestFailed(label, "HTTP " + std::to_string(http_.status) + ": " + http_.body.substr(0, 300), !transient);
    return;
  }
  if (Status parsed = response_.parse(http_.body, inFlight_.size()); !parsed) {
    requeueFront(inFlight_);
    onRequestFailed("bad_response", parsed.message(), /*needsOperator=*/false);
    return;
  }

  failed_.clear();
  size_t acceptedBytes = 0;
  const auto& results = response_.results();
  for (size_t i = 0; i < inFlight_.size(); ++i) {
    if (results[i] == RecordError::kNone) {
      acceptedBytes += pendingRecordBytes(inFlight_[i]);
      acknowledge(inFlight_[i]);
    } else {
      failedByError_[static_cast<size_t>(results[i])]->Increment();
      failed_.push_back(inFlight_[i]);
    }
  }
  recordsSent_->Increment(static_cast<double>(inFlight_.size() - failed_.size()));
  bytesSent_->Increment(static_cast<double>(acceptedBytes));
  onRequestSucceeded();
  if (failed_.empty()) {
    requestsOk_->Increment();
    backoff_.reset();
    return;
  }
  requestsPartial_->Increment();
  log::debug(kComponent, "{} of {} records failed ({}: {}); retrying them", failed_.size(), inFlight_.size(),
             response_.firstErrorCode(), response_.firstErrorMessage());
  requeueFront(failed_);
  retryNotBefore_ = context_.clock.now() + backoff_.next();
}

void KinesisSink::onRequestFailed(const std::string& errorType, const std::string& detail, bool needsOperator) {
  requestsError_->Increment();
  requestErrors_->Add({{"pipeline", context_.pipelineName}, {"error", errorType}}).Increment();
  auto delay = needsOperator ? config_.retryBackoffMax : backoff_.next();
  retryNotBefore_ = context_.clock.now() + delay;
  std::lock_guard lock(stateMutex_);
  if (errorType != lastErrorType_) {
    lastErrorType_ = errorType;
    log::error(kComponent, "PutRecords to {} failed ({}): {}; keeping {} records and retrying in {} ms", url_,
               errorType, detail, pending_.size(), delay.count());
  }
  if (needsOperator) notReadyReason_ = "kinesis sink of pipeline " + context_.pipelineName + ": " + errorType;
}

void KinesisSink::onRequestSucceeded() {
  std::lock_guard lock(stateMutex_);
  if (!lastErrorType_.empty()) {
    log::info(kComponent, "PutRecords to {} works again (after {})", url_, lastErrorType_);
    lastErrorType_.clear();
  }
  notReadyReason_.clear();
}

}  // namespace kinship::kinesis
