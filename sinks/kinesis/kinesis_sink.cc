#include "sinks/kinesis/kinesis_sink.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <algorithm>

#include "common/log.h"
#include "common/thread_name.h"

namespace kinship::kinesis {

namespace {

constexpr std::string_view kComponent = "kinesis";
// While requests are in flight, new batches are picked up at least this often.
constexpr auto kMaxPollWait = std::chrono::milliseconds(10);
constexpr auto kIdleWait = std::chrono::milliseconds(100);
// A failed ListShards is tried again this soon (unless the refresh interval is shorter).
constexpr auto kListShardsRetry = std::chrono::seconds(30);
// Request failures in a row after which every send waits (an outage, not a
// scattered fault).
constexpr int kFailuresBeforeGlobalBackoff = 3;

enum class SinkState { kOk = 0, kRetrying = 1, kPaused = 2 };

// The Host header's value from "https://host[:port]"; empty while the
// endpoint is not known yet (no region until start() asks the instance
// metadata service).
std::string hostOf(const std::string& endpoint) {
  auto scheme = endpoint.find("//");
  return scheme == std::string::npos ? std::string() : endpoint.substr(scheme + 2);
}

}  // namespace

KinesisSink::KinesisSink(const sinks::SinkContext& context, KinesisConfig config,
                         std::unique_ptr<aws::CredentialsProvider> credentials)
    : KinesisSink(context, std::move(config),
                  [ready = std::make_shared<std::unique_ptr<aws::CredentialsProvider>>(std::move(credentials))](
                      const aws::CredentialsOptions&) { return std::move(*ready); }) {}

KinesisSink::KinesisSink(const sinks::SinkContext& context, KinesisConfig config, CredentialsFactory credentials,
                         RegionLookup regionLookup)
    : context_(context),
      config_(std::move(config)),
      makeCredentials_(std::move(credentials)),
      regionLookup_(std::move(regionLookup)),
      url_(config_.endpoint + "/"),
      host_(hostOf(config_.endpoint)),
      streamField_(config_.streamArn.empty() ? "StreamName" : "StreamARN"),
      streamValue_(config_.streamArn.empty() ? config_.stream : config_.streamArn),
      signer_(config_.region, "kinesis"),
      requestBackoff_(config_.retryBackoffMin, config_.retryBackoffMax),
      registry_(context.metrics) {
  const prometheus::Labels labels{{"pipeline", context_.pipelineName}};
  recordsSent_ = &prometheus::BuildCounter()
                      .Name("kinship_sink_records_sent_total")
                      .Help("Records Kinesis accepted")
                      .Register(registry_)
                      .Add(labels);
  bytesSent_ = &prometheus::BuildCounter()
                    .Name("kinship_sink_bytes_sent_total")
                    .Help("Bytes of data and partition keys Kinesis accepted")
                    .Register(registry_)
                    .Add(labels);
  auto& recordsFailed = prometheus::BuildCounter()
                            .Name("kinship_sink_records_failed_total")
                            .Help("Records a PutRecords answer marked as failed, by error_code "
                                  "(ProvisionedThroughputExceededException, InternalFailure, other); each is retried")
                            .Register(registry_);
  for (RecordError e : {RecordError::kThrottled, RecordError::kInternalFailure, RecordError::kOther}) {
    failedByError_[static_cast<size_t>(e)] =
        &recordsFailed.Add({{"pipeline", context_.pipelineName}, {"error_code", std::string(recordErrorLabel(e))}});
  }
  recordsRetried_ = &prometheus::BuildCounter()
                         .Name("kinship_sink_records_retried_total")
                         .Help("Records sent again after a failed record or a failed request")
                         .Register(registry_)
                         .Add(labels);
  auto& requests = prometheus::BuildCounter()
                       .Name("kinship_sink_requests_total")
                       .Help("PutRecords requests by outcome: ok (every record accepted), partial (some records "
                             "failed), error (the request failed as a whole)")
                       .Register(registry_);
  requestsOk_ = &requests.Add({{"pipeline", context_.pipelineName}, {"outcome", "ok"}});
  requestsPartial_ = &requests.Add({{"pipeline", context_.pipelineName}, {"outcome", "partial"}});
  requestsError_ = &requests.Add({{"pipeline", context_.pipelineName}, {"outcome", "error"}});
  requestErrors_ = &prometheus::BuildCounter()
                        .Name("kinship_sink_request_errors_total")
                        .Help("Kinesis requests (PutRecords, ListShards) that failed as a whole, by error: the AWS "
                              "error type, http_<status>, transport, bad_response or credentials")
                        .Register(registry_);
  throttledByShard_ = &prometheus::BuildCounter()
                           .Name("kinship_sink_throttled_records_total")
                           .Help("Records refused with ProvisionedThroughputExceededException, by shard")
                           .Register(registry_);
  auto& dropped = prometheus::BuildCounter()
                      .Name("kinship_sink_records_dropped_total")
                      .Help("Records never delivered to Kinesis, by reason: too_large (data plus key over "
                            "max_record_size), invalid (refused alone as invalid), shutdown (still undelivered "
                            "when shutdown_timeout ran out, in spool mode memory). too_large and invalid records also go to the "
                            "dead-letter file when one is configured")
                      .Register(registry_);
  droppedTooLarge_ = &dropped.Add({{"pipeline", context_.pipelineName}, {"reason", "too_large"}});
  droppedShutdown_ = &dropped.Add({{"pipeline", context_.pipelineName}, {"reason", "shutdown"}});
  droppedInvalid_ = &dropped.Add({{"pipeline", context_.pipelineName}, {"reason", "invalid"}});
  deadLetters_ = &prometheus::BuildCounter()
                      .Name("kinship_sink_dead_letters_total")
                      .Help("Records written to the dead-letter file, by reason (too_large, invalid)")
                      .Register(registry_);
  droppedDeadLetterFailed_ = &prometheus::BuildCounter()
                                  .Name("kinship_sink_dead_letter_errors_total")
                                  .Help("Dead letters that could not be written: the file was full "
                                        "(dead_letter_max_size) or a write failed")
                                  .Register(registry_)
                                  .Add(labels);
  requestSeconds_ = &prometheus::BuildHistogram()
                         .Name("kinship_sink_request_duration_seconds")
                         .Help("Time from sending a PutRecords request to its answer")
                         .Register(registry_)
                         .Add(labels, prometheus::Histogram::BucketBoundaries{0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                                               0.5, 1, 2.5, 5, 10, 30});
  recordsPerRequest_ = &prometheus::BuildHistogram()
                            .Name("kinship_sink_request_records")
                            .Help("Records per PutRecords request")
                            .Register(registry_)
                            .Add(labels, prometheus::Histogram::BucketBoundaries{1, 10, 50, 100, 200, 300, 400, 500});
  bytesPerRequest_ = &prometheus::BuildHistogram()
                          .Name("kinship_sink_request_bytes")
                          .Help("Bytes of data and partition keys per PutRecords request")
                          .Register(registry_)
                          .Add(labels, prometheus::Histogram::BucketBoundaries{1024, 16384, 65536, 262144, 1048576,
                                                                                2097152, 4194304, 5242880});
  waitSeconds_ = &prometheus::BuildHistogram()
                     .Name("kinship_sink_wait_seconds")
                     .Help("How long the oldest record of each PutRecords request waited in the sink before it "
                           "was sent: linger, per-shard pacing and retry backoff")
                     .Register(registry_)
                     .Add(labels, prometheus::Histogram::BucketBoundaries{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
                                                                           30, 60});
  pendingGauge_ = &prometheus::BuildGauge()
                       .Name("kinship_sink_pending_records")
                       .Help("Records the sink holds, waiting to be sent or retried (not counting those in flight)")
                       .Register(registry_)
                       .Add(labels);
  inFlightGauge_ = &prometheus::BuildGauge()
                        .Name("kinship_sink_requests_in_flight")
                        .Help("PutRecords requests sent and not yet answered")
                        .Register(registry_)
                        .Add(labels);
  shardsGauge_ = &prometheus::BuildGauge()
                      .Name("kinship_sink_shards")
                      .Help("Open shards the sink paces (0: no shard map, sending unpaced)")
                      .Register(registry_)
                      .Add(labels);
  stateGauge_ = &prometheus::BuildGauge()
                     .Name("kinship_sink_state")
                     .Help("0 ok, 1 retrying after request errors, 2 paused on an error that needs an operator "
                           "(access denied, stream not found, bad credentials...)")
                     .Register(registry_)
                     .Add(labels);

  lines_.emplace_back();  // the single unpaced line, until a shard map arrives
  for (size_t i = 0; i < config_.maxInFlight; ++i) {
    slots_.push_back(std::make_unique<Slot>(streamField_, streamValue_, config_.protocol));
    freeSlots_.push_back(slots_.back().get());
  }
  listSlot_ = std::make_unique<Slot>(streamField_, streamValue_, WireProtocol::kJson);
  listSlot_->listShards = true;
}

KinesisSink::~KinesisSink() {
  if (thread_.joinable()) stop(context_.clock.now());
}

Status KinesisSink::start() {
  if (config_.regionFromInstanceMetadata) {
    if (!regionLookup_) return Status::invalidArgument("no region configured");
    auto region = regionLookup_();
    if (!region) {
      return Status::invalidArgument(
          "no region: set 'region', the AWS_REGION environment variable or a region in the profile; the instance "
          "metadata service gave none: " +
          region.error().message());
    }
    if (Status applied = applyRegion(config_, *region); !applied) {
      return applied.prefixed("the instance metadata service's region: ");
    }
    url_ = config_.endpoint + "/";
    host_ = hostOf(config_.endpoint);
    signer_ = aws::SigV4Signer(config_.region, "kinesis");
    log::info(kComponent, "region {} from the instance metadata service", config_.region);
  }
  credentials_ = makeCredentials_(config_.credentials);
  // A failure is logged by the provider, which keeps trying while the sink
  // waits with its records.
  (void)credentials_->start();
  if (!config_.deadLetterPath.empty()) {
    auto file = DeadLetterFile::open({config_.deadLetterPath, config_.deadLetterMaxSize}, context_.clock);
    if (!file) return file.error();
    deadLetterFile_ = std::move(*file);
  }
  transport_ = std::make_unique<aws::HttpTransport>(
      aws::HttpOptions{config_.connectTimeout, config_.requestTimeout, config_.caFile});
  thread_ = std::thread([this] {
    setCurrentThreadName("sink-kinesis");
    heartbeat_.start();
    run();
    heartbeat_.retire();
  });
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
  if (transport_) transport_->wakeup();
  if (thread_.joinable()) thread_.join();
}

std::string KinesisSink::notReadyReason() const {
  std::lock_guard lock(stateMutex_);
  return notReadyReason_;
}

size_t KinesisSink::recordBytes(const Pending& p) const { return p.bytes; }

bool KinesisSink::canAdmit() const {
  return pendingRecords_ < 2 * config_.maxBatchRecords * config_.maxInFlight &&
         pendingBytes_ < 2 * config_.maxBatchBytes;
}

uint32_t KinesisSink::lineFor(const Pending& p) {
  if (shardMap_.empty()) return 0;
  // The pipeline only keeps explicit hash keys that parse.
  std::string_view explicitHashKey = p.batch->explicitHashKey(p.index);
  HashKey hash = explicitHashKey.empty() ? hasher_.hash(p.batch->key(p.index))
                                         : parseHashKey(explicitHashKey).value_or(0);
  int shard = shardMap_.find(hash);
  // A gap in the ranges only happens mid-resharding; any line will do until
  // the next refresh.
  return shard < 0 ? 0 : static_cast<uint32_t>(shard);
}

void KinesisSink::route(const Pending& p) {
  ShardLine& line = lines_[lineFor(p)];
  line.records.push_back(p);
  size_t bytes = recordBytes(p);
  line.bytes += bytes;
  ++pendingRecords_;
  pendingBytes_ += bytes;
}

void KinesisSink::putBackForRetry(const Pending& p, uint32_t line) {
  if (line >= lines_.size()) line = lineFor(p);
  ShardLine& target = lines_[line];
  target.retries.push_back(p);
  size_t bytes = recordBytes(p);
  target.bytes += bytes;
  ++pendingRecords_;
  pendingBytes_ += bytes;
}

void KinesisSink::admit(pipeline::BatchPtr batch) {
  const auto now = context_.clock.now();
  size_t kept = 0;
  // The batch was filled on another core: its keys are not in this core's
  // cache, and routing reads every one.
  constexpr uint32_t kPrefetchAhead = 8;
  for (uint32_t i = 0; i < batch->size() && i < kPrefetchAhead; ++i) __builtin_prefetch(batch->key(i).data());
  for (uint32_t i = 0; i < batch->size(); ++i) {
    if (i + kPrefetchAhead < batch->size()) __builtin_prefetch(batch->key(i + kPrefetchAhead).data());
    size_t bytes = batch->data(i).size() + batch->key(i).size();
    if (bytes > config_.maxRecordSize) {
      droppedTooLarge_->Increment();
      deadLetter({batch.get(), i, static_cast<uint32_t>(bytes), 0, 0, now, now}, "too_large",
                 fmt::format("{} bytes of data plus partition key, over max_record_size ({})", bytes,
                             config_.maxRecordSize));
      recordDone(*batch, i);
      continue;
    }
    route({batch.get(), i, static_cast<uint32_t>(bytes), nextSeq_++, 0, now, now});
    ++kept;
  }
  if (kept == 0) {
    batch->notifyAcknowledged();  // every record was a dead letter: the batch is done
    return;                       // and goes back to the pool here
  }
  batch->setUnacknowledged(kept);
  held_.push_back(std::move(batch));
}

void KinesisSink::deadLetter(const Pending& p, std::string_view reason, std::string_view detail) {
  std::string_view key = p.batch->key(p.index);
  if (deadLetterFile_) {
    Status written =
        deadLetterFile_->write(reason, detail, context_.pipelineName, key, p.batch->data(p.index));
    if (written) {
      deadLetters_->Add({{"pipeline", context_.pipelineName}, {"reason", std::string(reason)}}).Increment();
      log::warn(kComponent, "record with partition key '{}' can never be sent ({}: {}): written to {}", key, reason,
                detail, config_.deadLetterPath);
      return;
    }
    droppedDeadLetterFailed_->Increment();
    log::error(kComponent, "record with partition key '{}' can never be sent ({}: {}) and was dropped: {}", key,
               reason, detail, written.message());
    return;
  }
  log::warn(kComponent, "record with partition key '{}' can never be sent ({}: {}): dropped (no dead_letter_path)",
            key, reason, detail);
}

void KinesisSink::recordDone(const pipeline::RecordBatch& batch, uint32_t index) {
  const auto& receiver = batch.ackReceiver();
  if (!receiver) return;
  receiver->recordDone(batch.sourceId(), batch.endOffset(), index);
  if (unsettled_.empty() || unsettled_.back() != receiver) {
    if (std::find(unsettled_.begin(), unsettled_.end(), receiver) == unsettled_.end()) unsettled_.push_back(receiver);
  }
}

void KinesisSink::settleRecords() {
  for (const auto& receiver : unsettled_) receiver->recordsSettled();
  unsettled_.clear();
}

void KinesisSink::acknowledge(const Pending& record) {
  recordDone(*record.batch, record.index);
  if (!record.batch->acknowledgeOne()) return;
  record.batch->notifyAcknowledged();
  for (size_t i = 0; i < held_.size(); ++i) {
    if (held_[i].get() == record.batch) {
      std::swap(held_[i], held_.back());
      held_.pop_back();  // recycles the batch
      return;
    }
  }
}

void KinesisSink::applyShardMap(ShardMap map) {
  std::vector<ShardLine> old = std::move(lines_);
  lines_.clear();
  const double share = config_.shardCapacityPercent / 100.0;
  PacingLimits limits{config_.shardRecordsPerSecond * share, config_.shardBytesPerSecond * share, 1.0 - share};
  const auto now = context_.clock.now();
  for (size_t i = 0; i < map.size(); ++i) {
    ShardLine line;
    line.shardId = map.shard(i).shardId;
    // A shard that stays keeps what it learnt about throttling.
    for (auto& o : old) {
      if (o.shardId == line.shardId && o.pacer) line.pacer = std::move(o.pacer);
    }
    if (!line.pacer) line.pacer = std::make_unique<ShardPacer>(limits, now);
    line.throttled = &throttledByShard_->Add({{"pipeline", context_.pipelineName}, {"shard", line.shardId}});
    lines_.push_back(std::move(line));
  }
  if (lines_.empty()) lines_.emplace_back();
  shardMap_ = std::move(map);
  ++mapGeneration_;
  nextLine_ = 0;
  pendingRecords_ = 0;
  pendingBytes_ = 0;
  // New records go to their new lines in admission order, which
  // takeInAdmissionOrder expects of every line.
  std::vector<Pending> records;
  for (auto& line : old) {
    line.retries.forEach([&](const Pending& p) { putBackForRetry(p, UINT32_MAX); });
    line.records.forEach([&](const Pending& p) { records.push_back(p); });
  }
  std::sort(records.begin(), records.end(), [](const Pending& a, const Pending& b) { return a.seq < b.seq; });
  for (const Pending& p : records) route(p);
  minSendInterval_ = std::chrono::milliseconds(static_cast<int64_t>(1000 * limits.burstSeconds));
  shardsGauge_->Set(static_cast<double>(shardMap_.size()));
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
  if (config_.pacing) nextShardRefresh_ = context_.clock.now();
  for (;;) {
    heartbeat_.beat();
    Clock::TimePoint stopDeadline;
    {
      std::lock_guard lock(stopMutex_);
      stoppingSnapshot_ = stopping_;
      stopDeadline = stopDeadline_;
    }
    auto now = context_.clock.now();
    if (stoppingSnapshot_ && now >= stopDeadline) break;

    while (canAdmit()) {
      auto batch = queue.tryPop();
      if (!batch) break;
      admit(std::move(batch));
    }
    settleRecords();  // records dead-lettered on admission
    if (config_.pacing && !listingShards_ && now >= nextShardRefresh_ && !stoppingSnapshot_) startListShards("");
    while (sendReady(now)) {
    }
    pendingGauge_->Set(static_cast<double>(pendingRecords_));
    inFlightGauge_->Set(static_cast<double>(config_.maxInFlight - freeSlots_.size()));

    if (transport_->inFlight() > 0) {
      auto wait = std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(nextEvent(now) - now),
                             std::chrono::milliseconds(0), std::chrono::milliseconds(kMaxPollWait));
      completed_.clear();
      transport_->poll(wait, completed_);
      for (aws::HttpRequest* done : completed_) {
        for (auto& slot : slots_) {
          if (&slot->http == done) complete(*slot);
        }
        if (&listSlot_->http == done) complete(*listSlot_);
      }
      // Before the freed slots send again: what can be in flight and not
      // recorded as done stays within max_in_flight requests.
      settleRecords();
      continue;
    }
    if (pendingRecords_ == 0) {
      if (stoppingSnapshot_ && queue.closed() && queue.queuedBatches() == 0) break;
      auto wait = now + kIdleWait;
      if (stoppingSnapshot_) wait = std::min(wait, stopDeadline);
      if (config_.pacing && !listingShards_) wait = std::min(wait, std::max(now, nextShardRefresh_));
      if (auto batch = queue.popUntil(wait)) admit(std::move(batch));
      continue;
    }
    auto until = nextEvent(now);
    if (stoppingSnapshot_) until = std::min(until, stopDeadline);
    if (canAdmit()) {
      if (auto batch = queue.popUntil(until)) admit(std::move(batch));
    } else {
      sleepUntil(until);
    }
  }

  settleRecords();
  size_t undelivered = pendingRecords_;
  for (auto& slot : slots_) {
    if (!slot->inFlight) continue;
    transport_->cancel(slot->http);
    undelivered += slot->records.size();
  }
  if (listSlot_->inFlight) transport_->cancel(listSlot_->http);
  while (auto batch = queue.tryPop()) undelivered += batch->size();
  if (undelivered != 0 && context_.spooled) {
    log::info(kComponent, "shutdown_timeout ran out with {} records of pipeline {} undelivered; they stay in the "
              "spool and are sent after the next start", undelivered, context_.pipelineName);
  } else if (undelivered != 0) {
    droppedShutdown_->Increment(static_cast<double>(undelivered));
    log::error(kComponent, "shutdown_timeout ran out with {} records of pipeline {} undelivered", undelivered,
               context_.pipelineName);
  }
  lines_.clear();
  held_.clear();
}

Clock::TimePoint KinesisSink::nextEvent(Clock::TimePoint now) {
  Clock::TimePoint next = now + kIdleWait;
  auto consider = [&](Clock::TimePoint t) {
    if (t > now && t < next) next = t;
  };
  for (auto& line : lines_) {
    if (line.records.empty() && line.retries.empty()) continue;
    if (!line.records.empty()) consider(line.records.front().arrival + config_.linger);
    if (!line.retries.empty()) consider(line.retries.front().notBefore);
    if (line.pacer) consider(line.pacer->readyAt(now));
  }
  consider(sendNotBefore_);
  consider(lastSendStart_ + minSendInterval_);
  if (config_.pacing && !listingShards_) consider(nextShardRefresh_);
  // Never spin: something due now that could not go waits a little.
  return std::max(next, now + std::chrono::milliseconds(1));
}

bool KinesisSink::sendReady(Clock::TimePoint now) {
  if (freeSlots_.empty() || pendingRecords_ == 0 || now < sendNotBefore_) return false;
  if (!bisectGroups_.empty()) {
    Slot& slot = *freeSlots_.back();
    freeSlots_.pop_back();
    slot.records = std::move(bisectGroups_.front());
    bisectGroups_.pop_front();
    slot.encoder.begin();
    size_t bytes = 0;
    for (const auto& [p, line] : slot.records) {
      slot.encoder.add(p.batch->data(p.index), p.batch->key(p.index), p.batch->explicitHashKey(p.index));
      bytes += recordBytes(p);
    }
    pendingRecords_ -= slot.records.size();
    pendingBytes_ -= bytes;
    slot.mapGeneration = mapGeneration_;
    slot.http.body = slot.encoder.finish();
    sign(slot, "Kinesis_20131202.PutRecords", config_.protocol);
    return true;
  }
  bool due = stoppingSnapshot_ || pendingRecords_ >= config_.maxBatchRecords || pendingBytes_ >= config_.maxBatchBytes;
  for (size_t i = 0; !due && i < lines_.size(); ++i) {
    const ShardLine& line = lines_[i];
    if (!line.records.empty() && line.records.front().arrival + config_.linger <= now) due = true;
    if (!line.retries.empty() && line.retries.front().notBefore <= now) due = true;
  }
  if (!due) return false;
  if (!lastRequestFull_ && now < lastSendStart_ + minSendInterval_) return false;

  Slot& slot = *freeSlots_.back();
  slot.records.clear();
  slot.encoder.begin();
  size_t bytes = 0;
  bool full = false;
  const size_t lineCount = lines_.size();
  // Due retries first; then new records, oldest first across lines (under
  // per_key ordering, line by line, skipping busy keys).
  for (size_t k = 0; k < lineCount && !full; ++k) {
    full = takeFromLine(slot, static_cast<uint32_t>((nextLine_ + k) % lineCount), now, bytes, config_.orderingPerKey);
  }
  if (!full && !config_.orderingPerKey) full = takeInAdmissionOrder(slot, now, bytes);
  nextLine_ = lineCount == 0 ? 0 : (nextLine_ + 1) % lineCount;
  if (slot.records.empty()) return false;
  pendingRecords_ -= slot.records.size();
  pendingBytes_ -= bytes;
  freeSlots_.pop_back();
  lastSendStart_ = now;
  lastRequestFull_ = full || slot.records.size() >= config_.maxBatchRecords;
  slot.mapGeneration = mapGeneration_;
  slot.http.body = slot.encoder.finish();
  recordsPerRequest_->Observe(static_cast<double>(slot.records.size()));
  bytesPerRequest_->Observe(static_cast<double>(bytes));
  auto oldest = slot.records.front().first.arrival;
  for (const auto& [p, line] : slot.records) oldest = std::min(oldest, p.arrival);
  waitSeconds_->Observe(std::chrono::duration<double>(now - oldest).count());
  sign(slot, "Kinesis_20131202.PutRecords", config_.protocol);
  return true;
}

uint64_t KinesisSink::keyIdentity(const Pending& record) const {
  return std::hash<std::string_view>{}(record.batch->key(record.index));
}

void KinesisSink::releaseKey(const Pending& record) {
  if (!config_.orderingPerKey) return;
  auto it = busyKeys_.find(keyIdentity(record));
  if (it != busyKeys_.end() && --it->second == 0) busyKeys_.erase(it);
}

KinesisSink::TakeOutcome KinesisSink::take(Slot& slot, uint32_t li, const Pending& p, bool retry,
                                            Clock::TimePoint now, size_t& bytes) {
  if (slot.records.size() >= config_.maxBatchRecords) return TakeOutcome::kRequestFull;
  if (!slot.records.empty() && bytes + p.bytes > config_.maxBatchBytes) return TakeOutcome::kRequestFull;
  if (config_.orderingPerKey && !retry && busyKeys_.contains(keyIdentity(p))) return TakeOutcome::kSkipped;
  ShardLine& line = lines_[li];
  if (line.pacer) {
    if (!line.pacer->ready(now)) return TakeOutcome::kShardOutOfTokens;
    line.pacer->take(1, p.bytes);
  }
  // A retry keeps the mark its first attempt took.
  if (config_.orderingPerKey && !retry) ++busyKeys_[keyIdentity(p)];
  slot.encoder.add(p.batch->data(p.index), p.batch->key(p.index), p.batch->explicitHashKey(p.index));
  slot.records.emplace_back(p, li);
  bytes += p.bytes;
  line.bytes -= p.bytes;
  return TakeOutcome::kTaken;
}

bool KinesisSink::takeFromLine(Slot& slot, uint32_t li, Clock::TimePoint now, size_t& bytes, bool newRecords) {
  ShardLine& line = lines_[li];
  // Due retries first: under per_key ordering each one holds its key until
  // it is accepted.
  while (!line.retries.empty() && line.retries.front().notBefore <= now) {
    TakeOutcome outcome = take(slot, li, line.retries.front(), /*retry=*/true, now, bytes);
    if (outcome != TakeOutcome::kTaken) return outcome == TakeOutcome::kRequestFull;
    line.retries.pop_front();
  }
  if (!newRecords) return false;
  // per_key: skip past records whose key is busy (their later records stay
  // behind them), within a bounded scan.
  constexpr size_t kMaxScan = 4096;
  size_t scanned = 0;
  for (size_t i = 0; i < line.records.size() && scanned < kMaxScan; ++scanned) {
    TakeOutcome outcome = take(slot, li, line.records[i], /*retry=*/false, now, bytes);
    if (outcome == TakeOutcome::kRequestFull || outcome == TakeOutcome::kShardOutOfTokens) {
      return outcome == TakeOutcome::kRequestFull;
    }
    if (outcome == TakeOutcome::kTaken) {
      line.records.erase(i);
    } else {
      ++i;
    }
  }
  return false;
}

// Taking whole lines in turn would send records far from the order they
// were read: a batch stays held until its last record goes (memory), and
// the encoder reads record data scattered across many batches (cache
// misses cost more than the encoding). A merge by admission order keeps
// reads sequential and releases batches in order.
bool KinesisSink::takeInAdmissionOrder(Slot& slot, Clock::TimePoint now, size_t& bytes) {
  // A min-heap of each line's oldest sequence number. When consecutive
  // records go to different shards there is a heap step per record, so the
  // line just taken from is re-keyed in place and sifted down once, rather
  // than popped and pushed.
  auto later = [](const std::pair<uint64_t, uint32_t>& a, const std::pair<uint64_t, uint32_t>& b) {
    return a.first > b.first;
  };
  std::vector<std::pair<uint64_t, uint32_t>>& heap = lineFronts_;
  heap.clear();
  for (uint32_t li = 0; li < lines_.size(); ++li) {
    if (!lines_[li].records.empty()) heap.emplace_back(lines_[li].records.front().seq, li);
  }
  std::make_heap(heap.begin(), heap.end(), later);
  while (!heap.empty()) {
    const uint32_t li = heap.front().second;
    // Take this line's records up to the next line's oldest, the smaller of
    // the root's children.
    uint64_t until = UINT64_MAX;
    if (heap.size() > 1) until = heap[1].first;
    if (heap.size() > 2) until = std::min(until, heap[2].first);
    RingQueue<Pending>& records = lines_[li].records;
    bool outOfTokens = false;
    while (!records.empty() && records.front().seq <= until) {
      TakeOutcome outcome = take(slot, li, records.front(), /*retry=*/false, now, bytes);
      if (outcome == TakeOutcome::kRequestFull) return true;
      if (outcome == TakeOutcome::kShardOutOfTokens) {
        outOfTokens = true;
        break;
      }
      records.pop_front();
    }
    if (outOfTokens || records.empty()) {
      std::pop_heap(heap.begin(), heap.end(), later);
      heap.pop_back();
      continue;
    }
    heap.front().first = records.front().seq;
    for (size_t at = 0;;) {
      size_t child = 2 * at + 1;
      if (child >= heap.size()) break;
      if (child + 1 < heap.size() && heap[child + 1].first < heap[child].first) ++child;
      if (heap[at].first <= heap[child].first) break;
      std::swap(heap[at], heap[child]);
      at = child;
    }
  }
  return false;
}

void KinesisSink::sign(Slot& slot, std::string_view target, WireProtocol protocol) {
  slot.http.url = url_;
  slot.http.headers = {{"Host", host_}, {"Content-Type", std::string(contentTypeOf(protocol))},
                       {"X-Amz-Target", std::string(target)}};
  auto credentials = credentials_->current();
  slot.signError = Status::ok();
  if (!credentials) {
    // Nothing was sent: answer the request ourselves as failed.
    slot.inFlight = true;
    slot.signError = credentials.error();
    slot.http.transportStatus = Status::unavailable(credentials.error().message());
    slot.http.httpStatus = 0;
    slot.http.curlCode = 0;
    complete(slot);
    return;
  }
  aws::SigningRequest signing{.method = "POST", .path = "/", .query = "", .headers = slot.http.headers,
                         .payload = slot.http.body};
  for (auto& h : signer_.sign(signing, *credentials, context_.clock.wallNow())) slot.http.headers.push_back(std::move(h));
  slot.inFlight = true;
  transport_->start(slot.http);
}

void KinesisSink::startListShards(const std::string& nextToken) {
  listingShards_ = true;
  if (nextToken.empty()) listedShards_.clear();
  std::string& body = listSlot_->listShardsBody;
  body = "{\"";
  if (nextToken.empty()) {
    body += streamField_;
    body += "\":\"";
    appendJsonEscaped(body, streamValue_);
  } else {
    body += "NextToken\":\"";
    appendJsonEscaped(body, nextToken);
  }
  body += "\"}";
  listSlot_->http.body = body;
  sign(*listSlot_, "Kinesis_20131202.ListShards", WireProtocol::kJson);
}

void KinesisSink::complete(Slot& slot) {
  slot.inFlight = false;
  if (slot.listShards) {
    completeListShards(slot);
  } else {
    completePutRecords(slot);
    freeSlots_.push_back(&slot);
  }
}

void KinesisSink::requeue(Slot& slot) {
  const auto now = context_.clock.now();
  bool sameMap = slot.mapGeneration == mapGeneration_;
  for (const auto& [record, line] : slot.records) {
    Pending p = record;
    p.attempts = static_cast<uint16_t>(std::min<int>(p.attempts + 1, 1000));
    p.notBefore = now + fullJitterDelay(p.attempts, config_.retryBackoffMin, config_.retryBackoffMax, rng_);
    putBackForRetry(p, sameMap ? line : UINT32_MAX);
  }
  recordsRetried_->Increment(static_cast<double>(slot.records.size()));
}

void KinesisSink::completePutRecords(Slot& slot) {
  const auto now = context_.clock.now();
  requestSeconds_->Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - slot.http.startedAt).count());
  aws::HttpRequest& http = slot.http;
  if (!http.transportStatus) {
    requeue(slot);
    if (!slot.signError) {
      onRequestFailed({ErrorAction::kPause, "credentials"}, slot.signError.message());
    } else if (http.responseTooLarge) {
      onRequestFailed({ErrorAction::kRetry, "bad_response"}, http.transportStatus.message());
    } else {
      onRequestFailed(classifyRequestError(0, "", transportFailureFromCurl(http.curlCode)),
                      http.transportStatus.message());
    }
    return;
  }
  if (http.httpStatus != 200) {
    ErrorClass error = classifyRequestError(static_cast<int>(http.httpStatus), errorTypeOf(http.responseBody),
                                            TransportFailure::kNone);
    std::string detail = "HTTP " + std::to_string(http.httpStatus) + ": " + http.responseBody.substr(0, 300);
    if (error.action == ErrorAction::kBisect || error.action == ErrorAction::kTooLarge) {
      bisect(slot, error, detail);
      return;
    }
    // A request-level throttle names no shard: the records back off, the
    // shard rates stay (per-record answers drive them).
    requeue(slot);
    if (error.action == ErrorAction::kRefreshCredentials) credentials_->refreshSoon();
    onRequestFailed(error, detail);
    return;
  }
  if (Status parsed = response_.parse(http.responseBody, slot.records.size()); !parsed) {
    requeue(slot);
    onRequestFailed({ErrorAction::kRetry, "bad_response"}, parsed.message());
    return;
  }

  const bool sameMap = slot.mapGeneration == mapGeneration_;
  const auto& results = response_.results();
  size_t acceptedBytes = 0;
  size_t failed = 0;
  for (size_t i = 0; i < slot.records.size(); ++i) {
    auto& [p, line] = slot.records[i];
    ShardPacer* pacer = sameMap && lines_[line].pacer ? lines_[line].pacer.get() : nullptr;
    if (results[i] == RecordError::kNone) {
      acceptedBytes += recordBytes(p);
      if (pacer) pacer->onAccepted(now);
      releaseKey(p);
      acknowledge(p);
      continue;
    }
    ++failed;
    failedByError_[static_cast<size_t>(results[i])]->Increment();
    if (results[i] == RecordError::kThrottled && sameMap && lines_[line].throttled) {
      lines_[line].throttled->Increment();
      if (pacer) pacer->onThrottled(now);
    }
    Pending retry = p;
    retry.attempts = static_cast<uint16_t>(std::min<int>(retry.attempts + 1, 1000));
    retry.notBefore = now + fullJitterDelay(retry.attempts, config_.retryBackoffMin, config_.retryBackoffMax, rng_);
    putBackForRetry(retry, sameMap ? line : UINT32_MAX);
  }
  // An accepted record in a shard the map does not know: the stream was resharded.
  if (!shardMap_.empty() && !response_.firstShardId().empty() && !listingShards_ &&
      std::none_of(lines_.begin(), lines_.end(),
                   [&](const ShardLine& l) { return l.shardId == response_.firstShardId(); })) {
    log::info(kComponent, "records landed in {}, which the shard map lacks: listing shards again",
              response_.firstShardId());
    nextShardRefresh_ = now;
  }
  recordsSent_->Increment(static_cast<double>(slot.records.size() - failed));
  bytesSent_->Increment(static_cast<double>(acceptedBytes));
  onRequestSucceeded();
  if (failed == 0) {
    requestsOk_->Increment();
    return;
  }
  requestsPartial_->Increment();
  recordsRetried_->Increment(static_cast<double>(failed));
  log::debug(kComponent, "{} of {} records failed ({}: {}); retrying them", failed, slot.records.size(),
             response_.firstErrorCode(), response_.firstErrorMessage());
}

void KinesisSink::completeListShards(Slot& slot) {
  const auto now = context_.clock.now();
  aws::HttpRequest& http = slot.http;
  std::string problem;
  std::string type;
  if (!http.transportStatus) {
    problem = http.transportStatus.message();
  } else if (http.httpStatus != 200) {
    type = errorTypeOf(http.responseBody);
    problem = "HTTP " + std::to_string(http.httpStatus) + (type.empty() ? "" : " " + type);
  } else {
    auto next = parseListShardsPage(http.responseBody, listedShards_);
    if (!next) {
      problem = next.error().message();
    } else if (!next->empty()) {
      startListShards(*next);
      return;
    } else {
      auto map = ShardMap::fromShards(std::move(listedShards_));
      listedShards_.clear();
      if (!map) {
        problem = map.error().message();
      } else {
        bool first = shardMap_.empty();
        size_t count = map->size();
        applyShardMap(std::move(*map));
        listingShards_ = false;
        nextShardRefresh_ = now + config_.shardRefreshInterval;
        if (first) {
          log::info(kComponent, "stream {} has {} open shards; pacing each at {} records/s and {} bytes/s",
                    streamValue_, count, config_.shardRecordsPerSecond * config_.shardCapacityPercent / 100,
                    config_.shardBytesPerSecond * config_.shardCapacityPercent / 100);
        }
        return;
      }
    }
  }
  listingShards_ = false;
  requestErrors_->Add({{"pipeline", context_.pipelineName}, {"error", type.empty() ? "list_shards" : type}})
      .Increment();
  if (type == "AccessDeniedException") {
    if (!warnedNoListShards_) {
      warnedNoListShards_ = true;
      log::warn(kComponent,
                "ListShards on {} was denied: sending without per-shard pacing (grant kinesis:ListShards to pace)",
                streamValue_);
    }
    nextShardRefresh_ = now + config_.shardRefreshInterval;
  } else {
    log::warn(kComponent, "ListShards on {} failed ({}); trying again later", streamValue_, problem);
    nextShardRefresh_ = now + std::min<std::chrono::milliseconds>(config_.shardRefreshInterval, kListShardsRetry);
  }
}

void KinesisSink::bisect(Slot& slot, const ErrorClass& error, const std::string& detail) {
  requestsError_->Increment();
  requestErrors_->Add({{"pipeline", context_.pipelineName}, {"error", error.label}}).Increment();
  auto& records = slot.records;
  if (records.size() == 1) {
    const Pending& p = records.front().first;
    (error.action == ErrorAction::kTooLarge ? droppedTooLarge_ : droppedInvalid_)->Increment();
    deadLetter(p, error.action == ErrorAction::kTooLarge ? "too_large" : "invalid", error.label + ": " + detail);
    releaseKey(p);
    acknowledge(p);
    return;
  }
  log::warn(kComponent, "PutRecords with {} records refused ({}): splitting it to find the record(s) at fault",
            records.size(), error.label);
  size_t half = records.size() / 2;
  std::vector<std::pair<Pending, uint32_t>> second(records.begin() + static_cast<std::ptrdiff_t>(half),
                                                   records.end());
  records.resize(half);
  for (const auto* group : {&second, &records}) {
    for (const auto& [p, line] : *group) {
      ++pendingRecords_;
      pendingBytes_ += recordBytes(p);
    }
  }
  bisectGroups_.push_front(std::move(second));
  bisectGroups_.push_front(std::move(records));
  records.clear();
}

void KinesisSink::onRequestFailed(const ErrorClass& error, const std::string& detail) {
  const bool needsOperator = error.action == ErrorAction::kPause;
  requestsError_->Increment();
  requestErrors_->Add({{"pipeline", context_.pipelineName}, {"error", error.label}}).Increment();
  auto delay = needsOperator ? config_.retryBackoffMax : requestBackoff_.next();
  const bool globalWait = needsOperator || requestBackoff_.failures() >= kFailuresBeforeGlobalBackoff;
  if (globalWait) sendNotBefore_ = context_.clock.now() + delay;
  stateGauge_->Set(static_cast<double>(needsOperator ? SinkState::kPaused : SinkState::kRetrying));
  std::lock_guard lock(stateMutex_);
  if (error.label != lastErrorType_) {
    lastErrorType_ = error.label;
    log::error(kComponent, "PutRecords to {} failed ({}): {}; keeping {} records; {}", url_, error.label, detail,
               pendingRecords_,
               needsOperator ? fmt::format("this needs attention: sending paused, a probe every {} ms", delay.count())
               : globalWait  ? fmt::format("all sending waits {} ms", delay.count())
                             : std::string("each record is retried after its own backoff"));
  }
  if (needsOperator) {
    notReadyReason_ = "kinesis sink of pipeline " + context_.pipelineName + ": " + error.label;
    // Our own message, naming the credentials provider and its error (never
    // a secret); other details quote the endpoint's answer and stay in the log.
    if (error.label == "credentials") notReadyReason_ += ": " + detail;
  }
}

void KinesisSink::onRequestSucceeded() {
  requestBackoff_.reset();
  stateGauge_->Set(static_cast<double>(SinkState::kOk));
  std::lock_guard lock(stateMutex_);
  if (!lastErrorType_.empty()) {
    log::info(kComponent, "PutRecords to {} works again (after {})", url_, lastErrorType_);
    lastErrorType_.clear();
  }
  notReadyReason_.clear();
}

}  // namespace kinship::kinesis
