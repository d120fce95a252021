// The Kinesis sink's clock, at exact instants of a manual clock: linger,
// backoff (per record, and for all sending after failures in a row),
// request timeouts, pacing refill and throttling. And once on its own
// thread, on the system clock, as the daemon runs it.

#include "tests/unit/sinks/kinesis/kinesis_sink_fixture.h"

namespace kinship::kinesis {
namespace {

using namespace kinship::kinesis::test;

// The top of the hash-key space: the last shard of any map.
constexpr std::string_view kLastShard = "340282366920938463463374607431768211455";

// When each PutRecords request went (not ListShards or DescribeStreamSummary).
template <typename Sent>
std::vector<Clock::TimePoint> putRecordsTimes(const Sent& sent) {
  std::vector<Clock::TimePoint> times;
  for (const auto& s : sent) {
    if (s.body.find("\"Records\"") != std::string::npos) times.push_back(s.at);
  }
  return times;
}

TEST_F(KinesisSinkTest, ASmallRequestGoesWhenItsOldestRecordHasLingeredExactly) {
  ScriptedKinesis kinesis;
  auto config = configFor(kinesis);
  config.linger = 200ms;
  auto sink = startSink(config);
  const auto t0 = clock_.now();
  push(3, 3);
  ASSERT_TRUE(runUntilRequests(kinesis, 1));
  EXPECT_EQ(transport_->sent().at(0).at - t0, 200ms);
  EXPECT_EQ(kinesis.requests().at(0).size(), 3u);
  // A record admitted later lingers from its own arrival.
  clock_.advance(1s);
  const auto t1 = clock_.now();
  push(1, 1);
  ASSERT_TRUE(runUntilRequests(kinesis, 2));
  EXPECT_EQ(transport_->sent().at(1).at - t1, 200ms);
  stopSink(*sink);
  EXPECT_EQ(metric("kinship_sink_records_sent_total"), 4);
}

TEST_F(KinesisSinkTest, AFullRequestGoesAtOnce) {
  ScriptedKinesis kinesis;
  auto config = configFor(kinesis);
  config.linger = 60s;
  config.maxInFlight = 1;
  auto sink = startSink(config);
  const auto t0 = clock_.now();
  push(750, 750);
  ASSERT_TRUE(runUntilRequests(kinesis, 1));
  EXPECT_EQ(transport_->sent().at(0).at, t0);
  EXPECT_EQ(kinesis.requests().at(0).size(), 500u);
  // The other 250 linger the full minute (or go at shutdown).
  ASSERT_TRUE(runUntilRequests(kinesis, 2));
  EXPECT_EQ(transport_->sent().at(1).at - t0, 60s);
  stopSink(*sink);
}

TEST_F(KinesisSinkTest, AFailedRecordIsSentAgainExactlyItsBackoffAfterTheAnswer) {
  ScriptedKinesis kinesis([](size_t request, size_t position, const SentRecord&) -> std::string {
    return request == 0 && position == 1 ? "InternalFailure" : "";
  });
  auto config = configFor(kinesis);
  config.retryBackoffMin = 100ms;
  config.retryBackoffMax = 100ms;
  auto sink = startSink(config);
  kinesis.delayNext(ScriptedReply::after(30ms));
  push(3, 3);
  ASSERT_TRUE(runUntilAccepted(kinesis, 3));
  auto sent = transport_->sent();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[1].at - sent[0].at, 30ms + 100ms);  // the answer's latency, then the backoff
  EXPECT_EQ(kinesis.requests().at(1).size(), 1u);
  stopSink(*sink);
  EXPECT_EQ(metric("kinship_sink_records_retried_total"), 1);
}

TEST_F(KinesisSinkTest, BackoffDoublesItsCeilingWithEachFailedAttemptUpToTheMax) {
  // r0 fails five times.
  ScriptedKinesis kinesis([](size_t request, size_t, const SentRecord& r) -> std::string {
    return request < 5 && r.data == "r0" ? "InternalFailure" : "";
  });
  auto config = configFor(kinesis);
  config.retryBackoffMin = 100ms;
  config.retryBackoffMax = 400ms;
  auto sink = startSink(config);
  push(1, 1);
  ASSERT_TRUE(runUntilAccepted(kinesis, 1));
  auto sent = transport_->sent();
  ASSERT_EQ(sent.size(), 6u);
  // Answers arrive at once; full jitter in [min, min(max, min * 2^(n-1))].
  const std::chrono::milliseconds ceilings[] = {100ms, 200ms, 400ms, 400ms, 400ms};
  for (size_t n = 0; n < 5; ++n) {
    auto gap = sent[n + 1].at - sent[n].at;
    EXPECT_GE(gap, 100ms) << "attempt " << n + 1;
    EXPECT_LE(gap, ceilings[n]) << "attempt " << n + 1;
  }
  stopSink(*sink);
  EXPECT_EQ(metric("kinship_sink_records_retried_total"), 5);
}

TEST_F(KinesisSinkTest, ARequestUnansweredForRequestTimeoutFailsThenAndIsRetried) {
  ScriptedKinesis kinesis;
  auto config = configFor(kinesis);
  config.requestTimeout = 2s;
  config.retryBackoffMin = 50ms;
  config.retryBackoffMax = 50ms;
  auto sink = startSink(config);
  kinesis.delayNext(ScriptedReply::never());
  push(2, 2);
  ASSERT_TRUE(runUntilRequests(kinesis, 1));
  const auto first = transport_->sent().at(0).at;
  ASSERT_TRUE(runUntil([&] { return metric("kinship_sink_request_errors_total", {{"error", "transport_timeout"}}) == 1; }));
  EXPECT_EQ(clock_.now() - first, 2s);
  EXPECT_EQ(kinesis.acceptedCount(), 0u);
  ASSERT_TRUE(runUntilAccepted(kinesis, 2));
  EXPECT_EQ(transport_->sent().at(1).at - first, 2s + 50ms);
  stopSink(*sink);
  EXPECT_EQ(metric("kinship_sink_records_retried_total"), 2);
  EXPECT_EQ(sink->notReadyReason(), "") << "a timeout is retried, not a pause";
}

TEST_F(KinesisSinkTest, AfterThreeRequestFailuresInARowEverySendWaits) {
  ScriptedKinesis kinesis({}, [](size_t request, const auto&) -> std::optional<HttpReply> {
    if (request < 3) return HttpReply{503, R"({"__type":"ServiceUnavailable"})"};
    return std::nullopt;
  });
  auto config = configFor(kinesis);
  config.retryBackoffMin = 100ms;
  config.retryBackoffMax = 100ms;
  config.linger = 10ms;
  config.orderingPerKey = false;
  auto sink = startSink(config);
  push(1, 1);
  ASSERT_TRUE(runUntilRequests(kinesis, 1));
  // One failure: the failed record backs off; a new one goes after its linger.
  const auto afterFirst = clock_.now();
  push(1, 1);
  ASSERT_TRUE(runUntilRequests(kinesis, 2));
  EXPECT_EQ(clock_.now() - afterFirst, 10ms);
  ASSERT_TRUE(runUntilRequests(kinesis, 3));
  EXPECT_EQ(metric("kinship_sink_state"), 1);
  // Three in a row: everything waits for the hold, new records too.
  const auto afterThird = clock_.now();
  push(1, 1);
  ASSERT_TRUE(runUntilRequests(kinesis, 4));
  EXPECT_EQ(clock_.now() - afterThird, 100ms);
  ASSERT_TRUE(runUntilAccepted(kinesis, 3));
  EXPECT_EQ(metric("kinship_sink_state"), 0);
  stopSink(*sink);
  EXPECT_EQ(metric("kinship_sink_request_errors_total", {{"error", "ServiceUnavailable"}}), 3);
}

TEST_F(KinesisSinkTest, APacedShardTakesARecordEachTimeItsBucketRefills) {
  ScriptedKinesis kinesis;
  auto config = configFor(kinesis);
  config.pacing = true;
  config.shardRecordsPerSecond = 20;  // 19 per second at 95%: a bucket of one token
  auto sink = startSink(config);
  ASSERT_TRUE(runUntil([&] { return metric("kinship_sink_shards") == 2; }));
  auto batch = queue_.acquire();
  for (int i = 0; i < 7; ++i) batch->append("r" + std::to_string(i), "k" + std::to_string(i), kLastShard);
  queue_.push(std::move(batch));
  ASSERT_TRUE(runUntilAccepted(kinesis, 7));
  const auto puts = putRecordsTimes(transport_->sent());
  ASSERT_EQ(puts.size(), 7u) << "one record per request";
  // The shard starts at an eighth of its rate (slow start); the first two
  // answers without a throttle bring it to the full rate. From then on, a
  // token every 1/19 s (52.6 ms); the buckets' arithmetic is in doubles, so
  // allow a millisecond.
  EXPECT_GT(puts[1] - puts[0], 100ms) << "slow start";
  for (size_t i = 3; i < puts.size(); ++i) {
    EXPECT_GE(puts[i] - puts[i - 1], 52ms) << i;
    EXPECT_LE(puts[i] - puts[i - 1], 54ms) << i;
  }
  stopSink(*sink);
}

TEST_F(KinesisSinkTest, PacedRequestsStartAtJitteredIntervalsOf5To10Ms) {
  // Daemons that share a stream must not send in step with Kinesis's
  // sliding second: one sending at a fixed period keeps finding the room
  // its own records left a second before.
  ScriptedKinesis kinesis;
  auto config = configFor(kinesis);
  config.pacing = true;
  config.shardRecordsPerSecond = 2000;  // 1,900/s at 95%: 10-19 records per request, never 500
  auto sink = startSink(config);
  ASSERT_TRUE(runUntil([&] { return metric("kinship_sink_shards") == 2; }));
  auto batch = queue_.acquire();
  for (int i = 0; i < 2000; ++i) batch->append("r" + std::to_string(i), "k" + std::to_string(i), kLastShard);
  queue_.push(std::move(batch));
  ASSERT_TRUE(runUntilAccepted(kinesis, 2000));
  stopSink(*sink);
  const auto puts = putRecordsTimes(transport_->sent());
  ASSERT_GE(puts.size(), 21u);
  size_t shorter = 0;
  size_t longer = 0;
  // Slow start has ended well within 400 ms (answers come at once).
  size_t i = 1;
  while (i < puts.size() && puts[i] - puts[0] < 400ms) ++i;
  ASSERT_GE(puts.size() - i, 20u);
  for (; i < puts.size(); ++i) {
    const auto gap = puts[i] - puts[i - 1];
    EXPECT_GE(gap, 5ms) << i;
    EXPECT_LE(gap, 11ms) << i;  // 10 ms, or the millisecond the loop waits at least
    (gap < 7500us ? shorter : longer) += 1;
  }
  // Drawn uniformly: twenty or more all on one side of the middle would
  // happen about once in a million runs.
  EXPECT_GT(shorter, 0u);
  EXPECT_GT(longer, 0u);
}

TEST_F(KinesisSinkTest, ThrottledRecordsAreCountedByShardAndRetried) {
  ScriptedKinesis kinesis([](size_t request, size_t, const SentRecord&) -> std::string {
    return request == 0 ? "ProvisionedThroughputExceededException" : "";
  });
  auto config = configFor(kinesis);
  config.pacing = true;
  config.shardRecordsPerSecond = 1000000;
  auto sink = startSink(config);
  ASSERT_TRUE(runUntil([&] { return metric("kinship_sink_shards") == 2; }));
  auto batch = queue_.acquire();
  for (int i = 0; i < 4; ++i) batch->append("r" + std::to_string(i), "k", kLastShard);
  queue_.push(std::move(batch));
  ASSERT_TRUE(runUntilAccepted(kinesis, 4));
  stopSink(*sink);
  EXPECT_EQ(metric("kinship_sink_throttled_records_total", {{"shard", "shardId-000000000001"}}), 4);
  EXPECT_EQ(metric("kinship_sink_records_failed_total", {{"error_code", "ProvisionedThroughputExceededException"}}), 4);
  EXPECT_EQ(metric("kinship_sink_records_retried_total"), 4);
  EXPECT_EQ(metric("kinship_sink_requests_total", {{"outcome", "partial"}}), 1);
}

TEST_F(KinesisSinkTest, ARequestLevelThrottleNamesNoShard) {
  ScriptedKinesis kinesis({}, [](size_t request, const auto&) -> std::optional<HttpReply> {
    if (request == 0) return HttpReply{400, R"({"__type":"ProvisionedThroughputExceededException"})"};
    return std::nullopt;
  });
  auto config = configFor(kinesis);
  config.pacing = true;
  config.shardRecordsPerSecond = 1000000;
  auto sink = startSink(config);
  ASSERT_TRUE(runUntil([&] { return metric("kinship_sink_shards") == 2; }));
  push(3, 3);
  ASSERT_TRUE(runUntilAccepted(kinesis, 3));
  stopSink(*sink);
  EXPECT_EQ(metric("kinship_sink_request_errors_total", {{"error", "ProvisionedThroughputExceededException"}}), 1);
  EXPECT_EQ(metric("kinship_sink_throttled_records_total", {{"shard", "shardId-000000000000"}}), 0);
  EXPECT_EQ(metric("kinship_sink_throttled_records_total", {{"shard", "shardId-000000000001"}}), 0);
  EXPECT_EQ(sink->notReadyReason(), "");
}

TEST_F(KinesisSinkTest, ShardsAreListedAgainAfterTheRefreshInterval) {
  ScriptedKinesis kinesis;
  auto config = configFor(kinesis);
  config.pacing = true;
  config.shardRefreshInterval = 60s;
  auto sink = startSink(config);
  const auto t0 = clock_.now();
  ASSERT_TRUE(runUntilListShards(kinesis, 1));
  EXPECT_EQ(clock_.now(), t0);
  ASSERT_TRUE(runUntilListShards(kinesis, 2));
  EXPECT_EQ(clock_.now() - t0, 60s);
  stopSink(*sink);
}

TEST_F(KinesisSinkTest, OnItsOwnThreadOnTheSystemClockItDeliversEverythingAndStops) {
  ScriptedKinesis kinesis;
  auto config = configFor(kinesis);
  auto sink = std::make_unique<KinesisSink>(
      sinks::SinkContext{queue_, registry_, "p", SystemClock::instance()}, config, std::make_unique<StaticCredentials>(),
      [&](const aws::HttpOptions& options) {
        return std::make_unique<ScriptedTransport>(SystemClock::instance(), options,
                                                   [&](const aws::HttpRequest& r) { return kinesis.respond(r); });
      });
  ASSERT_TRUE(sink->start());
  push(1200);
  ASSERT_TRUE(kinesis.waitForAccepted(1200));
  sink->stop(std::chrono::steady_clock::now() + 5s);
  EXPECT_EQ(dataOf(kinesis.accepted()).size(), 1200u);
  EXPECT_EQ(metric("kinship_sink_records_sent_total"), 1200);
  EXPECT_FALSE(sink->heartbeat()->lastBeat().has_value()) << "the thread has left its loop";
}

TEST_F(KinesisSinkTest, TheTransportKeepsAConnectionForEveryRequestThatMayBeInFlight) {
  // Plus DescribeStreamSummary's and ListShards': with fewer, requests
  // beyond them reopen a connection (a TLS handshake) each time.
  ScriptedKinesis kinesis;
  auto config = configFor(kinesis);
  config.maxInFlight = 96;
  long maxConnections = 0;
  auto sink = std::make_unique<KinesisSink>(
      sinks::SinkContext{queue_, registry_, "p", SystemClock::instance()}, config, std::make_unique<StaticCredentials>(),
      [&](const aws::HttpOptions& options) {
        maxConnections = options.maxConnections;
        return std::make_unique<ScriptedTransport>(SystemClock::instance(), options,
                                                   [&](const aws::HttpRequest& r) { return kinesis.respond(r); });
      });
  ASSERT_TRUE(sink->start());
  EXPECT_EQ(maxConnections, 98);
  sink->stop(std::chrono::steady_clock::now() + 5s);
}

// Requests in flight at each instant, from when they went out, all
// answered `roundTrip` later: the most at once, and how many went out
// before the first answer came.
struct InFlightProfile {
  size_t most = 0;
  size_t beforeFirstAnswer = 0;
};
InFlightProfile inFlightProfile(const std::vector<ScriptedTransport::Sent>& sent, Clock::TimePoint::duration roundTrip) {
  InFlightProfile profile;
  for (size_t i = 0; i < sent.size(); ++i) {
    size_t atOnce = 0;
    for (size_t j = 0; j <= i; ++j) {
      if (sent[j].at + roundTrip > sent[i].at) ++atOnce;
    }
    profile.most = std::max(profile.most, atOnce);
    if (!sent.empty() && sent[i].at < sent.front().at + roundTrip) ++profile.beforeFirstAnswer;
  }
  return profile;
}

TEST_F(KinesisSinkTest, AdaptiveConcurrencyStartsAtFourAndGrowsWhileRequestsWaitOnTheNetwork) {
  ScriptedKinesis kinesis;
  kinesis.answerAfter(25ms);
  auto config = configFor(kinesis);
  config.pacing = false;
  config.maxBatchRecords = 10;
  auto sink = startSink(config);
  push(20000, 500);
  ASSERT_TRUE(runUntilAccepted(kinesis, 20000));
  const InFlightProfile profile = inFlightProfile(transport_->sent(), 25ms);
  EXPECT_EQ(profile.beforeFirstAnswer, 4u);
  EXPECT_GE(profile.most, 32u);
  EXPECT_LE(profile.most, 64u);
  EXPECT_EQ(metric("kinship_sink_concurrency_limit"), static_cast<double>(profile.most));
  stopSink(*sink);
  EXPECT_EQ(kinesis.acceptedCount(), 20000u);
}

TEST_F(KinesisSinkTest, FixedConcurrencyIsMaxInFlightFromTheStart) {
  ScriptedKinesis kinesis;
  kinesis.answerAfter(25ms);
  auto config = configFor(kinesis);
  config.pacing = false;
  config.maxBatchRecords = 10;
  config.maxInFlight = 8;
  config.adaptiveConcurrency = false;
  auto sink = startSink(config);
  push(2000, 500);
  ASSERT_TRUE(runUntilAccepted(kinesis, 2000));
  const InFlightProfile profile = inFlightProfile(transport_->sent(), 25ms);
  EXPECT_EQ(profile.beforeFirstAnswer, 8u);
  EXPECT_EQ(profile.most, 8u);
  stopSink(*sink);
}

// Beside the requests in flight the sink keeps one request's worth of
// records per slot, and one more, but at most eight requests' worth: with
// 32 slots it would otherwise hold 33 requests' worth that only wait.
TEST_F(KinesisSinkTest, TheRecordsWaitingBesideThoseInFlightAreAtMostEightRequestsWorth) {
  ScriptedKinesis kinesis;
  kinesis.answerAfter(25ms);
  auto config = configFor(kinesis);
  config.pacing = false;
  config.maxBatchRecords = 10;
  config.maxInFlight = 32;
  config.adaptiveConcurrency = false;
  auto sink = startSink(config);
  push(4000, 10);
  double most = 0;
  ASSERT_TRUE(runUntil([&] {
    most = std::max(most, metric("kinship_sink_pending_records"));
    return kinesis.acceptedCount() >= 4000;
  }));
  // It did fill up: a turn whose sends empty the buffer with slots still
  // free admits again (without that, eight requests went per turn and
  // nothing was left waiting).
  EXPECT_GE(most, 80.0);
  EXPECT_LT(most, 80.0 + 10);  // eight requests of 10, and one batch of 10 beyond
  stopSink(*sink);
  EXPECT_EQ(kinesis.acceptedCount(), 4000u);
}

TEST_F(KinesisSinkTest, BytesInFlightStayUnderMaxInFlightBytesPlusOneRequest) {
  ScriptedKinesis kinesis;
  kinesis.answerAfter(25ms);
  auto config = configFor(kinesis);
  config.pacing = false;
  config.maxBatchRecords = 10;
  config.maxInFlightBytes = 64 * 1024;
  auto sink = startSink(config);
  push(4000, 500, 1000);  // 10 records of 1,000 bytes: about 10 KB a request
  ASSERT_TRUE(runUntilAccepted(kinesis, 4000));
  const auto sent = transport_->sent();
  size_t most = 0;
  size_t largest = 0;
  for (size_t i = 0; i < sent.size(); ++i) {
    size_t bytes = 0;
    for (size_t j = 0; j <= i; ++j) {
      if (sent[j].at + 25ms > sent[i].at) bytes += sent[j].body.size();
    }
    most = std::max(most, bytes);
    largest = std::max(largest, sent[i].body.size());
  }
  EXPECT_LT(most, config.maxInFlightBytes + largest);
  EXPECT_GE(most, config.maxInFlightBytes / 2);  // it did fill up
  stopSink(*sink);
}

}  // namespace
}  // namespace kinship::kinesis
