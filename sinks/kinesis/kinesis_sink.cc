#include "sinks/kinesis/kinesis_sink.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

#include <algorithm>

#include "aws/curl_http_transport.h"
#include "common/log.h"
#include "common/thread_name.h"

namespace kinship::kinesis {

namespace {

constexpr std::string_view kComponent = "kinesis";
constexpr std::string_view kPutRecords = "Kinesis_20131202.PutRecords";
constexpr std::string_view kListShards = "Kinesis_20131202.ListShards";
// While requests are in flight, new batches are picked up at least this often.
constexpr auto kMaxPollWait = std::chrono::milliseconds(10);
constexpr auto kIdleWait = std::chrono::milliseconds(100);
// Requests' worth of records the sink admits beyond those in flight, at
// most (see canAdmit).
constexpr size_t kMaxRequestsWaiting = 8;
// Under pacing, how often a request not filled to the limits may start:
// often enough that a shard's records go when its bucket holds a quantum
// (ShardPacer), not all shards' together once per burst period.
constexpr auto kPacedSendInterval = std::chrono::milliseconds(10);
// Where adaptive concurrency starts: what max_in_flight's default was
// before it adapted.
constexpr size_t kInitialConcurrency = 4;
constexpr std::string_view kDescribeStreamSummary = "Kinesis_20131202.DescribeStreamSummary";
// How long admission waits for the stream's record size at start.
constexpr auto kDescribeWait = std::chrono::seconds(2);

std::string streamFieldOf(const KinesisConfig& c) { return c.streamArn.empty() ? "StreamName" : "StreamARN"; }
std::string streamValueOf(const KinesisConfig& c) { return c.streamArn.empty() ? c.stream : c.streamArn; }

double secondsOf(Clock::TimePoint::duration d) { return std::chrono::duration<double>(d).count(); }

// Pacing and aggregation work per shard: both need the shard map.
bool needsShardMap(const KinesisConfig& c) { return c.pacing || c.aggregate; }

// What a request carries: max_batch_records, or aggregated as many records as
// fit max_batch_bytes, counted at 64 bytes each (which bounds what the sink
// holds per record when they are smaller).
size_t recordsPerRequest(const KinesisConfig& c) { return c.aggregate ? c.maxBatchBytes / 64 : c.maxBatchRecords; }

RouterOptions routerOptionsOf(const KinesisConfig& c) {
  return {c.orderingPerKey, c.linger, c.maxBatchRecords, c.maxBatchBytes, c.pacing, c.aggregate,
          c.aggregationMaxSize};
}

}  // namespace

KinesisSink::KinesisSink(const sinks::SinkContext& context, KinesisConfig config,
                         std::unique_ptr<aws::CredentialsProvider> credentials, TransportFactory transport)
    : KinesisSink(context, std::move(config),
                  [ready = std::make_shared<std::unique_ptr<aws::CredentialsProvider>>(std::move(credentials))](
                      const aws::CredentialsOptions&) { return std::move(*ready); },
                  {}, std::move(transport)) {}

KinesisSink::KinesisSink(const sinks::SinkContext& context, KinesisConfig config, CredentialsFactory credentials,
                         RegionLookup regionLookup, TransportFactory transport)
    : context_(context),
      config_(std::move(config)),
      makeCredentials_(std::move(credentials)),
      regionLookup_(std::move(regionLookup)),
      makeTransport_(std::move(transport)),
      metrics_(context.metrics, context.pipelineName),
      health_(context.pipelineName, metrics_.state),
      limits_{config_.maxBatchRecords, config_.maxBatchBytes, config_.maxRecordSize},
      router_(routerOptionsOf(config_)),
      lister_(streamFieldOf(config_), streamValueOf(config_), config_.shardRefreshInterval),
      policy_(config_.retryBackoffMin, config_.retryBackoffMax),
      sender_(config_.endpoint, config_.region, context.clock),
      concurrency_({config_.maxInFlight, config_.adaptiveConcurrency, kInitialConcurrency}, context.clock.now()),
      describer_(streamFieldOf(config_), streamValueOf(config_)) {
  requests_.reserve(config_.maxInFlight);
  freeRequests_.reserve(config_.maxInFlight);
  throttledByLine_.assign(router_.lineCount(), nullptr);
}

KinesisSink::~KinesisSink() {
  if (thread_.joinable()) stop(context_.clock.now());
}

Status KinesisSink::open() {
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
    sender_.setEndpoint(config_.endpoint, config_.region);
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
  aws::HttpOptions options{config_.connectTimeout, config_.requestTimeout, config_.caFile};
  // Every request in flight keeps its connection, and DescribeStreamSummary
  // and ListShards one each.
  options.maxConnections = static_cast<long>(config_.maxInFlight) + 2;
  sender_.open(*credentials_, makeTransport_ ? makeTransport_(options) : std::make_unique<aws::CurlHttpTransport>(options));
  if (needsShardMap(config_)) lister_.refreshAt(context_.clock.now());
  describeDue_ = !config_.maxRecordSizeSet;
  admitWithoutDescribeAt_ = context_.clock.now() + kDescribeWait;
  // Aggregation needs the shards: records wait for the first listing.
  router_.awaitShardMap(config_.aggregate);
  return Status::ok();
}

Status KinesisSink::start() {
  if (Status opened = open(); !opened) return opened;
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
  sender_.wakeup();
  if (thread_.joinable()) thread_.join();
}

void KinesisSink::run() {
  for (;;) {
    heartbeat_.beat();
    if (!turn()) return;
    waitForWork();
  }
}

bool KinesisSink::turn() {
  if (ended_) return false;
  Clock::TimePoint stopDeadline;
  {
    std::lock_guard lock(stopMutex_);
    stoppingSnapshot_ = stopping_;
    stopDeadline = stopDeadline_;
  }
  const auto now = context_.clock.now();
  if (stoppingSnapshot_ && now >= stopDeadline) {
    finish();
    return false;
  }

  if (describeDue_) startDescribe();
  // The answers that arrived, then new batches.
  if (sender_.inFlight() > 0) sender_.poll(std::chrono::milliseconds(0), completed_);
  for (aws::HttpRequest* http : completed_) completed(http, now);
  completed_.clear();
  pipeline::BatchQueue& queue = context_.queue;
  bool capped = admitFromQueue(now);
  // After the answers and the admissions (dead letters) and before the
  // freed slots send again: what can be in flight and not recorded as
  // done stays within max_in_flight requests.
  acks_.settle();

  if (needsShardMap(config_) && !stoppingSnapshot_ && lister_.due(now)) startListShards(now);
  for (;;) {
    bool sent = false;
    while (sendReady(now)) sent = true;
    // The records waiting are capped below what all free slots take
    // (canAdmit): while they leave with slots still free, take more now
    // rather than after the next answer.
    if (!sent || !capped) break;
    capped = admitFromQueue(now);
    acks_.settle();
  }
  metrics_.pendingRecords->Set(static_cast<double>(router_.pendingRecords()));
  metrics_.requestsInFlight->Set(static_cast<double>(requestsInFlight()));
  metrics_.bytesInFlight->Set(static_cast<double>(bytesInFlight_));
  metrics_.concurrencyLimit->Set(static_cast<double>(concurrency_.limit()));

  const bool inFlight = sender_.inFlight() > 0;
  const size_t pending = router_.pendingRecords();
  if (!inFlight && pending == 0 && !waited_ && stoppingSnapshot_ && queue.closed() && queue.queuedBatches() == 0) {
    finish();
    return false;
  }
  if (inFlight) {
    wakeAt_ = std::min(nextEvent(now), now + kMaxPollWait);
  } else if (pending == 0) {
    wakeAt_ = now + kIdleWait;
    if (needsShardMap(config_) && !lister_.listing()) {
      wakeAt_ = std::min(wakeAt_, std::max(now, lister_.nextRefresh()));
    }
  } else {
    wakeAt_ = nextEvent(now);
  }
  if (stoppingSnapshot_) wakeAt_ = std::min(wakeAt_, stopDeadline);
  return true;
}

void KinesisSink::waitForWork() {
  const auto now = context_.clock.now();
  const auto wait = std::max(Clock::TimePoint::duration::zero(), wakeAt_ - now);
  if (sender_.inFlight() > 0) {
    // Rounded up: a wait cut to 0 ms would turn the loop again without
    // waiting, until the instant came.
    sender_.poll(std::chrono::ceil<std::chrono::milliseconds>(wait), completed_);
    return;
  }
  pipeline::BatchQueue& queue = context_.queue;
  if (!waited_ && canAdmit() && !queue.closed()) {
    waited_ = queue.popUntil(std::chrono::steady_clock::now() + wait);
    return;
  }
  sleepUntil(wakeAt_);
}

void KinesisSink::sleepUntil(Clock::TimePoint until) {
  std::unique_lock lock(stopMutex_);
  const auto now = context_.clock.now();
  if (until <= now) return;
  // Woken early only by stop(), which brings a deadline.
  stopSignal_.wait_for(lock, until - now, [this] { return stopping_ != stoppingSnapshot_; });
}

bool KinesisSink::admitFromQueue(Clock::TimePoint now) {
  while (canAdmit()) {
    pipeline::BatchPtr batch = waited_ ? std::move(waited_) : context_.queue.tryPop();
    if (!batch) return false;
    admit(std::move(batch), now);
  }
  return true;
}

bool KinesisSink::canAdmit() const {
  if (describeInFlight_ && context_.clock.now() < admitWithoutDescribeAt_) return false;
  // One request's worth of records waiting per slot, and one more: a slot
  // that frees finds a full request ready. Twice that per slot kept more
  // batches in memory (a batch stays until its last record is answered)
  // and sent no faster (bench/RESULTS.md, "The transport on curl's socket
  // interface"). But never more than kMaxRequestsWaiting: answers come a
  // few per turn, and the queue refills the buffer each turn, so 64 slots
  // against an endpoint 25 ms away kept 32,500 records waiting for
  // nothing (bench/RESULTS.md, "The sink's buffer capped").
  const size_t requestsWaiting = std::min(concurrency_.limit() + 1, kMaxRequestsWaiting);
  return router_.pendingRecords() < recordsPerRequest(config_) * requestsWaiting &&
         router_.pendingBytes() < 2 * config_.maxBatchBytes;
}

void KinesisSink::admit(pipeline::BatchPtr batch, Clock::TimePoint now) {
  size_t kept = 0;
  // The batch was filled on another core: its keys are not in this core's
  // cache, and routing reads every one.
  constexpr uint32_t kPrefetchAhead = 8;
  const auto size = static_cast<uint32_t>(batch->size());
  for (uint32_t i = 0; i < size && i < kPrefetchAhead; ++i) __builtin_prefetch(batch->key(i).data());
  for (uint32_t i = 0; i < size; ++i) {
    if (i + kPrefetchAhead < size) __builtin_prefetch(batch->key(i + kPrefetchAhead).data());
    const size_t bytes = batch->data(i).size() + batch->key(i).size();
    if (!limits_.recordFits(bytes)) {
      metrics_.droppedTooLarge->Increment();
      deadLetter({batch.get(), i, static_cast<uint32_t>(bytes), 0, 0, 0, now, now}, "too_large",
                 fmt::format("{} bytes of data plus partition key, over max_record_size ({})", bytes,
                             limits_.maxRecordSize));
      acks_.doneAtAdmission(*batch, i);
      continue;
    }
    router_.admit(batch.get(), i, static_cast<uint32_t>(bytes), now);
    ++kept;
  }
  acks_.hold(std::move(batch), kept);
}

Clock::TimePoint KinesisSink::nextEvent(Clock::TimePoint now) {
  Clock::TimePoint next = router_.nextEvent(now, now + kIdleWait);
  auto consider = [&](Clock::TimePoint t) {
    if (t > now && t < next) next = t;
  };
  consider(sendNotBefore_);
  consider(lastSendStart_ + sendInterval_);
  if (needsShardMap(config_) && !lister_.listing()) consider(lister_.nextRefresh());
  // Never spin: something due now that could not go waits a little.
  return std::max(next, now + std::chrono::milliseconds(1));
}

bool KinesisSink::sendReady(Clock::TimePoint now) {
  if (requestsInFlight() >= concurrency_.limit() || bytesInFlight_ >= config_.maxInFlightBytes) return false;
  if (now < sendNotBefore_ || !router_.due(now, stoppingSnapshot_)) return false;
  // Halves of a refused request go as they are, as soon as a slot is free.
  const bool split = router_.splitWaiting();
  if (!split && !lastRequestFull_ && now < lastSendStart_ + sendInterval_) return false;

  if (freeRequests_.empty()) {
    requests_.push_back(std::make_unique<Request>(
        RequestBuilder(streamFieldOf(config_), streamValueOf(config_), config_.protocol, limits_)));
    freeRequests_.push_back(requests_.back().get());
  }
  Request& request = *freeRequests_.back();
  request.builder.begin();
  const bool full = router_.fill(request.builder, request.records, now);
  if (request.records.empty()) return false;
  freeRequests_.pop_back();
  if (!split) {
    lastSendStart_ = now;
    std::uniform_real_distribution<double> share(0.5, 1.0);
    sendInterval_ = std::chrono::duration_cast<Clock::TimePoint::duration>(minSendInterval_ * share(sendJitter_));
    lastRequestFull_ = full || request.builder.full();
    metrics_.recordsPerRequest->Observe(static_cast<double>(request.builder.records()));
    metrics_.bytesPerRequest->Observe(static_cast<double>(request.builder.bytes()));
    auto oldest = request.records.front().record.arrival;
    for (const TakenRecord& t : request.records) oldest = std::min(oldest, t.record.arrival);
    metrics_.waitSeconds->Observe(secondsOf(now - oldest));
  }
  request.generation = router_.generation();
  request.http.body = request.builder.finish();
  request.sentAt = now;
  if (Status sent = sender_.send(request.http, kPutRecords, config_.protocol); !sent) {
    // Nothing went out: the request is answered here.
    complete(request, notSent(sent), now);
    return true;
  }
  request.inFlight = true;
  bytesInFlight_ += request.http.body.size();
  concurrency_.onSent(requestsInFlight());
  return true;
}

void KinesisSink::completed(aws::HttpRequest* http, Clock::TimePoint now) {
  if (http == &describeRequest_) {
    describeInFlight_ = false;
    if (auto bytes = describer_.onAnswer(describeRequest_)) applyRecordSize(*bytes);
    return;
  }
  if (http == &listRequest_) {
    listInFlight_ = false;
    onListStep(lister_.onAnswer(listRequest_, now), now);
    return;
  }
  for (auto& request : requests_) {
    if (&request->http != http) continue;
    request->inFlight = false;
    bytesInFlight_ -= request->http.body.size();
    metrics_.requestSeconds->Observe(secondsOf(now - request->sentAt));
    const size_t records = request->builder.records();  // Kinesis records: the answer's
    const Answer answer = readAnswer(request->http, response_, records);
    if (auto signal = loadSignal(answer, records)) concurrency_.onAnswer(now, now - request->sentAt, *signal);
    complete(*request, answer, now);
    return;
  }
}

std::optional<ConcurrencyController::Signal> KinesisSink::loadSignal(const Answer& answer, size_t records) {
  using Signal = ConcurrencyController::Signal;
  switch (answer.kind) {
    case Answer::Kind::kNotSent: return std::nullopt;
    case Answer::Kind::kRecords: {
      const auto& results = *answer.results;
      const bool allThrottled = records != 0 && !results.empty() &&
                                std::all_of(results.begin(), results.end(),
                                            [](RecordError e) { return e == RecordError::kThrottled; });
      return allThrottled ? Signal::kBackPressure : Signal::kOk;
    }
    case Answer::Kind::kFailed:
      if (answer.error.action == ErrorAction::kRetry || answer.error.action == ErrorAction::kThrottle) {
        return Signal::kBackPressure;
      }
      return std::nullopt;
  }
  return std::nullopt;
}

void KinesisSink::complete(Request& request, const Answer& answer, Clock::TimePoint now) {
  const SendVerdict verdict = policy_.afterAnswer(answer);
  std::vector<TakenRecord>& records = request.records;
  const size_t count = records.size();
  const size_t kinesisCount = request.builder.records();
  const bool perRecord = answer.kind == Answer::Kind::kRecords;
  size_t accepted = 0;
  size_t acceptedBytes = 0;
  size_t kinesisAccepted = 0;
  size_t aggregatesAccepted = 0;
  size_t retried = 0;
  bool split = false;
  // The user records of an aggregated record (aggregation: kpl) are next to
  // each other and share its position (slot) in the request, and its fate:
  // decided at the first of them, until spanEnd.
  RecordFate fate{Fate::kRetry, 0, {}, {}};
  size_t spanEnd = 0;
  for (size_t i = 0; i < count; ++i) {
    const TakenRecord& t = records[i];
    const bool first = i == spanEnd;
    if (first) {
      for (spanEnd = i + 1; spanEnd < count && records[spanEnd].slot == t.slot;) ++spanEnd;
      fate = policy_.decide(answer, t.slot, count, t.record.attempts);
    }
    switch (fate.fate) {
      case Fate::kAccepted: {
        ++accepted;
        acceptedBytes += t.record.bytes;
        if (first) {
          if (ShardPacer* pacer = router_.pacer(t.line, request.generation)) pacer->onAccepted(now);
          ++kinesisAccepted;
          if (spanEnd - i > 1) {
            ++aggregatesAccepted;
            metrics_.aggregatedUserRecords->Observe(static_cast<double>(spanEnd - i));
          }
        }
        router_.release(t.record);
        acks_.done(t.record);
        break;
      }
      case Fate::kThrottled:
        if (ShardPacer* pacer = first ? router_.pacer(t.line, request.generation) : nullptr) {
          pacer->onThrottled(now);
          if (throttledByLine_[t.line]) throttledByLine_[t.line]->Increment();
        }
        [[fallthrough]];
      case Fate::kRetry:
      case Fate::kPaused: {
        if (perRecord && first) metrics_.failed((*answer.results)[t.slot])->Increment();
        PendingRecord again = t.record;
        again.attempts = fate.attempts;
        again.notBefore = now + fate.delay;
        // An aggregated record is retried whole (ShardRouter).
        again.group = static_cast<uint16_t>(first && spanEnd - i > 1 ? spanEnd - i : 0);
        router_.retry(again, t.line, request.generation);
        ++retried;
        break;
      }
      case Fate::kSplit: split = true; break;
      case Fate::kDeadLetter:
        (fate.deadLetterReason == "too_large" ? metrics_.droppedTooLarge : metrics_.droppedInvalid)->Increment();
        deadLetter(t.record, fate.deadLetterReason, answer.error.label + ": " + answer.detail);
        router_.release(t.record);
        acks_.done(t.record);
        break;
    }
  }
  metrics_.recordsRetried->Increment(static_cast<double>(retried));
  // Once per answer: a counter's increment is an atomic loop, and this one
  // ran per record.
  metrics_.kinesisRecordsSent->Increment(static_cast<double>(kinesisAccepted));
  metrics_.aggregatedRecordsSent->Increment(static_cast<double>(aggregatesAccepted));

  if (perRecord) {
    // An accepted record in a shard the map does not know: the stream was resharded.
    const std::string& shardId = response_.firstShardId();
    if (router_.shardCount() != 0 && !shardId.empty() && !lister_.listing() && !router_.knowsShard(shardId)) {
      log::info(kComponent, "records landed in {}, which the shard map lacks: listing shards again", shardId);
      lister_.refreshAt(now);
    }
    metrics_.recordsSent->Increment(static_cast<double>(accepted));
    metrics_.bytesSent->Increment(static_cast<double>(acceptedBytes));
    if (retried == 0) {
      metrics_.requestsOk->Increment();
    } else {
      metrics_.requestsPartial->Increment();
      log::debug(kComponent, "{} of {} records failed ({}: {}); retrying them", retried, count,
                 response_.firstErrorCode(), response_.firstErrorMessage());
    }
  } else {
    metrics_.requestsError->Increment();
    metrics_.requestError(answer.error.label);
  }
  if (split) {
    log::warn(kComponent, "PutRecords with {} records refused ({}): splitting it to find the record(s) at fault",
              kinesisCount, answer.error.label);
    // In halves of its Kinesis records; an aggregated record refused alone,
    // in halves of its user records.
    size_t cut = count / 2;
    if (kinesisCount > 1) {
      for (cut = 0; records[cut].slot < kinesisCount / 2;) ++cut;
    }
    const auto half = static_cast<std::ptrdiff_t>(cut);
    router_.split(std::vector<TakenRecord>(records.begin() + half, records.end()));
    records.resize(static_cast<size_t>(half));
    router_.split(std::move(records));
  }
  records.clear();
  freeRequests_.push_back(&request);

  if (verdict.refreshCredentials) credentials_->refreshSoon();
  if (verdict.holdAll.count() > 0) sendNotBefore_ = now + verdict.holdAll;
  switch (verdict.health) {
    case SendVerdict::Health::kUnchanged: break;
    case SendVerdict::Health::kOk: health_.succeeded(sender_.url()); break;
    case SendVerdict::Health::kRetrying:
    case SendVerdict::Health::kPaused: health_.failed(verdict, answer, sender_.url(), router_.pendingRecords()); break;
  }
}

void KinesisSink::startDescribe() {
  describeDue_ = false;
  describeRequest_.body = describer_.body();
  if (Status sent = sender_.send(describeRequest_, kDescribeStreamSummary, WireProtocol::kJson); !sent) {
    describer_.onNotSent(sent);
    return;
  }
  describeInFlight_ = true;
}

void KinesisSink::applyRecordSize(size_t bytes) {
  limits_.maxRecordSize = bytes;
  for (auto& request : requests_) request->builder.setLimits(limits_);
}

void KinesisSink::startListShards(Clock::TimePoint now) {
  lister_.begin();
  sendListPage(now);
}

void KinesisSink::sendListPage(Clock::TimePoint now) {
  listRequest_.body = lister_.body();
  if (Status sent = sender_.send(listRequest_, kListShards, WireProtocol::kJson); !sent) {
    onListStep(lister_.onNotSent(sent, now), now);
    return;
  }
  listInFlight_ = true;
}

void KinesisSink::onListStep(ShardLister::Step step, Clock::TimePoint now) {
  switch (step.kind) {
    case ShardLister::Step::Kind::kNextPage: sendListPage(now); return;
    case ShardLister::Step::Kind::kMap: applyShardMap(std::move(step.map), now); return;
    case ShardLister::Step::Kind::kFailed:
      metrics_.requestError(step.errorLabel);
      router_.awaitShardMap(false);  // aggregation: records go unaggregated meanwhile
      return;
  }
}

void KinesisSink::applyShardMap(ShardMap map, Clock::TimePoint now) {
  const bool first = router_.shardCount() == 0;
  const double share = config_.shardCapacityPercent / 100.0;
  const PacingLimits limits{config_.shardRecordsPerSecond * share, config_.shardBytesPerSecond * share, 1.0 - share};
  router_.applyShardMap(std::move(map), limits, now);
  router_.awaitShardMap(false);
  throttledByLine_.assign(router_.lineCount(), nullptr);
  for (uint32_t line = 0; line < router_.lineCount(); ++line) {
    if (!router_.shardId(line).empty()) throttledByLine_[line] = metrics_.throttledOn(router_.shardId(line));
  }
  if (config_.pacing) {
    // Never longer than the burst period: the buckets hold no more.
    minSendInterval_ = std::min(kPacedSendInterval,
                                std::chrono::milliseconds(static_cast<int64_t>(1000 * limits.burstSeconds)));
  }
  metrics_.shards->Set(static_cast<double>(router_.shardCount()));
  if (first && config_.pacing) {
    log::info(kComponent, "stream {} has {} open shards; pacing each at {} records/s and {} bytes/s",
              streamValueOf(config_), router_.shardCount(), limits.recordsPerSecond, limits.bytesPerSecond);
  } else if (first) {
    log::info(kComponent, "stream {} has {} open shards; aggregating records for each", streamValueOf(config_),
              router_.shardCount());
  }
}

void KinesisSink::deadLetter(const PendingRecord& p, std::string_view reason, std::string_view detail) {
  std::string_view key = p.key();
  if (!deadLetterFile_) {
    log::warn(kComponent, "record with partition key '{}' can never be sent ({}: {}): dropped (no dead_letter_path)",
              key, reason, detail);
    return;
  }
  Status written = deadLetterFile_->write(reason, detail, context_.pipelineName, key, p.data());
  if (!written) {
    metrics_.deadLetterErrors->Increment();
    log::error(kComponent, "record with partition key '{}' can never be sent ({}: {}) and was dropped: {}", key,
               reason, detail, written.message());
    return;
  }
  metrics_.deadLetter(reason);
  log::warn(kComponent, "record with partition key '{}' can never be sent ({}: {}): written to {}", key, reason,
            detail, config_.deadLetterPath);
}

void KinesisSink::finish() {
  ended_ = true;
  acks_.settle();
  size_t undelivered = router_.pendingRecords();
  for (auto& request : requests_) {
    if (!request->inFlight) continue;
    sender_.cancel(request->http);
    request->inFlight = false;
    bytesInFlight_ -= request->http.body.size();
    undelivered += request->records.size();
  }
  if (listInFlight_) sender_.cancel(listRequest_);
  if (describeInFlight_) sender_.cancel(describeRequest_);
  if (waited_) undelivered += waited_->size();
  waited_.reset();
  while (auto batch = context_.queue.tryPop()) undelivered += batch->size();
  if (undelivered != 0 && context_.spooled) {
    log::info(kComponent, "shutdown_timeout ran out with {} records of pipeline {} undelivered; they stay in the "
              "spool and are sent after the next start", undelivered, context_.pipelineName);
  } else if (undelivered != 0) {
    metrics_.droppedShutdown->Increment(static_cast<double>(undelivered));
    log::error(kComponent, "shutdown_timeout ran out with {} records of pipeline {} undelivered", undelivered,
               context_.pipelineName);
  }
  router_.clear();
  acks_.clear();
}

}  // namespace kinship::kinesis
