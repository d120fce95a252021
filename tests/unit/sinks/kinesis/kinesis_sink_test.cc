// The Kinesis sink against a scripted endpoint, on a manual clock: batching
// limits, retries of exactly the failed records, request-level errors,
// drops, shutdown, acknowledgements; linger, backoff, pacing and request
// timeouts at exact instants.

#include "tests/unit/sinks/kinesis/kinesis_sink_fixture.h"

namespace kinship::kinesis {
namespace {

using namespace kinship::kinesis::test;

TEST_F(KinesisSinkTest, DeliversEveryRecordOnceInRequestsOfAtMost500) {
  ScriptedKinesis kinesis;
  auto sink = startSink(configFor(kinesis));
  push(1200);
  ASSERT_TRUE(runUntilAccepted(kinesis, 1200));
  stopSink(*sink);

  auto accepted = kinesis.accepted();
  EXPECT_EQ(accepted.size(), 1200u);
  EXPECT_EQ(dataOf(accepted).size(), 1200u);
  // Requests run concurrently, so arrival order is not asserted; each
  // record keeps its own key.
  for (const auto& r : accepted) EXPECT_EQ(r.key, "k" + std::to_string(std::stoi(r.data.substr(1)) % 7)) << r.data;
  for (const auto& request : kinesis.requests()) EXPECT_LE(request.size(), 500u);
  EXPECT_GE(kinesis.requests().size(), 3u);
  EXPECT_EQ(metric("kinship_sink_records_sent_total"), 1200);
  EXPECT_EQ(metric("kinship_sink_records_retried_total"), 0);
}

TEST_F(KinesisSinkTest, SignsRequestsForKinesisPutRecords) {
  ScriptedKinesis kinesis;
  auto sink = startSink(configFor(kinesis));
  push(1);
  ASSERT_TRUE(runUntilAccepted(kinesis, 1));
  stopSink(*sink);

  HttpRequest r = kinesis.rawRequests().at(0);
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/");
  EXPECT_EQ(r.headers["x-amz-target"], "Kinesis_20131202.PutRecords");
  EXPECT_EQ(r.headers["content-type"], "application/x-amz-json-1.1");
  EXPECT_EQ(r.headers["host"], "127.0.0.1:" + kinesis.url().substr(kinesis.url().rfind(':') + 1));
  EXPECT_TRUE(r.headers["authorization"].starts_with("AWS4-HMAC-SHA256 Credential=AKIDTEST/"))
      << r.headers["authorization"];
  EXPECT_NE(r.headers["authorization"].find("/us-east-1/kinesis/aws4_request"), std::string::npos);
  EXPECT_EQ(r.body.rfind("{\"StreamName\":\"test-stream\",\"Records\":[", 0), 0u);
}

TEST_F(KinesisSinkTest, RequestsStayWithinTheByteLimitIncludingKeys) {
  ScriptedKinesis kinesis;
  auto config = configFor(kinesis);
  auto sink = startSink(config);
  push(40, 4, 400 * 1024);
  ASSERT_TRUE(runUntilAccepted(kinesis, 40));
  stopSink(*sink);

  for (const auto& request : kinesis.requests()) {
    size_t bytes = 0;
    for (const auto& r : request) bytes += r.data.size() + r.key.size();
    EXPECT_LE(bytes, kMaxBytesPerRequest);
  }
  EXPECT_EQ(dataOf(kinesis.accepted()).size(), 40u);
}

TEST_F(KinesisSinkTest, RetriesOnlyTheRecordsThatFailed) {
  ScriptedKinesis kinesis([](size_t request, size_t position, const SentRecord&) -> std::string {
    if (request != 0) return "";
    if (position == 1) return "ProvisionedThroughputExceededException";
    if (position == 3) return "InternalFailure";
    return "";
  });
  auto sink = startSink(configFor(kinesis));
  push(5, 5);
  ASSERT_TRUE(runUntilAccepted(kinesis, 5));
  stopSink(*sink);

  auto requests = kinesis.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].size(), 5u);
  ASSERT_EQ(requests[1].size(), 2u);
  EXPECT_EQ(requests[1][0].data, "r1");
  EXPECT_EQ(requests[1][1].data, "r3");
  auto accepted = kinesis.accepted();
  EXPECT_EQ(accepted.size(), 5u);
  EXPECT_EQ(dataOf(accepted), (std::set<std::string>{"r0", "r1", "r2", "r3", "r4"}));
  EXPECT_EQ(metric("kinship_sink_records_failed_total", {{"error_code", "ProvisionedThroughputExceededException"}}), 1);
  EXPECT_EQ(metric("kinship_sink_records_failed_total", {{"error_code", "InternalFailure"}}), 1);
  EXPECT_EQ(metric("kinship_sink_records_retried_total"), 2);
  EXPECT_EQ(metric("kinship_sink_requests_total", {{"outcome", "partial"}}), 1);
  EXPECT_EQ(metric("kinship_sink_requests_total", {{"outcome", "ok"}}), 1);
  EXPECT_EQ(metric("kinship_sink_records_sent_total"), 5);
}

TEST_F(KinesisSinkTest, CborRequestsCarryRawBytesAndCborAnswersDriveRetries) {
  ScriptedKinesis kinesis([](size_t request, size_t position, const SentRecord&) -> std::string {
    if (request != 0) return "";
    if (position == 1) return "ProvisionedThroughputExceededException";
    if (position == 3) return "InternalFailure";
    return "";
  });
  auto config = configFor(kinesis);
  config.protocol = WireProtocol::kCbor;
  auto sink = startSink(config);
  auto batch = queue_.acquire();
  const std::string binary("\x00\xff\"\\\n", 5);  // what JSON would have to escape or base64
  for (int i = 0; i < 5; ++i) batch->append("r" + std::to_string(i) + binary, "k" + std::to_string(i));
  queue_.push(std::move(batch));
  ASSERT_TRUE(runUntilAccepted(kinesis, 5));
  stopSink(*sink);

  for (const auto& r : kinesis.rawRequests()) {
    EXPECT_EQ(r.headers.at("content-type"), "application/x-amz-cbor-1.1");
    EXPECT_NE(r.headers.at("authorization").find("content-type"), std::string::npos);  // signed
  }
  auto requests = kinesis.requests();
  ASSERT_EQ(requests.size(), 2u);
  ASSERT_EQ(requests[0].size(), 5u);
  EXPECT_EQ(requests[0][2].data, "r2" + binary);
  EXPECT_EQ(requests[0][2].key, "k2");
  ASSERT_EQ(requests[1].size(), 2u);
  EXPECT_EQ(requests[1][0].data, "r1" + binary);
  EXPECT_EQ(requests[1][1].data, "r3" + binary);
  EXPECT_EQ(metric("kinship_sink_records_failed_total", {{"error_code", "ProvisionedThroughputExceededException"}}), 1);
  EXPECT_EQ(metric("kinship_sink_records_failed_total", {{"error_code", "InternalFailure"}}), 1);
  EXPECT_EQ(metric("kinship_sink_records_sent_total"), 5);
}

TEST_F(KinesisSinkTest, RetriesTheWholeRequestAfterAServerError) {
  ScriptedKinesis kinesis({}, [](size_t request, const auto&) -> std::optional<HttpReply> {
    if (request == 0) return HttpReply{500, R"({"__type":"InternalFailure","message":"boom"})"};
    return std::nullopt;
  });
  auto sink = startSink(configFor(kinesis));
  push(10, 10);
  ASSERT_TRUE(runUntilAccepted(kinesis, 10));
  stopSink(*sink);

  EXPECT_EQ(kinesis.accepted().size(), 10u);
  EXPECT_EQ(metric("kinship_sink_request_errors_total", {{"error", "InternalFailure"}}), 1);
  EXPECT_EQ(metric("kinship_sink_records_retried_total"), 10);
}

TEST_F(KinesisSinkTest, RetriesAfterTheConnectionDrops) {
  ScriptedKinesis kinesis({}, [](size_t request, const auto&) -> std::optional<HttpReply> {
    if (request == 0) {
      HttpReply drop;
      drop.closeConnection = true;
      return drop;
    }
    return std::nullopt;
  });
  auto sink = startSink(configFor(kinesis));
  push(3, 3);
  ASSERT_TRUE(runUntilAccepted(kinesis, 3));
  stopSink(*sink);
  EXPECT_EQ(dataOf(kinesis.accepted()).size(), 3u);
  EXPECT_EQ(metric("kinship_sink_request_errors_total", {{"error", "transport_reset"}}), 1);
}

TEST_F(KinesisSinkTest, AnOversizedAnswerIsRefusedAndTheRecordsRetried) {
  ScriptedKinesis kinesis({}, [](size_t request, const auto&) -> std::optional<HttpReply> {
    if (request == 0) return HttpReply{200, std::string(9 * 1024 * 1024, ' ')};  // over the 8 MiB bound
    return std::nullopt;
  });
  auto sink = startSink(configFor(kinesis));
  push(3, 3);
  ASSERT_TRUE(runUntilAccepted(kinesis, 3));
  stopSink(*sink);
  EXPECT_EQ(dataOf(kinesis.accepted()).size(), 3u);
  EXPECT_EQ(metric("kinship_sink_request_errors_total", {{"error", "bad_response"}}), 1);
  EXPECT_EQ(sink->notReadyReason(), "");
}

TEST_F(KinesisSinkTest, AccessDeniedMakesTheSinkNotReadyUntilARequestWorks) {
  bool deny = true;
  size_t denied = 0;
  std::vector<Clock::TimePoint> deniedAt;
  ScriptedKinesis kinesis({}, [&](size_t, const auto&) -> std::optional<HttpReply> {
    if (!deny) return std::nullopt;
    ++denied;
    deniedAt.push_back(clock_.now());
    return HttpReply{400, R"({"__type":"AccessDeniedException","message":"no"})"};
  });
  auto config = configFor(kinesis);
  config.retryBackoffMax = std::chrono::milliseconds(500);
  auto sink = startSink(config);
  push(4, 4);
  ASSERT_TRUE(runUntil([&] { return denied >= 3; }));
  EXPECT_NE(sink->notReadyReason().find("AccessDeniedException"), std::string::npos) << sink->notReadyReason();
  EXPECT_EQ(metric("kinship_sink_state"), 2);
  // Paused: a probe every retry_backoff_max, no sooner.
  EXPECT_EQ(deniedAt[1] - deniedAt[0], config.retryBackoffMax);
  EXPECT_EQ(deniedAt[2] - deniedAt[1], config.retryBackoffMax);
  deny = false;
  ASSERT_TRUE(runUntilAccepted(kinesis, 4));
  stopSink(*sink);
  EXPECT_EQ(sink->notReadyReason(), "");
  EXPECT_EQ(metric("kinship_sink_state"), 0);
  EXPECT_EQ(dataOf(kinesis.accepted()).size(), 4u);
}

TEST_F(KinesisSinkTest, DropsAndCountsARecordLargerThanTheLimit) {
  ScriptedKinesis kinesis;
  auto config = configFor(kinesis);
  config.maxRecordSize = 1024;
  auto sink = startSink(config);
  auto batch = queue_.acquire();
  batch->append("small", "k");
  batch->append(std::string(1024, 'x'), "k");  // 1025 bytes with its key
  batch->append("after", "k");
  queue_.push(std::move(batch));
  ASSERT_TRUE(runUntilAccepted(kinesis, 2));
  stopSink(*sink);
  EXPECT_EQ(dataOf(kinesis.accepted()), (std::set<std::string>{"small", "after"}));
  EXPECT_EQ(metric("kinship_sink_records_dropped_total", {{"reason", "too_large"}}), 1);
}

TEST_F(KinesisSinkTest, CountsWhatIsUndeliveredWhenTheShutdownDeadlinePasses) {
  ScriptedKinesis kinesis({}, [](size_t, const auto&) -> std::optional<HttpReply> {
    return HttpReply{503, R"({"__type":"ServiceUnavailable"})"};
  });
  auto sink = startSink(configFor(kinesis));
  push(10, 5);
  stopSink(*sink, 300ms);
  EXPECT_EQ(kinesis.accepted().size(), 0u);
  EXPECT_EQ(metric("kinship_sink_records_dropped_total", {{"reason", "shutdown"}}), 10);
}

TEST_F(KinesisSinkTest, BoundariesOf500RecordsPerRequest) {
  ScriptedKinesis kinesis;
  auto config = configFor(kinesis);
  config.linger = std::chrono::milliseconds(60000);  // only a full request goes before shutdown
  config.maxInFlight = 1;
  auto sink = startSink(config);
  push(501, 501);
  ASSERT_TRUE(runUntilAccepted(kinesis, 500));
  EXPECT_EQ(kinesis.requests().at(0).size(), 500u);
  stopSink(*sink);
  auto requests = kinesis.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].size(), 1u);  // the 501st, flushed at shutdown
}

TEST_F(KinesisSinkTest, BoundariesOf5MiBPerRequestAndOfTheRecordLimitKeyIncluded) {
  ScriptedKinesis kinesis;
  auto config = configFor(kinesis);
  config.linger = std::chrono::milliseconds(60000);
  config.maxInFlight = 1;
  auto sink = startSink(config);
  auto batch = queue_.acquire();
  const std::string key = "key-é";  // 6 bytes
  for (int i = 0; i < 5; ++i) {
    // Exactly the 1 MiB record limit with the key; five make exactly 5 MiB.
    std::string data(kDefaultMaxRecordSize - key.size(), static_cast<char>('a' + i));
    batch->append(data, key);
  }
  batch->append("x", "k");  // one more request byte than 5 MiB would allow... plus its key
  batch->append(std::string(kDefaultMaxRecordSize - key.size() + 1, 'z'), key);  // one byte over the record limit
  queue_.push(std::move(batch));
  ASSERT_TRUE(runUntilAccepted(kinesis, 5));
  stopSink(*sink);

  auto requests = kinesis.requests();
  ASSERT_EQ(requests.size(), 2u);
  ASSERT_EQ(requests[0].size(), 5u);
  size_t bytes = 0;
  for (const auto& r : requests[0]) bytes += r.data.size() + r.key.size();
  EXPECT_EQ(bytes, kMaxBytesPerRequest);
  ASSERT_EQ(requests[1].size(), 1u);
  EXPECT_EQ(requests[1][0].data, "x");
  EXPECT_EQ(metric("kinship_sink_records_dropped_total", {{"reason", "too_large"}}), 1);
}

TEST_F(KinesisSinkTest, BisectsARequestRefusedAsInvalidAndDeadLettersTheBadRecord) {
  char dirTemplate[] = "/tmp/kinship-dlq-XXXXXX";
  ASSERT_NE(::mkdtemp(dirTemplate), nullptr);
  const std::string path = std::string(dirTemplate) + "/dead.jsonl";
  ScriptedKinesis kinesis({}, [](size_t, const std::vector<SentRecord>& records) -> std::optional<HttpReply> {
    for (const auto& r : records) {
      if (r.data == "r5") return HttpReply{400, R"({"__type":"InvalidArgumentException","message":"bad"})"};
    }
    return std::nullopt;
  });
  auto config = configFor(kinesis);
  config.deadLetterPath = path;
  auto sink = startSink(config);
  push(8, 8);
  ASSERT_TRUE(runUntilAccepted(kinesis, 7));
  ASSERT_TRUE(runUntilRequests(kinesis, 7));  // 8 → 4+4 → 2+2 → 1+1 (the 4 and 2 without r5 pass)
  stopSink(*sink);

  auto accepted = dataOf(kinesis.accepted());
  EXPECT_EQ(accepted, (std::set<std::string>{"r0", "r1", "r2", "r3", "r4", "r6", "r7"}));
  EXPECT_EQ(metric("kinship_sink_records_dropped_total", {{"reason", "invalid"}}), 1);
  EXPECT_EQ(metric("kinship_sink_dead_letters_total", {{"reason", "invalid"}}), 1);
  std::ifstream in(path);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  EXPECT_NE(line.find("\"reason\":\"invalid\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"partition_key\":\"k5\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"data\":\"cjU=\""), std::string::npos) << line;  // base64("r5")
  EXPECT_FALSE(std::getline(in, line));
  std::filesystem::remove_all(dirTemplate);
}

TEST_F(KinesisSinkTest, PerKeyOrderingHoldsThroughPartialFailuresAndRetries) {
  // Fails a fifth of the records of the first 30 requests, spread over positions.
  ScriptedKinesis kinesis([](size_t request, size_t position, const SentRecord&) -> std::string {
    if (request < 30 && (request + position) % 5 == 0) return "InternalFailure";
    return "";
  });
  auto config = configFor(kinesis);
  config.orderingPerKey = true;
  config.maxInFlight = 4;
  auto sink = startSink(config);
  // 3 keys, 60 records each, interleaved: r0 k0, r1 k1, r2 k2, r3 k0, ...
  auto batch = queue_.acquire();
  for (int i = 0; i < 180; ++i) batch->append("r" + std::to_string(i), "k" + std::to_string(i % 3));
  queue_.push(std::move(batch));
  ASSERT_TRUE(runUntilAccepted(kinesis, 180));
  stopSink(*sink);

  std::map<std::string, int> lastSeen;
  for (const auto& r : kinesis.accepted()) {
    int seq = std::stoi(r.data.substr(1));
    auto it = lastSeen.find(r.key);
    if (it != lastSeen.end()) {
      EXPECT_LT(it->second, seq) << "key " << r.key << " out of order";
    }
    lastSeen[r.key] = seq;
  }
  EXPECT_EQ(kinesis.accepted().size(), 180u);
  for (const auto& request : kinesis.requests()) {
    std::set<std::string> keys;
    for (const auto& r : request) EXPECT_TRUE(keys.insert(r.key).second) << "two records of " << r.key;
  }
  EXPECT_GT(metric("kinship_sink_records_retried_total"), 0);
}

TEST_F(KinesisSinkTest, WithoutOrderingARetryDoesNotHoldBackItsShard) {
  // The first answer fails r0; later records go on while it waits to be retried.
  ScriptedKinesis kinesis([](size_t request, size_t position, const SentRecord&) -> std::string {
    return request == 0 && position == 0 ? "InternalFailure" : "";
  });
  auto config = configFor(kinesis);
  config.retryBackoffMin = std::chrono::milliseconds(300);
  config.retryBackoffMax = std::chrono::milliseconds(300);
  config.maxInFlight = 1;
  auto sink = startSink(config);
  push(1, 1);
  ASSERT_TRUE(runUntilRequests(kinesis, 1));
  push(5, 5);  // r0..r4 again as data; distinct by position in time
  ASSERT_TRUE(runUntilAccepted(kinesis, 6));
  stopSink(*sink);
  auto accepted = kinesis.accepted();
  // The five later records were accepted before the retried first one.
  EXPECT_EQ(accepted.back().data, "r0");
  EXPECT_EQ(accepted.back().key, "k0");
}

TEST_F(KinesisSinkTest, ListsShardsAtStartAndAgainWhenRecordsLandInAnUnknownShard) {
  ScriptedKinesis kinesis;
  auto config = configFor(kinesis);
  config.pacing = true;
  auto sink = startSink(config);
  ASSERT_TRUE(runUntilListShards(kinesis, 1));
  push(20, 20);
  ASSERT_TRUE(runUntilAccepted(kinesis, 20));
  EXPECT_EQ(metric("kinship_sink_shards"), 2);
  // The stream was split behind our back: answers name a shard we do not know.
  kinesis.setAcceptedShardId("shardId-000000000002");
  push(5, 5);
  ASSERT_TRUE(runUntilAccepted(kinesis, 25));
  EXPECT_TRUE(runUntilListShards(kinesis, 2));
  stopSink(*sink);
  EXPECT_EQ(kinesis.accepted().size(), 25u);  // push() names records from r0 again
}

TEST_F(KinesisSinkTest, SendsTheExplicitHashKeyAndPacesTheShardItNames) {
  ScriptedKinesis kinesis;
  auto config = configFor(kinesis);
  config.pacing = true;
  config.shardRecordsPerSecond = 20;  // 19 per second at 95%: a burst of one
  auto sink = startSink(config);
  ASSERT_TRUE(runUntilListShards(kinesis, 1));
  auto batch = queue_.acquire();
  // Every record names the top of the hash-key space (the second shard), so
  // all wait on that shard's bucket, whatever their partition keys hash to.
  for (int i = 0; i < 4; ++i) {
    batch->append("r" + std::to_string(i), "k" + std::to_string(i), "340282366920938463463374607431768211455");
  }
  queue_.push(std::move(batch));
  ASSERT_TRUE(runUntilAccepted(kinesis, 4));
  stopSink(*sink);
  auto raw = kinesis.rawRequests();
  size_t puts = 0;
  for (const auto& r : raw) {
    if (r.headers.at("x-amz-target").ends_with(".PutRecords")) {
      ++puts;
      EXPECT_NE(r.body.find(R"("ExplicitHashKey":"340282366920938463463374607431768211455")"), std::string::npos);
    }
  }
  // One record per request: the shard's bucket holds one token at a time.
  EXPECT_EQ(puts, 4u);
}

TEST_F(KinesisSinkTest, PacedRequestsTakeRecordsInTheOrderReadAcrossShards) {
  // Keys k0..k6 fall in both shards of the scripted stream.
  PartitionKeyHasher hasher;
  std::set<bool> upperHalf;
  for (int k = 0; k < 7; ++k) upperHalf.insert(hasher.hash("k" + std::to_string(k)) >> 127 != 0);
  ASSERT_EQ(upperHalf.size(), 2u);

  ScriptedKinesis kinesis;
  auto config = configFor(kinesis);
  config.pacing = true;
  config.shardRecordsPerSecond = 1000000;  // no shard runs out of tokens
  auto sink = startSink(config);
  ASSERT_TRUE(runUntilListShards(kinesis, 1));
  push(1500);
  ASSERT_TRUE(runUntilAccepted(kinesis, 1500));
  stopSink(*sink);
  // Each request holds a run of consecutive records, not one shard's
  // records then the other's: batches are released in the order read.
  for (const auto& request : kinesis.requests()) {
    for (size_t i = 1; i < request.size(); ++i) {
      EXPECT_EQ(std::stoi(request[i].data.substr(1)), std::stoi(request[i - 1].data.substr(1)) + 1)
          << request[i - 1].data << " then " << request[i].data;
    }
  }
  EXPECT_EQ(dataOf(kinesis.accepted()).size(), 1500u);
}

TEST_F(KinesisSinkTest, PacedRequestsTakeRecordsInTheOrderReadAcrossManyShards) {
  // The merge across shard lines is a heap: with more than two lines a wrong
  // step shows as a request out of the order read.
  constexpr unsigned kShards = 8;
  PartitionKeyHasher hasher;
  std::set<unsigned> shards;
  for (int k = 0; k < 7; ++k) {
    shards.insert(static_cast<unsigned>(hasher.hash("k" + std::to_string(k)) / (~HashKey{0} / kShards + 1)));
  }
  ASSERT_GE(shards.size(), 4u);

  ScriptedKinesis kinesis;
  kinesis.setShardCount(kShards);
  auto config = configFor(kinesis);
  config.pacing = true;
  config.shardRecordsPerSecond = 1000000;
  auto sink = startSink(config);
  ASSERT_TRUE(runUntilListShards(kinesis, 1));
  push(3000);
  ASSERT_TRUE(runUntilAccepted(kinesis, 3000));
  stopSink(*sink);
  EXPECT_EQ(metric("kinship_sink_shards"), kShards);
  for (const auto& request : kinesis.requests()) {
    for (size_t i = 1; i < request.size(); ++i) {
      ASSERT_EQ(std::stoi(request[i].data.substr(1)), std::stoi(request[i - 1].data.substr(1)) + 1)
          << request[i - 1].data << " then " << request[i].data;
    }
  }
  EXPECT_EQ(dataOf(kinesis.accepted()).size(), 3000u);
}

// Records the acknowledgements the sink reports for batches (issue 4).
class RecordingAcks final : public pipeline::AckReceiver {
 public:
  void acknowledged(uint64_t sourceId, uint64_t endOffset) override {
    std::lock_guard lock(mutex_);
    acks_.emplace_back(sourceId, endOffset);
  }
  std::multiset<std::pair<uint64_t, uint64_t>> acks() {
    std::lock_guard lock(mutex_);
    return {acks_.begin(), acks_.end()};
  }

 private:
  std::mutex mutex_;
  std::vector<std::pair<uint64_t, uint64_t>> acks_;
};

TEST_F(KinesisSinkTest, AcknowledgesEachBatchOnceWhenAllItsRecordsAreAccepted) {
  ScriptedKinesis kinesis;
  auto sink = startSink(configFor(kinesis));
  auto acks = std::make_shared<RecordingAcks>();
  for (uint64_t b = 1; b <= 3; ++b) {
    auto batch = queue_.acquire();
    for (int i = 0; i < 300; ++i) batch->append("b" + std::to_string(b) + "r" + std::to_string(i), "k");
    batch->setSource(acks, 7, b * 1000);
    queue_.push(std::move(batch));
  }
  ASSERT_TRUE(runUntilAccepted(kinesis, 900));
  stopSink(*sink);
  EXPECT_EQ(acks->acks(), (std::multiset<std::pair<uint64_t, uint64_t>>{{7, 1000}, {7, 2000}, {7, 3000}}));
}

TEST_F(KinesisSinkTest, ABatchOfDeadLettersOnlyIsAcknowledgedAtOnce) {
  ScriptedKinesis kinesis;
  auto config = configFor(kinesis);
  config.maxRecordSize = 1024;
  auto sink = startSink(config);
  auto acks = std::make_shared<RecordingAcks>();
  auto batch = queue_.acquire();
  batch->append(std::string(1024, 'x'), "k");
  batch->append(std::string(2048, 'y'), "k");
  batch->setSource(acks, 1, 3074);
  queue_.push(std::move(batch));
  stopSink(*sink);
  EXPECT_EQ(kinesis.accepted().size(), 0u);
  EXPECT_EQ(acks->acks(), (std::multiset<std::pair<uint64_t, uint64_t>>{{1, 3074}}));
}

// A source that keeps progress inside batches (as the disk spool does).
class RecordingProgress final : public pipeline::AckReceiver {
 public:
  void acknowledged(uint64_t, uint64_t) override {}
  void recordDone(uint64_t sourceId, uint64_t, uint32_t index) override {
    std::lock_guard lock(mutex_);
    pending_.emplace_back(sourceId, index);
  }
  void recordsSettled() override {
    std::lock_guard lock(mutex_);
    settled_.insert(settled_.end(), pending_.begin(), pending_.end());
    pending_.clear();
  }
  size_t settledCount() {
    std::lock_guard lock(mutex_);
    return settled_.size();
  }
  std::vector<std::pair<uint64_t, uint32_t>> settled() {
    std::lock_guard lock(mutex_);
    return settled_;
  }

 private:
  std::mutex mutex_;
  std::vector<std::pair<uint64_t, uint32_t>> pending_;
  std::vector<std::pair<uint64_t, uint32_t>> settled_;
};

TEST_F(KinesisSinkTest, EachRecordIsReportedDoneOnceAndSettledBeforeTheNextRequestGoesOut) {
  auto progress = std::make_shared<RecordingProgress>();
  std::mutex seenMutex;
  std::vector<size_t> settledAtRequest;
  ScriptedKinesis kinesis(
      [](size_t request, size_t position, const SentRecord&) -> std::string {
        return request == 0 && position % 100 == 7 ? "ProvisionedThroughputExceededException" : "";
      },
      [&](size_t, const std::vector<SentRecord>&) -> std::optional<HttpReply> {
        std::lock_guard lock(seenMutex);
        settledAtRequest.push_back(progress->settledCount());
        return std::nullopt;
      });
  auto config = configFor(kinesis);
  config.maxInFlight = 1;
  config.maxRecordSize = 1024;
  auto sink = startSink(config);
  for (uint64_t b = 1; b <= 2; ++b) {
    auto batch = queue_.acquire();
    for (int i = 0; i < 600; ++i) batch->append("b" + std::to_string(b) + "r" + std::to_string(i), "k");
    if (b == 2) batch->append(std::string(2048, 'x'), "k");  // a dead letter: done too
    batch->setSource(progress, b, b * 1000);
    queue_.push(std::move(batch));
  }
  ASSERT_TRUE(runUntilAccepted(kinesis, 1200));
  stopSink(*sink);

  auto settled = progress->settled();
  std::set<std::pair<uint64_t, uint32_t>> unique(settled.begin(), settled.end());
  EXPECT_EQ(settled.size(), 1201u);  // once each
  EXPECT_EQ(unique.size(), 1201u);
  EXPECT_TRUE(unique.contains({2, 600}));
  // One request at a time: when each goes out, what every earlier answer
  // accepted is already settled (request 0 had 5 throttled of 500).
  std::lock_guard lock(seenMutex);
  ASSERT_GE(settledAtRequest.size(), 3u);
  EXPECT_LE(settledAtRequest[0], 1u);  // at most the dead letter
  EXPECT_GE(settledAtRequest[1], 495u);
  EXPECT_EQ(kinesis.requests()[0].size(), 500u);
  size_t accepted = 0;
  auto requests = kinesis.requests();
  for (size_t r = 1; r < settledAtRequest.size(); ++r) {
    accepted += r == 1 ? 495 : requests[r - 1].size();
    EXPECT_GE(settledAtRequest[r], accepted) << "request " << r;
  }
}

TEST_F(KinesisSinkTest, RecordsUndeliveredAtShutdownAreNotAcknowledged) {
  ScriptedKinesis kinesis({}, [](size_t, const auto&) -> std::optional<HttpReply> {
    return HttpReply{503, R"({"__type":"ServiceUnavailable"})"};
  });
  auto sink = startSink(configFor(kinesis));
  auto acks = std::make_shared<RecordingAcks>();
  auto batch = queue_.acquire();
  batch->append("r", "k");
  batch->setSource(acks, 1, 2);
  queue_.push(std::move(batch));
  stopSink(*sink, 300ms);
  EXPECT_TRUE(acks->acks().empty());
}

}  // namespace
}  // namespace kinship::kinesis
