// The Kinesis sink with `aggregation: kpl`, driven turn by turn on a manual
// clock against the scripted endpoint; what it sent is read back with
// libprotobuf (tests/support/kpl_decoder.h).
#include <simdjson.h>

#include <map>

#include "tests/support/kpl_decoder.h"
#include "tests/unit/sinks/kinesis/kinesis_sink_fixture.h"

namespace kinship::kinesis::test {
namespace {

using kinship::testing::KplDecoder;
using kinship::testing::UserRecord;

// One Kinesis record of a request as it went out.
struct Outer {
  std::string data;
  std::string key;
  std::string explicitHashKey;
};

std::vector<Outer> outersOf(const std::string& body) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(body);
  std::vector<Outer> out;
  for (simdjson::dom::element r : parser.parse(padded)["Records"].get_array()) {
    Outer o{base64Decode(std::string_view(r["Data"])), std::string(std::string_view(r["PartitionKey"])), ""};
    std::string_view hashKey;
    if (r["ExplicitHashKey"].get(hashKey) == simdjson::SUCCESS) o.explicitHashKey = std::string(hashKey);
    out.push_back(std::move(o));
  }
  return out;
}

class KinesisSinkAggregationTest : public KinesisSinkTest {
 protected:
  KinesisConfig aggregatingConfig(ScriptedKinesis& kinesis) {
    KinesisConfig c = configFor(kinesis);
    c.aggregate = true;
    return c;
  }

  // Every Kinesis record the endpoint accepted, deaggregated in order.
  std::vector<UserRecord> acceptedUserRecords(ScriptedKinesis& kinesis) {
    std::vector<UserRecord> out;
    for (const SentRecord& r : kinesis.accepted()) {
      for (UserRecord& u : decoder_.deaggregate(r.data, r.key)) out.push_back(std::move(u));
    }
    return out;
  }

  // The records push() queued, by key, in order.
  static std::map<std::string, std::vector<std::string>> pushedByKey(size_t count, size_t dataSize = 0) {
    std::map<std::string, std::vector<std::string>> out;
    for (size_t i = 0; i < count; ++i) {
      std::string data = "r" + std::to_string(i);
      if (data.size() < dataSize) data.resize(dataSize, 'x');
      out["k" + std::to_string(i % 7)].push_back(data);
    }
    return out;
  }
  static std::map<std::string, std::vector<std::string>> byKey(const std::vector<UserRecord>& records) {
    std::map<std::string, std::vector<std::string>> out;
    for (const UserRecord& u : records) out[u.partitionKey].push_back(u.data);
    return out;
  }

  // The shard (of `starts`, ascending) whose range holds MD5(key).
  static size_t shardOf(const std::vector<HashKey>& starts, std::string_view key) {
    PartitionKeyHasher hasher;
    const HashKey hash = hasher.hash(key);
    size_t shard = 0;
    while (shard + 1 < starts.size() && starts[shard + 1] <= hash) ++shard;
    return shard;
  }
  static std::vector<HashKey> evenStarts(unsigned count) {
    const HashKey width = ~HashKey{0} / count + 1;
    std::vector<HashKey> starts;
    for (unsigned i = 0; i < count; ++i) starts.push_back(width * i);
    return starts;
  }

  // Checks that each aggregated record of `body` names the starting hash
  // key of one shard of `starts` as its explicit hash key, and that each of
  // its user records routes to that shard; returns how many were aggregated.
  size_t expectPlacedInTheirShards(const std::string& body, const std::vector<HashKey>& starts) {
    size_t aggregated = 0;
    for (const Outer& o : outersOf(body)) {
      if (!KplDecoder::isAggregated(o.data)) {
        EXPECT_EQ(o.explicitHashKey, "");
        continue;
      }
      ++aggregated;
      auto hashKey = parseHashKey(o.explicitHashKey);
      EXPECT_TRUE(hashKey.has_value()) << "aggregated record without an explicit hash key";
      if (!hashKey) continue;
      const auto shard = static_cast<size_t>(std::find(starts.begin(), starts.end(), *hashKey) - starts.begin());
      EXPECT_LT(shard, starts.size()) << o.explicitHashKey << " starts no shard";
      for (const UserRecord& u : decoder_.deaggregate(o.data, o.key)) {
        EXPECT_EQ(shardOf(starts, u.partitionKey), shard) << u.partitionKey << " packed for another shard";
      }
    }
    return aggregated;
  }

  double histogramSum(const std::string& name) {
    for (const auto& family : registry_.Collect()) {
      if (family.name == name && !family.metric.empty()) return family.metric[0].histogram.sample_sum;
    }
    return -1;
  }

  KplDecoder decoder_;
};

TEST_F(KinesisSinkAggregationTest, PacksEachShardsRecordsIntoAggregatesThatLandInThatShard) {
  ScriptedKinesis kinesis;  // two shards, the hash-key space in halves
  auto config = aggregatingConfig(kinesis);
  ASSERT_FALSE(config.pacing);  // aggregation lists shards with pacing off too
  auto sink = startSink(config);
  push(2000, 250);
  ASSERT_TRUE(runUntil([&] { return metric("kinship_sink_records_sent_total") >= 2000; }));
  stopSink(*sink);

  EXPECT_EQ(kinesis.listShardsCalls(), 1u);
  const auto users = acceptedUserRecords(kinesis);
  EXPECT_EQ(users.size(), 2000u);
  EXPECT_EQ(byKey(users), pushedByKey(2000));  // every record once, its key kept, in order per key
  size_t aggregated = 0;
  for (const auto& raw : kinesis.rawRequests()) aggregated += expectPlacedInTheirShards(raw.body, evenStarts(2));
  const size_t kinesisRecords = kinesis.acceptedCount();
  EXPECT_LT(kinesisRecords, 100u);
  EXPECT_GT(aggregated, 0u);
  EXPECT_EQ(metric("kinship_sink_records_sent_total"), 2000);
  EXPECT_EQ(metric("kinship_sink_kinesis_records_sent_total"), static_cast<double>(kinesisRecords));
  EXPECT_EQ(metric("kinship_sink_aggregated_records_total"), static_cast<double>(aggregated));
  EXPECT_EQ(metric("kinship_sink_aggregated_user_records"), static_cast<double>(aggregated));  // observations
  EXPECT_EQ(histogramSum("kinship_sink_aggregated_user_records"), 2000.0 - static_cast<double>(kinesisRecords - aggregated));
  EXPECT_EQ(histogramSum("kinship_sink_request_records"), static_cast<double>(kinesisRecords));
}

TEST_F(KinesisSinkAggregationTest, RecordsWaitForTheFirstShardMap) {
  ScriptedKinesis kinesis;
  kinesis.delayNext(ScriptedReply::after(300ms));  // the ListShards at the first turn
  auto sink = startSink(aggregatingConfig(kinesis));
  push(600, 600);  // more than a request's worth of records: due at once, but for the map
  ASSERT_TRUE(runUntil([&] { return metric("kinship_sink_records_sent_total") >= 600; }));
  stopSink(*sink);

  const auto sent = transport_->sent();
  ASSERT_GE(sent.size(), 2u);
  EXPECT_NE(sent[0].body.find("\"StreamName\""), std::string::npos);
  EXPECT_EQ(sent[0].body.find("\"Records\""), std::string::npos) << "ListShards first";
  for (size_t i = 1; i < sent.size(); ++i) {
    EXPECT_GE(sent[i].at - sent[0].at, 300ms) << "PutRecords went before the shard map";
  }
  for (const SentRecord& r : kinesis.accepted()) EXPECT_TRUE(KplDecoder::isAggregated(r.data));
  EXPECT_EQ(byKey(acceptedUserRecords(kinesis)), pushedByKey(600));
}

TEST_F(KinesisSinkAggregationTest, WithoutAShardMapRecordsGoAsTheyAre) {
  ScriptedKinesis kinesis;
  kinesis.setListShardsReply(HttpReply{400, R"({"__type":"AccessDeniedException","message":"no"})"});
  auto sink = startSink(aggregatingConfig(kinesis));
  push(50, 50);
  ASSERT_TRUE(runUntilAccepted(kinesis, 50));
  stopSink(*sink);
  for (const SentRecord& r : kinesis.accepted()) EXPECT_FALSE(KplDecoder::isAggregated(r.data));
  EXPECT_EQ(byKey(acceptedUserRecords(kinesis)), pushedByKey(50));
  EXPECT_EQ(metric("kinship_sink_kinesis_records_sent_total"), 50);
  EXPECT_EQ(metric("kinship_sink_aggregated_records_total"), 0);
}

TEST_F(KinesisSinkAggregationTest, AFailedAggregatedRecordIsRetriedWholeAndEachRecordDeliveredOnce) {
  ScriptedKinesis kinesis([](size_t request, size_t position, const SentRecord&) -> std::string {
    return request == 0 && position == 0 ? "ProvisionedThroughputExceededException" : "";
  });
  auto sink = startSink(aggregatingConfig(kinesis));
  push(700, 700);
  ASSERT_TRUE(runUntil([&] { return metric("kinship_sink_records_sent_total") >= 700; }));
  stopSink(*sink);

  const auto requests = kinesis.requests();
  ASSERT_GE(requests.size(), 2u);
  ASSERT_EQ(requests[0].size(), 2u);  // one aggregate per shard
  const std::string failed = requests[0][0].data;
  ASSERT_TRUE(KplDecoder::isAggregated(failed));
  // Retries go first: the next request starts with the same aggregate, byte for byte.
  EXPECT_EQ(requests[1][0].data, failed);
  EXPECT_EQ(requests[1][0].key, requests[0][0].key);
  const size_t inIt = decoder_.deaggregate(failed, requests[0][0].key).size();
  EXPECT_EQ(metric("kinship_sink_records_retried_total"), static_cast<double>(inIt));
  EXPECT_EQ(metric("kinship_sink_records_failed_total", {{"error_code", "ProvisionedThroughputExceededException"}}),
            1);
  EXPECT_EQ(byKey(acceptedUserRecords(kinesis)), pushedByKey(700));
}

TEST_F(KinesisSinkAggregationTest, FailedAggregatesDueTogetherGoAgainAsTheyWereNotMerged) {
  // One shard, small requests: request 0 ends with an aggregate cut short by
  // the request's room, request 1 starts with a full one; both fail.
  ScriptedKinesis kinesis([](size_t request, size_t position, const SentRecord&) -> std::string {
    return (request == 0 && position == 1) || (request == 1 && position == 0) ? "InternalFailure" : "";
  });
  kinesis.setShardCount(1);
  auto config = aggregatingConfig(kinesis);
  config.maxBatchBytes = 3000;
  config.aggregationMaxSize = 2000;
  config.retryBackoffMin = 50ms;  // both due at one instant
  config.retryBackoffMax = 50ms;
  auto sink = startSink(config);
  auto batch = queue_.acquire();
  for (int i = 0; i < 60; ++i) {
    std::string data = "r" + std::to_string(i);
    data.resize(100, 'x');
    batch->append(data, "one-key");
  }
  queue_.push(std::move(batch));
  ASSERT_TRUE(runUntil([&] { return metric("kinship_sink_records_sent_total") >= 60; }));
  stopSink(*sink);

  const auto requests = kinesis.requests();
  ASSERT_GE(requests.size(), 3u);
  ASSERT_GE(requests[0].size(), 2u);
  const std::string cutShort = requests[0][1].data;
  const std::string full = requests[1][0].data;
  ASSERT_LT(cutShort.size() + 300, full.size());
  // Merged, they would have filled one aggregate to its limit and left the rest for another.
  size_t retry = 2;
  while (retry < requests.size() && requests[retry][0].data != cutShort) ++retry;
  ASSERT_LT(retry, requests.size()) << "the aggregate cut short never went again as it was";
  ASSERT_GE(requests[retry].size(), 2u);
  EXPECT_EQ(requests[retry][1].data, full);
  std::vector<std::string> sent;
  for (const UserRecord& u : acceptedUserRecords(kinesis)) sent.push_back(u.data.substr(0, u.data.find('x')));
  std::sort(sent.begin(), sent.end());
  EXPECT_EQ(sent.size(), 60u);
  EXPECT_EQ(std::unique(sent.begin(), sent.end()), sent.end());
}

TEST_F(KinesisSinkAggregationTest, AfterAReshardingRetriedRecordsAreRepackedForTheirNewShards) {
  ScriptedKinesis kinesis([](size_t request, size_t, const SentRecord&) -> std::string {
    return request == 0 ? "ProvisionedThroughputExceededException" : "";
  });
  auto config = aggregatingConfig(kinesis);
  config.shardRefreshInterval = 100ms;
  config.retryBackoffMin = 500ms;
  config.retryBackoffMax = 500ms;
  auto sink = startSink(config);
  ASSERT_TRUE(runUntilListShards(kinesis, 1));
  kinesis.delayNext(ScriptedReply::after(300ms));  // the first PutRecords, answered after the resharding
  push(300, 300);
  ASSERT_TRUE(runUntilRequests(kinesis, 1));
  kinesis.setShardCount(4);
  ASSERT_TRUE(runUntil([&] { return metric("kinship_sink_records_sent_total") >= 300; }));
  stopSink(*sink);

  const auto raw = kinesis.rawRequests();
  ASSERT_GE(raw.size(), 2u);
  auto shardsOfKeys = [](unsigned count) {
    std::set<size_t> shards;
    for (int k = 0; k < 7; ++k) shards.insert(shardOf(evenStarts(count), "k" + std::to_string(k)));
    return shards.size();
  };
  ASSERT_GE(shardsOfKeys(4), 3u);
  EXPECT_EQ(expectPlacedInTheirShards(raw[0].body, evenStarts(2)), shardsOfKeys(2));
  // Retried under the new map: re-packed for four shards.
  EXPECT_EQ(expectPlacedInTheirShards(raw[1].body, evenStarts(4)), shardsOfKeys(4));
  EXPECT_EQ(byKey(acceptedUserRecords(kinesis)), pushedByKey(300));
}

TEST_F(KinesisSinkAggregationTest, AnAggregateRefusedAsInvalidIsSplitDownToTheRecordAtFaultWhichIsADeadLetter) {
  char dirTemplate[] = "/tmp/kinship-dlq-XXXXXX";
  ASSERT_NE(::mkdtemp(dirTemplate), nullptr);
  const std::string path = std::string(dirTemplate) + "/dead.jsonl";
  ScriptedKinesis kinesis({}, [](size_t, const std::vector<SentRecord>& records) -> std::optional<HttpReply> {
    for (const auto& r : records) {
      if (r.data.find("BAD") != std::string::npos) {
        return HttpReply{400, R"({"__type":"ValidationException","message":"bad"})"};
      }
    }
    return std::nullopt;
  });
  auto config = aggregatingConfig(kinesis);
  config.deadLetterPath = path;
  auto sink = startSink(config);
  auto batch = queue_.acquire();
  for (int i = 0; i < 16; ++i) batch->append(i == 11 ? "BAD" : "r" + std::to_string(i), "same-key");
  queue_.push(std::move(batch));
  ASSERT_TRUE(runUntil([&] { return metric("kinship_sink_records_sent_total") >= 15; }));
  stopSink(*sink);

  std::set<std::string> delivered;
  for (const UserRecord& u : acceptedUserRecords(kinesis)) delivered.insert(u.data);
  EXPECT_EQ(delivered.size(), 15u);
  EXPECT_FALSE(delivered.contains("BAD"));
  EXPECT_EQ(metric("kinship_sink_records_dropped_total", {{"reason", "invalid"}}), 1);
  std::ifstream in(path);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));  // the user record itself, not its aggregate
  EXPECT_NE(line.find("\"partition_key\":\"same-key\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"data\":\"QkFE\""), std::string::npos) << line;  // base64("BAD")
  EXPECT_FALSE(std::getline(in, line));
  std::filesystem::remove_all(dirTemplate);
}

TEST_F(KinesisSinkAggregationTest, ARefusedRequestIsSplitByItsAggregatesWhichGoAgainAsTheyWere) {
  ScriptedKinesis kinesis({}, [](size_t, const std::vector<SentRecord>& records) -> std::optional<HttpReply> {
    for (const auto& r : records) {
      if (r.data.find("BAD") != std::string::npos) {
        return HttpReply{400, R"({"__type":"ValidationException","message":"bad"})"};
      }
    }
    return std::nullopt;
  });
  auto sink = startSink(aggregatingConfig(kinesis));
  auto batch = queue_.acquire();
  for (int i = 0; i < 40; ++i) batch->append(i == 11 ? "BAD" : "r" + std::to_string(i), "k" + std::to_string(i % 7));
  queue_.push(std::move(batch));
  ASSERT_TRUE(runUntil([&] { return metric("kinship_sink_records_sent_total") >= 39; }));
  stopSink(*sink);

  const auto requests = kinesis.requests();
  ASSERT_GE(requests.size(), 3u);
  ASSERT_EQ(requests[0].size(), 2u);  // one aggregate per shard, one of them with BAD
  const size_t clean = requests[0][0].data.find("BAD") == std::string::npos ? 0 : 1;
  // The halves are its two aggregates, sent as they were: the clean one byte for byte.
  bool resent = false;
  for (size_t r = 1; r < requests.size(); ++r) {
    resent = resent || (requests[r].size() == 1 && requests[r][0].data == requests[0][clean].data);
  }
  EXPECT_TRUE(resent);
  std::set<std::string> delivered;
  for (const UserRecord& u : acceptedUserRecords(kinesis)) delivered.insert(u.data);
  EXPECT_EQ(delivered.size(), 39u);
  EXPECT_FALSE(delivered.contains("BAD"));
  EXPECT_EQ(metric("kinship_sink_records_dropped_total", {{"reason", "invalid"}}), 1);
}

TEST_F(KinesisSinkAggregationTest, PacingCountsAnAggregatedRecordAsOneRecordOfItsSize) {
  ScriptedKinesis kinesis;
  auto config = aggregatingConfig(kinesis);
  config.pacing = true;
  config.shardRecordsPerSecond = 4;  // aggregated, 3,000 records still go in about a second
  config.shardCapacityPercent = 100;
  auto sink = startSink(config);
  push(3000, 500, 100);
  const auto start = clock_.now();
  ASSERT_TRUE(runUntil([&] { return metric("kinship_sink_records_sent_total") >= 3000; }, 5s));
  EXPECT_LT(clock_.now() - start, 3s);
  stopSink(*sink);
  EXPECT_EQ(byKey(acceptedUserRecords(kinesis)), pushedByKey(3000, 100));
  EXPECT_LE(kinesis.acceptedCount(), 12u);  // 2 shards at 4 records/s, each 1 MiB/s
}

TEST_F(KinesisSinkAggregationTest, BytesPacingCountsTheAggregatesBytes) {
  ScriptedKinesis kinesis;
  auto config = aggregatingConfig(kinesis);
  config.pacing = true;
  config.shardBytesPerSecond = 20 * 1024;  // 2 shards: about 40 KiB/s in all
  config.shardCapacityPercent = 100;
  config.aggregationMaxSize = 4096;  // so that the first aggregate is not all there is
  auto sink = startSink(config);
  push(2000, 500, 100);  // about 210 KB as aggregated
  const auto start = clock_.now();
  ASSERT_TRUE(runUntil([&] { return metric("kinship_sink_records_sent_total") >= 2000; }, 60s));
  const double seconds = std::chrono::duration<double>(clock_.now() - start).count();
  stopSink(*sink);
  size_t bytes = 0;
  for (const SentRecord& r : kinesis.accepted()) bytes += r.data.size() + r.key.size();
  EXPECT_GT(bytes, 200000u);
  // No faster than the shards' bytes allow (less the first burst), nor much slower.
  EXPECT_GT(seconds, (static_cast<double>(bytes) - 2 * 4096) / (2 * 20 * 1024) - 0.5);
  EXPECT_LT(seconds, static_cast<double>(bytes) / (2 * 20 * 1024) * 1.5 + 1);
}

TEST_F(KinesisSinkAggregationTest, OnAPacedShardAnAggregateStaysWithinThePacersBurst) {
  // A pacer may go into debt by one record: aggregates of a whole second
  // would overrun the shard's sliding second.
  ScriptedKinesis kinesis;
  auto config = aggregatingConfig(kinesis);
  config.pacing = true;  // 95%: 50 KB of burst, of 1 MiB/s
  auto sink = startSink(config);
  push(20000, 1000, 100);
  ASSERT_TRUE(runUntil([&] { return metric("kinship_sink_records_sent_total") >= 20000; }));
  stopSink(*sink);
  const double burst = 1024 * 1024 * 0.95 * 0.05;
  size_t largest = 0;
  for (const SentRecord& r : kinesis.accepted()) largest = std::max(largest, r.data.size() + r.key.size());
  EXPECT_LE(static_cast<double>(largest), burst);
  EXPECT_GT(static_cast<double>(largest), burst - 200);
  EXPECT_EQ(byKey(acceptedUserRecords(kinesis)), pushedByKey(20000, 100));
}

// A source that keeps progress inside batches (as the disk spool does).
class RecordedProgress final : public pipeline::AckReceiver {
 public:
  void acknowledged(uint64_t sourceId, uint64_t) override {
    std::lock_guard lock(mutex_);
    acknowledged_.push_back(sourceId);
  }
  void recordDone(uint64_t sourceId, uint64_t, uint32_t index) override {
    std::lock_guard lock(mutex_);
    done_.emplace_back(sourceId, index);
  }
  void recordsSettled() override {}
  std::vector<std::pair<uint64_t, uint32_t>> done() {
    std::lock_guard lock(mutex_);
    return done_;
  }
  std::vector<uint64_t> acknowledged() {
    std::lock_guard lock(mutex_);
    return acknowledged_;
  }

 private:
  std::mutex mutex_;
  std::vector<std::pair<uint64_t, uint32_t>> done_;
  std::vector<uint64_t> acknowledged_;
};

TEST_F(KinesisSinkAggregationTest, EachRecordIsReportedDoneOnceWhenItsAggregatedRecordIsAccepted) {
  ScriptedKinesis kinesis([](size_t request, size_t position, const SentRecord&) -> std::string {
    return request == 0 && position == 1 ? "InternalFailure" : "";
  });
  auto sink = startSink(aggregatingConfig(kinesis));
  auto progress = std::make_shared<RecordedProgress>();
  for (uint64_t b = 1; b <= 2; ++b) {
    auto batch = queue_.acquire();
    for (int i = 0; i < 300; ++i) batch->append("b" + std::to_string(b) + "r" + std::to_string(i), "k" + std::to_string(i % 5));
    batch->setSource(progress, b, b * 1000);
    queue_.push(std::move(batch));
  }
  // The first request's answer: the records of the accepted aggregate are
  // done, those of the failed one not yet.
  ASSERT_TRUE(runUntil([&] { return !progress->done().empty(); }));
  const size_t firstDone = progress->done().size();
  EXPECT_GT(firstDone, 0u);
  EXPECT_LT(firstDone, 600u);
  EXPECT_TRUE(progress->acknowledged().empty());
  ASSERT_TRUE(runUntil([&] { return progress->acknowledged().size() == 2; }));
  stopSink(*sink);
  auto done = progress->done();
  std::set<std::pair<uint64_t, uint32_t>> unique(done.begin(), done.end());
  EXPECT_EQ(done.size(), 600u);
  EXPECT_EQ(unique.size(), 600u);
}

}  // namespace
}  // namespace kinship::kinesis::test
