// Tests of the fake Kinesis endpoint, through its HTTP interface with a
// plain-socket client: API shapes, routing, per-shard limits (with a manual
// clock, so windows slide without sleeping), every injected fault, validation,
// the control API and robustness against bad input.

#include "tests/support/fake_kinesis/fake_kinesis.h"

#include <cbor.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <simdjson.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "tests/support/fake_kinesis/cbor_codec.h"
#include "tests/support/fake_kinesis/codec.h"
#include "tests/support/fake_kinesis/record_log.h"
#include "tests/support/fake_kinesis/test_client.h"
#include "tests/support/manual_clock.h"

namespace kinship::fake {
namespace {

using namespace std::chrono_literals;

using kinship::testing::ManualClock;

// A parsed JSON answer with JSON-pointer accessors.
class Json {
 public:
  explicit Json(std::string_view text) {
    ok_ = parser_.parse(text.data(), text.size()).get(root_) == simdjson::SUCCESS;
  }
  bool ok() const { return ok_; }
  bool has(std::string_view pointer) const {
    simdjson::dom::element e;
    return ok_ && root_.at_pointer(pointer).get(e) == simdjson::SUCCESS;
  }
  std::string str(std::string_view pointer) const {
    std::string_view v;
    if (!ok_ || root_.at_pointer(pointer).get(v) != simdjson::SUCCESS) return "<missing>";
    return std::string(v);
  }
  int64_t num(std::string_view pointer) const {
    int64_t v = -1;
    if (!ok_ || root_.at_pointer(pointer).get(v) != simdjson::SUCCESS) return -1;
    return v;
  }
  size_t size(std::string_view pointer) const {
    simdjson::dom::array a;
    if (!ok_ || root_.at_pointer(pointer).get(a) != simdjson::SUCCESS) return 0;
    return a.size();
  }

 private:
  simdjson::dom::parser parser_;
  simdjson::dom::element root_;
  bool ok_ = false;
};

// The test's own MD5 and 128-bit decimal parsing, independent of the fake's.
HashKey md5Of(std::string_view text) {
  unsigned char digest[16];
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest, &length, EVP_md5(), nullptr);
  HashKey out = 0;
  for (unsigned char byte : digest) out = (out << 8) | byte;
  return out;
}

HashKey decimal(std::string_view text) {
  HashKey out = 0;
  for (char c : text) out = out * 10 + static_cast<unsigned>(c - '0');
  return out;
}

std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

const HashKey kTwoTo127 = HashKey{1} << 127;
const std::string kTwoTo128 = "340282366920938463463374607431768211456";
const std::string kTwoTo128Minus1 = "340282366920938463463374607431768211455";

ClientResponse call(TestClient& client, std::string_view operation, std::string_view body) {
  auto response = client.call(operation, body);
  if (!response) {
    ADD_FAILURE() << operation << " failed: " << response.error().message();
    return {};
  }
  return *response;
}

ClientResponse put(TestClient& client, std::string_view stream, const std::vector<TestRecord>& records) {
  return call(client, "PutRecords", encodePutRecords(stream, records));
}

std::string errorType(const ClientResponse& response) { return Json(response.body).str("/__type"); }

std::vector<TestRecord> uniqueRecords(std::string_view tag, size_t count, size_t dataSize = 20) {
  std::vector<TestRecord> out;
  for (size_t i = 0; i < count; ++i) {
    std::string data = fmt::format("{}-{}-", tag, i);
    if (data.size() < dataSize) data.append(dataSize - data.size(), 'x');
    out.push_back({fmt::format("key-{}", i), data, std::nullopt});
  }
  return out;
}

// Records aimed at shard `shard` of an evenly split stream of `shards`.
TestRecord toShard(int shard, int shards, std::string data) {
  HashKey start = evenSplits(shards).empty() || shard == 0 ? 0 : evenSplits(shards)[static_cast<size_t>(shard - 1)];
  return {"k", std::move(data), hashKeyToDecimal(start + 1)};
}

class FakeKinesisTest : public ::testing::Test {
 protected:
  FakeOptions options(std::vector<StreamSpec> streams = {{"s", 1, {}}}) {
    FakeOptions o;
    o.streams = std::move(streams);
    o.clock = &clock_;
    return o;
  }
  ManualClock clock_;
};

TEST(FakeKinesisFormat, SequenceNumbersAndShardIdsAreZeroPaddedToTheirWidths) {
  EXPECT_EQ(formatShardId(3), "shardId-000000000003");
  EXPECT_EQ(formatShardId(123456), "shardId-000000123456");
  EXPECT_EQ(formatSequenceNumber(12, 3, 45), "49" "0000000012" "000003" + std::string(36, '0') + "45");
  // The incarnation keeps its last ten digits; the counter fills 38.
  EXPECT_EQ(formatSequenceNumber(12345678901234ULL, 0, UINT64_MAX),
            "49" "5678901234" "000000" + std::string(18, '0') + "18446744073709551615");
  std::string out = "x";
  appendSequenceNumber(out, 0, 0, 0);
  EXPECT_EQ(out, "x49" + std::string(54, '0'));
}

TEST_F(FakeKinesisTest, PutRecordsHappyPathAndResponseShape) {
  FakeKinesis fake(options({{"s", 2, {}}}));
  TestClient client(fake.port());
  auto records = uniqueRecords("happy", 3);
  auto response = put(client, "s", records);
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.headers["content-type"], "application/x-amz-json-1.1");
  EXPECT_FALSE(response.headers["x-amzn-requestid"].empty());
  Json json(response.body);
  ASSERT_TRUE(json.ok()) << response.body;
  EXPECT_EQ(json.num("/FailedRecordCount"), 0);
  EXPECT_EQ(json.str("/EncryptionType"), "NONE");
  ASSERT_EQ(json.size("/Records"), 3u);
  for (int i = 0; i < 3; ++i) {
    std::string at = fmt::format("/Records/{}", i);
    EXPECT_EQ(json.str(at + "/SequenceNumber").size(), 56u);
    EXPECT_EQ(json.str(at + "/ShardId").substr(0, 8), "shardId-");
    EXPECT_FALSE(json.has(at + "/ErrorCode"));
  }
  // Same shard: sequence numbers grow.
  auto again = put(client, "s", {{records[0].partitionKey, "again", std::nullopt}});
  Json second(again.body);
  EXPECT_EQ(second.str("/Records/0/ShardId"), json.str("/Records/0/ShardId"));
  EXPECT_GT(second.str("/Records/0/SequenceNumber"), json.str("/Records/0/SequenceNumber"));

  auto stored = fake.records();
  ASSERT_EQ(stored.size(), 4u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(stored[static_cast<size_t>(i)].data, records[static_cast<size_t>(i)].data);
    EXPECT_EQ(stored[static_cast<size_t>(i)].partitionKey, records[static_cast<size_t>(i)].partitionKey);
    EXPECT_EQ(stored[static_cast<size_t>(i)].stream, "s");
    EXPECT_EQ(stored[static_cast<size_t>(i)].sequenceNumber, json.str(fmt::format("/Records/{}/SequenceNumber", i)));
    EXPECT_EQ(stored[static_cast<size_t>(i)].shardId, json.str(fmt::format("/Records/{}/ShardId", i)));
  }
  EXPECT_EQ(client.connections(), 1) << "keep-alive: both calls on one connection";
  EXPECT_EQ(fake.stats().recordsAccepted, 4u);
}

TEST_F(FakeKinesisTest, RoutesByMd5AgainstUnevenRanges) {
  FakeKinesis fake(options({{"u", 4, unevenSplits(4)}}));
  TestClient client(fake.port());
  auto list = call(client, "ListShards", R"({"StreamName":"u"})");
  Json shards(list.body);
  ASSERT_EQ(shards.size("/Shards"), 4u) << list.body;
  std::vector<std::pair<HashKey, HashKey>> ranges;
  for (int i = 0; i < 4; ++i) {
    ranges.emplace_back(decimal(shards.str(fmt::format("/Shards/{}/HashKeyRange/StartingHashKey", i))),
                        decimal(shards.str(fmt::format("/Shards/{}/HashKeyRange/EndingHashKey", i))));
  }
  // Contiguous, covering, and 10/20/30/40 %.
  EXPECT_EQ(ranges.front().first, 0u);
  EXPECT_TRUE(ranges.back().second == kMaxHashKey);
  for (int i = 0; i < 4; ++i) {
    if (i > 0) {
      EXPECT_TRUE(ranges[static_cast<size_t>(i)].first == ranges[static_cast<size_t>(i) - 1].second + 1);
    }
    long double share =
        static_cast<long double>(ranges[static_cast<size_t>(i)].second - ranges[static_cast<size_t>(i)].first) /
        static_cast<long double>(kMaxHashKey);
    EXPECT_NEAR(static_cast<double>(share), 0.1 * (i + 1), 1e-9) << "shard " << i;
  }
  auto expectedShard = [&](HashKey hash) {
    for (size_t i = 0; i < ranges.size(); ++i) {
      if (hash >= ranges[i].first && hash <= ranges[i].second) return fmt::format("shardId-{:012}", i);
    }
    return std::string("none");
  };

  std::vector<TestRecord> records;
  for (int i = 0; i < 400; ++i) records.push_back({fmt::format("user-{}", i), fmt::format("d{}", i), std::nullopt});
  // Explicit hash keys at the range edges override the key's MD5.
  records.push_back({"edge", "e0", "0"});
  records.push_back({"edge", "e1", hashKeyToDecimal(ranges[1].second)});
  records.push_back({"edge", "e2", hashKeyToDecimal(ranges[2].first)});
  records.push_back({"edge", "e3", kTwoTo128Minus1});
  auto response = put(client, "u", records);
  ASSERT_EQ(response.status, 200) << response.body;
  Json json(response.body);
  std::map<std::string, int> perShard;
  for (size_t i = 0; i < records.size(); ++i) {
    HashKey hash = records[i].explicitHashKey ? decimal(*records[i].explicitHashKey) : md5Of(records[i].partitionKey);
    std::string shard = json.str(fmt::format("/Records/{}/ShardId", i));
    EXPECT_EQ(shard, expectedShard(hash)) << records[i].partitionKey;
    ++perShard[shard];
  }
  EXPECT_EQ(json.str("/Records/400/ShardId"), "shardId-000000000000");
  EXPECT_EQ(json.str("/Records/401/ShardId"), "shardId-000000000001");
  EXPECT_EQ(json.str("/Records/402/ShardId"), "shardId-000000000002");
  EXPECT_EQ(json.str("/Records/403/ShardId"), "shardId-000000000003");
  // The uneven layout shows in the spread (400 keys: about 40/80/120/160).
  EXPECT_LT(perShard["shardId-000000000000"], perShard["shardId-000000000003"]);
  auto stats = fake.stats();
  ASSERT_EQ(stats.shards.size(), 4u);
  for (const auto& shard : stats.shards) EXPECT_EQ(static_cast<int>(shard.accepted), perShard[shard.shardId]);
  auto stored = fake.records();
  EXPECT_EQ(stored[401].explicitHashKey.value_or(""), hashKeyToDecimal(ranges[1].second));
}

TEST_F(FakeKinesisTest, PerShardRecordLimitThrottlesExactlyTheExcess) {
  auto o = options({{"s", 2, {}}});
  o.recordsPerSecond = 10;
  FakeKinesis fake(o);
  TestClient client(fake.port());
  // 15 records for shard 0 with 3 for shard 1 in between.
  std::vector<TestRecord> records;
  for (int i = 0; i < 15; ++i) {
    records.push_back(toShard(0, 2, fmt::format("zero-{}", i)));
    if (i % 5 == 0) records.push_back(toShard(1, 2, fmt::format("one-{}", i)));
  }
  auto response = put(client, "s", records);
  ASSERT_EQ(response.status, 200) << response.body;
  Json json(response.body);
  EXPECT_EQ(json.num("/FailedRecordCount"), 5);
  int zeroSeen = 0;
  for (size_t i = 0; i < records.size(); ++i) {
    std::string at = fmt::format("/Records/{}", i);
    bool forZero = records[i].data.starts_with("zero");
    bool shouldFail = forZero && ++zeroSeen > 10;
    if (shouldFail) {
      EXPECT_EQ(json.str(at + "/ErrorCode"), "ProvisionedThroughputExceededException") << i;
      EXPECT_EQ(json.str(at + "/ErrorMessage"),
                "Rate exceeded for shard shardId-000000000000 in stream s under account 123456789012.");
      EXPECT_FALSE(json.has(at + "/SequenceNumber"));
    } else {
      EXPECT_FALSE(json.has(at + "/ErrorCode")) << i;
      EXPECT_EQ(json.str(at + "/ShardId"), forZero ? "shardId-000000000000" : "shardId-000000000001");
    }
  }
  // Same instant: shard 0 is full, shard 1 still has room.
  auto more = put(client, "s", {toShard(0, 2, "late-zero"), toShard(1, 2, "late-one")});
  Json next(more.body);
  EXPECT_EQ(next.num("/FailedRecordCount"), 1);
  EXPECT_EQ(next.str("/Records/0/ErrorCode"), "ProvisionedThroughputExceededException");
  EXPECT_EQ(next.str("/Records/1/ShardId"), "shardId-000000000001");

  auto stats = fake.stats();
  EXPECT_EQ(stats.recordsThrottled, 6u);
  EXPECT_EQ(stats.failed("ProvisionedThroughputExceededException"), 6u);
  EXPECT_EQ(stats.shards[0].throttled, 6u);
  EXPECT_EQ(stats.shards[0].accepted, 10u);
  EXPECT_EQ(stats.shards[1].accepted, 4u);
  EXPECT_EQ(stats.outcome("partial"), 2u);
  EXPECT_EQ(fake.records().size(), 14u);
}

TEST_F(FakeKinesisTest, PerShardByteLimitCountsDataAndKey) {
  auto o = options();
  o.bytesPerSecond = 1000;
  FakeKinesis fake(o);
  TestClient client(fake.port());
  std::vector<TestRecord> records;
  for (int i = 0; i < 9; ++i) records.push_back({"k", std::string(99, static_cast<char>('a' + i)), std::nullopt});
  records.push_back({"k", std::string(149, 'y'), std::nullopt});  // 900 + 150 > 1000: refused
  records.push_back({"k", std::string(99, 'z'), std::nullopt});   // 900 + 100 = 1000: fits
  auto response = put(client, "s", records);
  Json json(response.body);
  // 100 bytes each (99 + the 1-byte key).
  for (int i = 0; i < 9; ++i) EXPECT_FALSE(json.has(fmt::format("/Records/{}/ErrorCode", i))) << i;
  EXPECT_EQ(json.str("/Records/9/ErrorCode"), "ProvisionedThroughputExceededException");
  EXPECT_FALSE(json.has("/Records/10/ErrorCode"));
  EXPECT_EQ(json.num("/FailedRecordCount"), 1);
  EXPECT_EQ(fake.stats().bytesAccepted, 1000u);
  // Full: even one byte more waits for the window.
  EXPECT_EQ(Json(put(client, "s", {{"k", "", std::nullopt}}).body).num("/FailedRecordCount"), 1);
}

TEST_F(FakeKinesisTest, TheWindowSlides) {
  auto o = options();
  o.recordsPerSecond = 10;
  FakeKinesis fake(o);
  TestClient client(fake.port());
  auto failedOf = [&](size_t n, std::string tag) {
    return Json(put(client, "s", uniqueRecords(tag, n)).body).num("/FailedRecordCount");
  };
  EXPECT_EQ(failedOf(6, "t0"), 0);  // t=0: 6 of 10
  clock_.advance(500ms);
  EXPECT_EQ(failedOf(5, "t500"), 1);  // t=0.5: 4 more fit
  clock_.advance(499ms);
  EXPECT_EQ(failedOf(1, "t999"), 1);  // t=0.999: still full
  clock_.advance(1ms);
  EXPECT_EQ(failedOf(7, "t1000"), 1);  // t=1.0: the 6 from t=0 left the window
  clock_.advance(500ms);
  EXPECT_EQ(failedOf(5, "t1500"), 1);  // t=1.5: the 4 from t=0.5 left
  clock_.advance(10s);
  EXPECT_EQ(failedOf(10, "t11500"), 0);  // idle: a full second's worth again
  EXPECT_EQ(fake.stats().recordsAccepted, 6u + 4u + 6u + 4u + 10u);
}

TEST_F(FakeKinesisTest, ARecordLargerThanASecondsBytesGoesIntoAnEmptyWindowAndHoldsItLonger) {
  // A stream configured for large records: Kinesis lets one burst past the
  // shard's 1 MiB/s and refills afterwards.
  auto o = options();
  o.bytesPerSecond = 1000;
  o.maxRecordSize = 10000;
  FakeKinesis fake(o);
  TestClient client(fake.port());
  auto failedOf = [&](std::vector<TestRecord> records) {
    return Json(put(client, "s", records).body).num("/FailedRecordCount");
  };
  EXPECT_EQ(failedOf({{"k", std::string(99, 'a'), std::nullopt}}), 0);  // 100 bytes in the window
  EXPECT_EQ(failedOf({{"k", std::string(2499, 'b'), std::nullopt}}), 1) << "only into an empty window";
  clock_.advance(1s);
  EXPECT_EQ(failedOf({{"k", std::string(2499, 'b'), std::nullopt}}), 0) << "2,500 bytes into the empty window";
  clock_.advance(2499ms);  // counted for 2.5 s: 2,500 bytes at 1,000/s
  EXPECT_EQ(failedOf({{"k", "", std::nullopt}}), 1);
  clock_.advance(1ms);
  EXPECT_EQ(failedOf({{"k", std::string(999, 'c'), std::nullopt}}), 0) << "a full second's bytes again";
  EXPECT_EQ(fake.stats().bytesAccepted, 100u + 2500u + 1000u);
}

TEST_F(FakeKinesisTest, InjectedRecordFaultsByRate) {
  FakeKinesis fake(options());
  TestClient client(fake.port());
  Faults faults;
  faults.recordInternalFailureRate = 1;
  fake.setFaults(faults);
  Json internal(put(client, "s", uniqueRecords("internal", 3)).body);
  EXPECT_EQ(internal.num("/FailedRecordCount"), 3);
  EXPECT_EQ(internal.str("/Records/2/ErrorCode"), "InternalFailure");
  EXPECT_EQ(internal.str("/Records/2/ErrorMessage"), "Internal service failure.");

  faults = Faults{};
  faults.recordThrottleRate = 1;
  fake.setFaults(faults);
  Json throttled(put(client, "s", uniqueRecords("throttle", 2)).body);
  EXPECT_EQ(throttled.str("/Records/1/ErrorCode"), "ProvisionedThroughputExceededException");

  auto stats = fake.stats();
  EXPECT_EQ(stats.recordsAccepted, 0u);
  EXPECT_EQ(stats.recordsThrottled, 0u) << "injected throttles are not the shard's limit";
  EXPECT_EQ(stats.failed("InternalFailure"), 3u);
  EXPECT_EQ(stats.failed("ProvisionedThroughputExceededException"), 2u);

  // A seeded rate fails the same records in two runs.
  auto pattern = [&](uint64_t seed) {
    auto o = options();
    o.recordsPerSecond = 0;
    o.bytesPerSecond = 0;
    o.seed = seed;
    o.faults.recordInternalFailureRate = 0.2;
    o.faults.recordThrottleRate = 0.1;
    FakeKinesis seeded(o);
    TestClient c(seeded.port());
    Json json(put(c, "s", uniqueRecords("seeded", 500)).body);
    std::string out;
    for (int i = 0; i < 500; ++i) {
      std::string code = json.str(fmt::format("/Records/{}/ErrorCode", i));
      out += code == "InternalFailure" ? 'I' : code == "ProvisionedThroughputExceededException" ? 'T' : '.';
    }
    return out;
  };
  std::string first = pattern(42);
  EXPECT_EQ(first, pattern(42));
  EXPECT_NE(first, pattern(43));
  auto internalCount = std::count(first.begin(), first.end(), 'I');
  auto throttleCount = std::count(first.begin(), first.end(), 'T');
  EXPECT_GT(internalCount, 60);
  EXPECT_LT(internalCount, 140);
  EXPECT_GT(throttleCount, 20);
  EXPECT_LT(throttleCount, 80);
}

TEST_F(FakeKinesisTest, ScheduledRecordFaultsHitExactRecords) {
  FakeKinesis fake(options());
  TestClient client(fake.port());
  Faults faults;
  ScheduledFault entry;
  entry.request = 2;
  entry.action.recordFaults = {{1, RecordError::kInternalFailure}, {3, RecordError::kProvisionedThroughputExceeded}};
  faults.schedule.push_back(entry);
  fake.setFaults(faults);
  EXPECT_EQ(Json(put(client, "s", uniqueRecords("r1", 5)).body).num("/FailedRecordCount"), 0);
  Json second(put(client, "s", uniqueRecords("r2", 5)).body);
  EXPECT_EQ(second.num("/FailedRecordCount"), 2);
  EXPECT_FALSE(second.has("/Records/0/ErrorCode"));
  EXPECT_EQ(second.str("/Records/1/ErrorCode"), "InternalFailure");
  EXPECT_FALSE(second.has("/Records/2/ErrorCode"));
  EXPECT_EQ(second.str("/Records/3/ErrorCode"), "ProvisionedThroughputExceededException");
  EXPECT_EQ(Json(put(client, "s", uniqueRecords("r3", 5)).body).num("/FailedRecordCount"), 0);
}

TEST_F(FakeKinesisTest, EveryRequestErrorHasItsStatusAndType) {
  struct Case {
    std::string type;
    int status;
  };
  const std::vector<Case> cases = {
      {"ProvisionedThroughputExceededException", 400},
      {"LimitExceededException", 400},
      {"ResourceNotFoundException", 400},
      {"AccessDeniedException", 400},
      {"KMSThrottlingException", 400},
      {"KMSDisabledException", 400},
      {"ExpiredTokenException", 400},
      {"InvalidArgumentException", 400},
      {"InternalFailure", 500},
      {"ServiceUnavailable", 503},
      {"PayloadTooLarge", 413},
  };
  FakeKinesis fake(options());
  TestClient client(fake.port());
  for (const auto& c : cases) {
    SCOPED_TRACE(c.type);
    Faults faults;
    ScheduledFault entry;
    entry.request = 1;
    entry.action.error = apiErrorFromName(c.type);
    ASSERT_TRUE(entry.action.error.has_value());
    faults.schedule.push_back(entry);
    fake.setFaults(faults);
    auto response = put(client, "s", uniqueRecords(c.type, 2));
    EXPECT_EQ(response.status, c.status);
    if (c.status == 413) {
      EXPECT_TRUE(response.body.empty());
    } else {
      EXPECT_EQ(errorType(response), c.type) << response.body;
      EXPECT_TRUE(Json(response.body).has("/message"));
    }
    // The schedule hit only the first request.
    EXPECT_EQ(put(client, "s", uniqueRecords(c.type + "-after", 1)).status, 200);
  }
  auto stats = fake.stats();
  EXPECT_EQ(stats.recordsAccepted, cases.size());
  EXPECT_EQ(stats.outcome("ok"), cases.size());
  EXPECT_EQ(stats.outcome("ServiceUnavailable"), 1u);
  EXPECT_EQ(stats.outcome("PayloadTooLarge"), 1u);
  EXPECT_EQ(client.connections(), 1) << "error answers keep the connection";
}

TEST_F(FakeKinesisTest, RequestErrorRatesAreSeeded) {
  auto statuses = [&](uint64_t seed) {
    auto o = options();
    o.recordsPerSecond = 0;
    o.faults.requestErrorRates = {{ApiError::kServiceUnavailable, 0.3}, {ApiError::kInternalFailure, 0.2}};
    o.faults.seed = seed;
    FakeKinesis fake(o);
    TestClient client(fake.port());
    std::string out;
    for (int i = 0; i < 60; ++i) {
      int status = put(client, "s", uniqueRecords(fmt::format("q{}", i), 1)).status;
      out += status == 200 ? '.' : status == 503 ? 'U' : status == 500 ? 'I' : '?';
    }
    return out;
  };
  std::string first = statuses(7);
  EXPECT_EQ(first, statuses(7));
  EXPECT_EQ(first.find('?'), std::string::npos);
  EXPECT_GT(std::count(first.begin(), first.end(), 'U'), 5);
  EXPECT_GT(std::count(first.begin(), first.end(), 'I'), 3);
  EXPECT_GT(std::count(first.begin(), first.end(), '.'), 15);
}

TEST_F(FakeKinesisTest, DroppedConnectionsAndDuplicates) {
  FakeKinesis fake(options());
  TestClient client(fake.port());
  Faults faults;
  ScheduledFault drop;
  drop.request = 1;
  drop.action.drop = true;
  ScheduledFault dropAfter;
  dropAfter.request = 3;
  dropAfter.action.dropAfterProcessing = true;
  faults.schedule = {drop, dropAfter};
  fake.setFaults(faults);

  auto records = uniqueRecords("drop", 4);
  auto dropped = client.call("PutRecords", encodePutRecords("s", records));
  EXPECT_FALSE(dropped.has_value()) << "no answer to a dropped request";
  EXPECT_EQ(fake.stats().recordsAccepted, 0u);
  EXPECT_EQ(put(client, "s", records).status, 200);  // request 2, a new connection
  // Request 3 is processed but not answered; the retry lands the same records again.
  auto lost = uniqueRecords("lost-answer", 3);
  EXPECT_FALSE(client.call("PutRecords", encodePutRecords("s", lost)).has_value());
  EXPECT_EQ(put(client, "s", lost).status, 200);

  auto stats = fake.stats();
  EXPECT_EQ(stats.recordsAccepted, 4u + 3u + 3u);
  EXPECT_EQ(stats.duplicates, 3u);
  EXPECT_EQ(stats.outcome("dropped"), 1u);
  EXPECT_EQ(stats.outcome("droppedAfterProcessing"), 1u);
  EXPECT_EQ(client.connections(), 3);
}

TEST_F(FakeKinesisTest, SlowAnswers) {
  FakeKinesis fake(options());
  TestClient client(fake.port());
  Faults faults;
  faults.delay = 300ms;
  fake.setFaults(faults);
  auto start = std::chrono::steady_clock::now();
  auto response = put(client, "s", uniqueRecords("slow", 2));
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(response.status, 200);
  EXPECT_GE(elapsed, 300ms);
  EXPECT_EQ(fake.stats().recordsAccepted, 2u);
  fake.clearFaults();
  start = std::chrono::steady_clock::now();
  EXPECT_EQ(put(client, "s", uniqueRecords("fast", 2)).status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 300ms);
}

TEST_F(FakeKinesisTest, FaultsApplyToTheirOperationsOnly) {
  FakeKinesis fake(options());
  TestClient client(fake.port());
  Faults faults;
  faults.requestErrorRates = {{ApiError::kInternalFailure, 1.0}};
  fake.setFaults(faults);
  EXPECT_EQ(call(client, "ListShards", R"({"StreamName":"s"})").status, 200);
  EXPECT_EQ(put(client, "s", uniqueRecords("ops", 1)).status, 500);
  faults.operations = {"*"};
  fake.setFaults(faults);
  EXPECT_EQ(call(client, "ListShards", R"({"StreamName":"s"})").status, 500);
}

TEST_F(FakeKinesisTest, ValidationErrorsAsTheServiceAnswersThem) {
  auto o = options();
  o.recordsPerSecond = 0;
  o.bytesPerSecond = 0;
  FakeKinesis fake(o);
  TestClient client(fake.port());
  auto expectError = [&](const ClientResponse& response, std::string_view type, std::string_view inMessage = {}) {
    EXPECT_EQ(response.status, 400) << response.body;
    EXPECT_EQ(errorType(response), type) << response.body;
    if (!inMessage.empty()) {
      EXPECT_NE(Json(response.body).str("/message").find(inMessage), std::string::npos) << response.body;
    }
  };

  expectError(put(client, "s", uniqueRecords("many", 501, 1)), "ValidationException",
              "Member must have length less than or equal to 500");
  expectError(put(client, "s", {}), "ValidationException", "greater than or equal to 1");
  EXPECT_EQ(put(client, "s", uniqueRecords("max", 500, 1)).status, 200);

  // Partition keys count characters, not bytes: 256 two-byte characters pass.
  std::string e256, e257;
  for (int i = 0; i < 256; ++i) e256 += "\xc3\xa9";
  e257 = e256 + "\xc3\xa9";
  EXPECT_EQ(put(client, "s", {{e256, "ok", std::nullopt}}).status, 200);
  expectError(put(client, "s", {{e257, "no", std::nullopt}}), "ValidationException",
              "at 'records.1.member.partitionKey' failed to satisfy constraint: Member must have length less than or "
              "equal to 256");
  expectError(put(client, "s", {{"", "no", std::nullopt}}), "ValidationException", "partitionKey");
  // ... and UTF-16 code units, as kinesalite: an emoji counts 2, so 128 pass and 129 do not.
  std::string emoji128, emoji129;
  for (int i = 0; i < 128; ++i) emoji128 += "\xf0\x9f\x98\x80";
  emoji129 = emoji128 + "\xf0\x9f\x98\x80";
  EXPECT_EQ(put(client, "s", {{emoji128, "ok", std::nullopt}}).status, 200);
  expectError(put(client, "s", {{emoji129, "no", std::nullopt}}), "ValidationException",
              "Member must have length less than or equal to 256");

  // 1 MiB is data plus key.
  const size_t mib = 1024 * 1024;
  EXPECT_EQ(put(client, "s", {{"k", std::string(mib - 1, 'a'), std::nullopt}}).status, 200);
  expectError(put(client, "s", {{"k", std::string(mib, 'b'), std::nullopt}}), "InvalidArgumentException");
  expectError(put(client, "s", {{"k", std::string(mib + 1, 'c'), std::nullopt}}), "ValidationException",
              "Member must have length less than or equal to 1048576");

  // 5 MiB of data plus keys per request.
  std::vector<TestRecord> exactly;
  for (int i = 0; i < 5; ++i) exactly.push_back({fmt::format("{}", i), std::string(mib - 1, 'd'), std::nullopt});
  EXPECT_EQ(put(client, "s", exactly).status, 200);
  exactly.push_back({"5", "x", std::nullopt});
  expectError(put(client, "s", exactly), "InvalidArgumentException", "Records size exceeds 5 MB limit");

  // Bad base64 is a deserialization error.
  for (std::string data : {"aGVsbG8", "a$==", "Q===", " aGk="}) {
    auto body = fmt::format(R"({{"StreamName":"s","Records":[{{"Data":"{}","PartitionKey":"k"}}]}})", data);
    auto response = call(client, "PutRecords", body);
    EXPECT_EQ(errorType(response), "SerializationException") << data;
  }

  // ExplicitHashKey: a decimal below 2^128.
  EXPECT_EQ(put(client, "s", {{"k", "top", kTwoTo128Minus1}}).status, 200);
  expectError(put(client, "s", {{"k", "over", kTwoTo128}}), "InvalidArgumentException", "ExplicitHashKey");
  expectError(put(client, "s", {{"k", "word", "abc"}}), "ValidationException", "explicitHashKey");
  expectError(put(client, "s", {{"k", "zero", "01"}}), "ValidationException", "explicitHashKey");

  // Malformed requests.
  EXPECT_EQ(errorType(call(client, "PutRecords", "{not json")), "SerializationException");
  EXPECT_EQ(errorType(call(client, "PutRecords", R"({"StreamName":"s","Records":{}})")), "SerializationException");
  EXPECT_EQ(errorType(call(client, "PutRecords", R"({"StreamName":5,"Records":[]})")), "SerializationException");
  expectError(call(client, "PutRecords", R"({"StreamName":"s","Records":[{"Data":"aGk="}]})"), "ValidationException",
              "Value null at 'records.1.member.partitionKey'");
  expectError(put(client, "bad name!", uniqueRecords("n", 1)), "ValidationException", "streamName");
  expectError(call(client, "PutRecords", R"({"Records":[{"Data":"aGk=","PartitionKey":"k"}]})"),
              "InvalidArgumentException");
  expectError(call(client, "GetRecords", "{}"), "UnknownOperationException");

  // No Authorization, or not SigV4.
  auto noAuth =
      client.request("POST", "/", encodePutRecords("s", uniqueRecords("na", 1)),
                     {{"Content-Type", "application/x-amz-json-1.1"}, {"X-Amz-Target", "Kinesis_20131202.PutRecords"}});
  ASSERT_TRUE(noAuth);
  expectError(*noAuth, "MissingAuthenticationTokenException");
  auto basic = client.request("POST", "/", encodePutRecords("s", uniqueRecords("na", 1)),
                              {{"Content-Type", "application/x-amz-json-1.1"},
                               {"X-Amz-Target", "Kinesis_20131202.PutRecords"},
                               {"Authorization", "Basic dXNlcjpwYXNz"}});
  ASSERT_TRUE(basic);
  expectError(*basic, "MissingAuthenticationTokenException");

  auto stats = fake.stats();
  EXPECT_EQ(stats.recordsAccepted, 500u + 1 + 1 + 1 + 5 + 1);
  EXPECT_EQ(stats.outcome("ValidationException"), 10u);
}

TEST_F(FakeKinesisTest, ListShardsPaginates) {
  FakeKinesis fake(options({{"five", 5, {}}}));
  TestClient client(fake.port());
  Json all(call(client, "ListShards", R"({"StreamName":"five"})").body);
  EXPECT_EQ(all.size("/Shards"), 5u);
  EXPECT_FALSE(all.has("/NextToken"));
  // AWS's layout: shard i starts at i * floor(2^128 / 5).
  HashKey step = kMaxHashKey / 5;
  EXPECT_TRUE(decimal(all.str("/Shards/3/HashKeyRange/StartingHashKey")) == step * 3);

  std::vector<std::string> seen;
  std::string body = R"({"StreamName":"five","MaxResults":2})";
  int pages = 0;
  for (;;) {
    auto response = call(client, "ListShards", body);
    ASSERT_EQ(response.status, 200) << response.body;
    Json page(response.body);
    ++pages;
    EXPECT_LE(page.size("/Shards"), 2u);
    for (size_t i = 0; i < page.size("/Shards"); ++i) seen.push_back(page.str(fmt::format("/Shards/{}/ShardId", i)));
    if (!page.has("/NextToken")) break;
    body = fmt::format(R"({{"NextToken":"{}","MaxResults":2}})", page.str("/NextToken"));
  }
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(seen.size(), 5u);
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(seen[i], fmt::format("shardId-{:012}", i));

  Json after(
      call(client, "ListShards", R"({"StreamName":"five","ExclusiveStartShardId":"shardId-000000000002"})").body);
  EXPECT_EQ(after.size("/Shards"), 2u);
  EXPECT_EQ(after.str("/Shards/0/ShardId"), "shardId-000000000003");

  EXPECT_EQ(errorType(call(client, "ListShards", R"({"StreamName":"five","NextToken":"Zm9v"})")),
            "InvalidArgumentException");
  EXPECT_EQ(errorType(call(client, "ListShards", R"({"NextToken":"bm90LWEtdG9rZW4="})")), "InvalidArgumentException");
  EXPECT_EQ(errorType(call(client, "ListShards", R"({"StreamName":"five","MaxResults":0})")), "ValidationException");
  EXPECT_EQ(errorType(call(client, "ListShards", R"({"StreamName":"nope"})")), "ResourceNotFoundException");
}

TEST_F(FakeKinesisTest, StreamNotFoundThenCreated) {
  FakeKinesis fake(options({}));
  TestClient client(fake.port());
  auto missing = put(client, "later", uniqueRecords("nf", 2));
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(errorType(missing), "ResourceNotFoundException");
  EXPECT_EQ(Json(missing.body).str("/message"), "Stream later under account 123456789012 not found.");

  EXPECT_EQ(call(client, "CreateStream", R"({"StreamName":"later","ShardCount":2})").status, 200);
  Json summary(call(client, "DescribeStreamSummary", R"({"StreamName":"later"})").body);
  EXPECT_EQ(summary.str("/StreamDescriptionSummary/StreamStatus"), "ACTIVE");
  EXPECT_EQ(summary.num("/StreamDescriptionSummary/OpenShardCount"), 2);
  EXPECT_EQ(summary.num("/StreamDescriptionSummary/MaxRecordSizeInKiB"), 1024);  // --max-record-size's default
  EXPECT_EQ(summary.str("/StreamDescriptionSummary/StreamARN"), fake.streamArn("later"));
  EXPECT_EQ(put(client, "later", uniqueRecords("nf", 2)).status, 200);
  EXPECT_EQ(errorType(call(client, "CreateStream", R"({"StreamName":"later","ShardCount":1})")),
            "ResourceInUseException");

  // StreamARN works in place of the name; another account's ARN does not.
  auto byArn = call(
      client, "PutRecords",
      fmt::format(R"({{"StreamARN":"{}","Records":[{{"Data":"aGk=","PartitionKey":"k"}}]}})", fake.streamArn("later")));
  EXPECT_EQ(byArn.status, 200) << byArn.body;
  const std::string otherAccount = "arn:aws:kinesis:us-east-1:999999999999:stream/later";
  EXPECT_EQ(errorType(call(
                client, "PutRecords",
                fmt::format(R"({{"StreamARN":"{}","Records":[{{"Data":"aGk=","PartitionKey":"k"}}]}})", otherAccount))),
            "ResourceNotFoundException");
  Json described(call(client, "DescribeStream", R"({"StreamName":"later"})").body);
  EXPECT_EQ(described.size("/StreamDescription/Shards"), 2u);

  EXPECT_EQ(call(client, "DeleteStream", R"({"StreamName":"later"})").status, 200);
  EXPECT_EQ(errorType(put(client, "later", uniqueRecords("gone", 1))), "ResourceNotFoundException");
  EXPECT_EQ(errorType(call(client, "DeleteStream", R"({"StreamName":"later"})")), "ResourceNotFoundException");

  // And from C++, with custom ranges.
  ASSERT_TRUE(fake.createStream("cpp", 2, {kTwoTo127}).isOk());
  Json shards(call(client, "ListShards", R"({"StreamName":"cpp"})").body);
  EXPECT_TRUE(decimal(shards.str("/Shards/1/HashKeyRange/StartingHashKey")) == kTwoTo127);
  EXPECT_FALSE(fake.createStream("cpp", 1).isOk());
  EXPECT_FALSE(fake.createStream("bad", 3, {kTwoTo127}).isOk()) << "3 shards need 2 splits";
  EXPECT_TRUE(fake.deleteStream("cpp").isOk());
  EXPECT_FALSE(fake.deleteStream("cpp").isOk());
}

TEST_F(FakeKinesisTest, PutRecordSingle) {
  auto o = options();
  o.recordsPerSecond = 2;
  FakeKinesis fake(o);
  TestClient client(fake.port());
  auto first = call(client, "PutRecord", encodePutRecord("s", {"k", "one", std::nullopt}));
  ASSERT_EQ(first.status, 200) << first.body;
  Json json(first.body);
  EXPECT_EQ(json.str("/ShardId"), "shardId-000000000000");
  std::string sequence = json.str("/SequenceNumber");
  EXPECT_EQ(sequence.size(), 56u);
  auto second =
      call(client, "PutRecord",
           fmt::format(R"({{"StreamName":"s","Data":"dHdv","PartitionKey":"k","SequenceNumberForOrdering":"{}"}})",
                       sequence));
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_GT(Json(second.body).str("/SequenceNumber"), sequence);
  EXPECT_EQ(errorType(call(client, "PutRecord",
                           R"({"StreamName":"s","Data":"dHdv","PartitionKey":"k","SequenceNumberForOrdering":"x"})")),
            "ValidationException");
  // Over the shard's limit, PutRecord fails as a whole.
  auto third = call(client, "PutRecord", encodePutRecord("s", {"k", "three", std::nullopt}));
  EXPECT_EQ(third.status, 400);
  EXPECT_EQ(errorType(third), "ProvisionedThroughputExceededException");
  clock_.advance(1s);
  Faults faults;
  faults.recordInternalFailureRate = 1;
  fake.setFaults(faults);
  EXPECT_EQ(call(client, "PutRecord", encodePutRecord("s", {"k", "four", std::nullopt})).status, 500);
  EXPECT_EQ(fake.stats().recordsAccepted, 2u);
}

TEST_F(FakeKinesisTest, StatsCountOutcomesAndDuplicates) {
  FakeKinesis fake(options({{"s", 3, {}}}));
  TestClient client(fake.port());
  auto records = uniqueRecords("dup", 3);
  EXPECT_EQ(put(client, "s", records).status, 200);
  EXPECT_EQ(put(client, "s", uniqueRecords("fresh", 2)).status, 200);
  EXPECT_EQ(fake.stats().duplicates, 0u);
  EXPECT_EQ(put(client, "s", records).status, 200);
  // Same data under another key is not a duplicate.
  auto rekeyed = records;
  for (auto& r : rekeyed) r.partitionKey += "-other";
  EXPECT_EQ(put(client, "s", rekeyed).status, 200);
  put(client, "missing", records);

  auto stats = fake.stats();
  EXPECT_EQ(stats.requests, 5u);
  EXPECT_EQ(stats.recordsAccepted, 11u);
  EXPECT_EQ(stats.duplicates, 3u);
  EXPECT_EQ(stats.outcome("ok"), 4u);
  EXPECT_EQ(stats.outcome("ResourceNotFoundException"), 1u);
  EXPECT_EQ(stats.requestsByOperation.at("PutRecords"), 5u);
  uint64_t perShard = 0;
  for (const auto& shard : stats.shards) perShard += shard.accepted;
  EXPECT_EQ(perShard, 11u);
  EXPECT_EQ(stats.recordsStored, 11u);
  Json json(stats.toJson());
  EXPECT_EQ(json.num("/duplicates"), 3);
  EXPECT_EQ(json.num("/requestsByOutcome/ok"), 4);
  EXPECT_EQ(json.size("/shards"), 3u);
}

TEST_F(FakeKinesisTest, ControlApi) {
  FakeKinesis fake(options());
  TestClient client(fake.port());
  TestClient control(fake.port());
  auto post = [&](std::string_view path, std::string_view body) {
    auto r = control.request("POST", path, body, {{"Content-Type", "application/json"}});
    return r ? *r : ClientResponse{};
  };
  auto get = [&](std::string_view path) {
    auto r = control.request("GET", path, "");
    return r ? *r : ClientResponse{};
  };

  auto set = post("/_fake/faults", R"({"schedule":[{"request":1,"error":"ServiceUnavailable"},
      {"request":2,"recordFaults":[{"index":0,"error":"InternalFailure"}]}],"recordThrottleRate":0})");
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_EQ(Json(get("/_fake/faults").body).str("/schedule/0/error"), "ServiceUnavailable");
  EXPECT_EQ(put(client, "s", uniqueRecords("c1", 2)).status, 503);
  EXPECT_EQ(Json(put(client, "s", uniqueRecords("c2", 2)).body).num("/FailedRecordCount"), 1);
  EXPECT_EQ(put(client, "s", uniqueRecords("c3", 2)).status, 200);

  auto bad = post("/_fake/faults", R"({"recordThrottleRate":2})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(Json(bad.body).str("/error").find("recordThrottleRate"), std::string::npos);
  EXPECT_EQ(post("/_fake/faults", R"({"schedule":[{"request":1,"error":"NoSuchError"}]})").status, 400);
  EXPECT_EQ(post("/_fake/faults", "{}").status, 200);

  Json stats(get("/_fake/stats").body);
  EXPECT_EQ(stats.num("/recordsAccepted"), 3);
  EXPECT_EQ(stats.num("/requestsByOutcome/ServiceUnavailable"), 1);
  EXPECT_EQ(stats.num("/recordsFailed/InternalFailure"), 1);

  auto lines = get("/_fake/records");
  EXPECT_EQ(lines.headers["content-type"], "application/x-ndjson");
  EXPECT_EQ(std::count(lines.body.begin(), lines.body.end(), '\n'), 3);
  Json firstLine(lines.body.substr(0, lines.body.find('\n')));
  EXPECT_EQ(firstLine.str("/stream"), "s");
  EXPECT_EQ(firstLine.str("/shardId"), "shardId-000000000000");
  EXPECT_EQ(firstLine.str("/partitionKey"), "key-1");  // record 0 of c2 failed
  EXPECT_EQ(firstLine.str("/sequenceNumber").size(), 56u);
  EXPECT_FALSE(firstLine.has("/explicitHashKey"));
  EXPECT_EQ(firstLine.str("/data"), base64("c2-1-xxxxxxxxxxxxxxx"));
  Json count(get("/_fake/records?count=1").body);
  EXPECT_EQ(count.num("/accepted"), 3);
  EXPECT_EQ(count.num("/stored"), 3);
  auto page = get("/_fake/records?from=1&limit=1");
  EXPECT_EQ(std::count(page.body.begin(), page.body.end(), '\n'), 1);
  EXPECT_EQ(Json(page.body.substr(0, page.body.size() - 1)).str("/partitionKey"), "key-0");

  EXPECT_EQ(post("/_fake/limits", R"({"recordsPerSecond":1})").status, 200);
  EXPECT_EQ(Json(put(client, "s", uniqueRecords("lim", 2)).body).num("/FailedRecordCount"), 2);

  auto created = post("/_fake/streams", R"({"name":"extra","shards":4,"uneven":true})");
  EXPECT_EQ(created.status, 200) << created.body;
  EXPECT_EQ(Json(call(client, "ListShards", R"({"StreamName":"extra"})").body).size("/Shards"), 4u);
  EXPECT_EQ(post("/_fake/streams", R"({"name":"split","shards":2,"splits":[0.5]})").status, 200);

  EXPECT_EQ(post("/_fake/reset", "").status, 200);
  Json afterReset(get("/_fake/stats").body);
  EXPECT_EQ(afterReset.num("/requests"), 0);
  EXPECT_EQ(afterReset.num("/recordsAccepted"), 0);
  EXPECT_EQ(afterReset.size("/shards"), 1u) << "back to the configured streams";
  EXPECT_TRUE(get("/_fake/records").body.empty());
  EXPECT_EQ(put(client, "s", uniqueRecords("again", 2)).status, 200) << "limits back to the configured ones";
  EXPECT_EQ(errorType(put(client, "extra", uniqueRecords("x", 1))), "ResourceNotFoundException");

  EXPECT_EQ(get("/_fake/nothing").status, 404);
  EXPECT_EQ(get("/_fake/reset").status, 405);
  EXPECT_EQ(get("/_fake/health").status, 200);
}

TEST_F(FakeKinesisTest, RecordLogFileAndStoredRecordCap) {
  auto path = std::filesystem::temp_directory_path() / fmt::format("fake-kinesis-log-{}.jsonl", ::getpid());
  auto o = options();
  o.recordLogPath = path.string();
  o.maxStoredRecords = 2;
  {
    FakeKinesis fake(o);
    TestClient client(fake.port());
    auto records = uniqueRecords("file", 5);
    records[4].explicitHashKey = "12345";
    EXPECT_EQ(put(client, "s", records).status, 200);
    EXPECT_EQ(fake.records().size(), 2u);
    EXPECT_EQ(fake.stats().recordsStored, 2u);
    EXPECT_EQ(fake.stats().recordsAccepted, 5u);
  }
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::filesystem::remove(path);
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(Json(lines[4]).str("/explicitHashKey"), "12345");
  EXPECT_EQ(Json(lines[3]).str("/partitionKey"), "key-3");
}

TEST_F(FakeKinesisTest, SurvivesGarbageAndOversizedRequests) {
  FakeKinesis fake(options());
  auto rawAnswer = [&](std::string bytes) {
    TestClient c(fake.port());
    auto r = c.raw(bytes);
    return r ? r->status : -1;
  };
  EXPECT_EQ(rawAnswer("GARBAGE\r\n\r\n"), 400);
  EXPECT_EQ(rawAnswer("GET /x HTTP/9.9\r\n\r\n"), 400);
  EXPECT_EQ(rawAnswer("POST / HTTP/1.1\r\nContent-Length: nope\r\n\r\n"), 400);
  EXPECT_EQ(rawAnswer("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), 501);
  EXPECT_EQ(rawAnswer("GET / HTTP/1.1\r\nX-Big: " + std::string(70000, 'a') + "\r\n\r\n"), 431);
  {
    // A body over the cap is refused before it is read.
    TestClient c(fake.port());
    auto r = c.raw("POST / HTTP/1.1\r\nContent-Length: 100000000\r\n\r\n" + std::string(100000, 'x'));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 413);
    EXPECT_TRUE(r->body.empty());
  }
  {
    // A client that leaves mid-body.
    TestClient c(fake.port());
    ASSERT_TRUE(c.send("POST / HTTP/1.1\r\nContent-Length: 1000\r\n\r\n{\"half").isOk());
    c.disconnect();
  }
  {
    // Expect: 100-continue is answered before the body is sent.
    TestClient c(fake.port());
    std::string body = encodePutRecords("s", uniqueRecords("expect", 1));
    ASSERT_TRUE(c.send(fmt::format("POST / HTTP/1.1\r\nContent-Type: application/x-amz-json-1.1\r\n"
                                   "X-Amz-Target: Kinesis_20131202.PutRecords\r\n"
                                   "Authorization: AWS4-HMAC-SHA256 Credential=A/1/r/kinesis/aws4_request\r\n"
                                   "Expect: 100-continue\r\nContent-Length: {}\r\n\r\n",
                                   body.size()))
                    .isOk());
    auto interim = c.receive(true);
    ASSERT_TRUE(interim);
    EXPECT_EQ(interim->status, 100);
    ASSERT_TRUE(c.send(body).isOk());
    auto final = c.receive();
    ASSERT_TRUE(final);
    EXPECT_EQ(final->status, 200) << final->body;
  }
  {
    // Two requests in one write: both answered, in order.
    TestClient c(fake.port());
    ASSERT_TRUE(c.send("GET /_fake/health HTTP/1.1\r\n\r\nGET /_fake/nothing HTTP/1.1\r\n\r\n").isOk());
    auto a = c.receive();
    auto b = c.receive();
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->status, 200);
    EXPECT_EQ(b->status, 404);
  }
  TestClient client(fake.port());
  EXPECT_EQ(put(client, "s", uniqueRecords("alive", 3)).status, 200);
  EXPECT_EQ(fake.stats().recordsAccepted, 4u);
}

TEST_F(FakeKinesisTest, ManyConnectionsKeepAliveOnSeveralThreads) {
  auto o = options({{"s", 4, {}}});
  o.threads = 2;
  o.recordsPerSecond = 0;
  o.bytesPerSecond = 0;
  FakeKinesis fake(o);
  constexpr int kClients = 16;
  constexpr int kRequests = 20;
  constexpr int kRecords = 50;
  std::atomic<int> failures{0};
  std::atomic<int> connections{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      TestClient client(fake.port());
      for (int r = 0; r < kRequests; ++r) {
        auto response =
            client.call("PutRecords", encodePutRecords("s", uniqueRecords(fmt::format("c{}r{}", c, r), kRecords)));
        if (!response || response->status != 200 || Json(response->body).num("/FailedRecordCount") != 0) ++failures;
      }
      connections += client.connections();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(connections.load(), kClients);
  auto stats = fake.stats();
  EXPECT_EQ(stats.recordsAccepted, static_cast<uint64_t>(kClients * kRequests * kRecords));
  EXPECT_EQ(stats.duplicates, 0u);
  // Per shard, sequence numbers grow in acceptance order.
  std::map<std::string, std::string> last;
  for (const auto& record : fake.records()) {
    EXPECT_GT(record.sequenceNumber, last[record.shardId]);
    last[record.shardId] = record.sequenceNumber;
  }
  EXPECT_EQ(last.size(), 4u);
}

TEST_F(FakeKinesisTest, LatencyOfStampedRecordsAgainstTheWallClock) {
  FakeOptions o = options({{"s", 2, {}}});
  o.latencyField = "ts";
  FakeKinesis fake(o);
  TestClient client(fake.port());
  auto wallNanos = [&] {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(clock_.wallNow().time_since_epoch()).count();
  };
  // 100 records written 1..100 ms before now (the manual clock stands
  // still), and three that carry no usable stamp.
  std::vector<TestRecord> records;
  for (int i = 1; i <= 100; ++i) {
    records.push_back({fmt::format("k{}", i), fmt::format(R"({{"ts":{},"seq":{}}})", wallNanos() - i * 1'000'000, i),
                       std::nullopt});
  }
  records.push_back({"k", R"({"seq":0})", std::nullopt});
  records.push_back({"k", R"({"ts":"soon"})", std::nullopt});
  records.push_back({"k", "ts=5 not json", std::nullopt});
  ASSERT_EQ(put(client, "s", records).status, 200);

  auto latency = fake.stats().latency;
  EXPECT_EQ(latency.count, 100u);
  EXPECT_EQ(latency.future, 0u);
  EXPECT_EQ(latency.maxNanos, 100'000'000u);
  EXPECT_EQ(latency.meanNanos, 50'500'000u);
  // Quantiles are bucket bounds: at or above the truth, within 1/32.
  EXPECT_GE(latency.p50Nanos, 50'000'000u);
  EXPECT_LE(latency.p50Nanos, 50'000'000u + 50'000'000u / 32);
  EXPECT_GE(latency.p99Nanos, 99'000'000u);
  EXPECT_LE(latency.p99Nanos, 100'000'000u);

  // Time moves on: the same stamp now counts 1 s more; PutRecord counts too;
  // a stamp from the future (a skewed clock) counts as zero.
  int64_t stamp = wallNanos();
  clock_.advance(1s);
  ASSERT_EQ(call(client, "PutRecord",
                 fmt::format(R"({{"StreamName":"s","PartitionKey":"p","Data":"{}"}})",
                             base64(fmt::format(R"({{"ts":{}}})", stamp))))
                .status,
            200);
  ASSERT_EQ(put(client, "s", {{"f", fmt::format(R"({{"ts":{}}})", wallNanos() + 1'000'000'000), std::nullopt}}).status,
            200);
  latency = fake.stats().latency;
  EXPECT_EQ(latency.count, 102u);
  EXPECT_EQ(latency.future, 1u);
  EXPECT_EQ(latency.maxNanos, 1'000'000'000u);

  // The control API reports it in milliseconds.
  TestClient control(fake.port());
  auto statsReply = control.request("GET", "/_fake/stats", "");
  ASSERT_TRUE(statsReply);
  Json json(statsReply->body);
  EXPECT_EQ(json.num("/latency/count"), 102) << statsReply->body;
  EXPECT_EQ(json.num("/latency/future"), 1);
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  double maxMs = 0;
  ASSERT_EQ(parser.parse(statsReply->body).get(root), simdjson::SUCCESS);
  ASSERT_EQ(root.at_pointer("/latency/maxMs").get(maxMs), simdjson::SUCCESS);
  EXPECT_DOUBLE_EQ(maxMs, 1000.0);

  fake.reset();
  EXPECT_EQ(fake.stats().latency.count, 0u);
  EXPECT_EQ(fake.stats().latency.future, 0u);
}

TEST_F(FakeKinesisTest, LatencyOffByDefault) {
  FakeKinesis fake(options());
  TestClient client(fake.port());
  ASSERT_EQ(put(client, "s", {{"k", R"({"ts":1})", std::nullopt}}).status, 200);
  EXPECT_EQ(fake.stats().latency.count, 0u);
  EXPECT_EQ(Json(fake.stats().toJson()).num("/latency/count"), 0);
}

// --- The CBOR protocol (application/x-amz-cbor-1.1) ---------------------------
// Requests are written byte by byte here, not with the fake's writer, so both
// definite and indefinite items can be sent; answers are read with libcbor and
// turned into JSON text so the Json accessors apply.

std::string cborHead(uint8_t major, uint64_t n) {
  std::string out;
  uint8_t type = static_cast<uint8_t>(major << 5);
  if (n < 24) {
    out += static_cast<char>(type | n);
  } else if (n <= 0xff) {
    out += static_cast<char>(type | 24);
    out += static_cast<char>(n);
  } else if (n <= 0xffff) {
    out += static_cast<char>(type | 25);
    for (int shift = 8; shift >= 0; shift -= 8) out += static_cast<char>((n >> shift) & 0xff);
  } else {
    out += static_cast<char>(type | 27);
    for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>((n >> shift) & 0xff);
  }
  return out;
}
std::string cborText(std::string_view text) { return cborHead(3, text.size()) + std::string(text); }
std::string cborBytes(std::string_view bytes) { return cborHead(2, bytes.size()) + std::string(bytes); }
// Indefinite-length strings: a start byte, definite chunks, a break.
std::string cborTextChunks(const std::vector<std::string>& chunks) {
  std::string out = "\x7f";
  for (const auto& chunk : chunks) out += cborText(chunk);
  return out + "\xff";
}
std::string cborBytesChunks(const std::vector<std::string>& chunks) {
  std::string out = "\x5f";
  for (const auto& chunk : chunks) out += cborBytes(chunk);
  return out + "\xff";
}

// A PutRecords body of definite-length items.
std::string cborPutRecords(std::string_view stream, const std::vector<TestRecord>& records) {
  std::string out = cborHead(5, 2) + cborText("StreamName") + cborText(stream) + cborText("Records");
  out += cborHead(4, records.size());
  for (const auto& r : records) {
    out += cborHead(5, r.explicitHashKey ? 3 : 2);
    out += cborText("Data") + cborBytes(r.data) + cborText("PartitionKey") + cborText(r.partitionKey);
    if (r.explicitHashKey) out += cborText("ExplicitHashKey") + cborText(*r.explicitHashKey);
  }
  return out;
}

ClientResponse callCbor(TestClient& client, std::string_view operation, std::string_view body) {
  auto response = client.request(
      "POST", "/", body,
      {{"Content-Type", "application/x-amz-cbor-1.1"},
       {"X-Amz-Target", fmt::format("Kinesis_20131202.{}", operation)},
       {"X-Amz-Date", "20240101T000000Z"},
       {"Authorization",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/kinesis/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=0000"}});
  if (!response) {
    ADD_FAILURE() << operation << " failed: " << response.error().message();
    return {};
  }
  return *response;
}

// JSON text of a CBOR answer made of maps, arrays, text and unsigned
// integers; anything else (or trailing bytes) makes "" so Json is not ok.
bool appendAsJson(std::string& out, cbor_item_t* item) {
  if (cbor_isa_uint(item)) {
    out += std::to_string(cbor_get_int(item));
  } else if (cbor_isa_string(item) && cbor_string_is_definite(item)) {
    appendJsonString(out, std::string_view(reinterpret_cast<const char*>(cbor_string_handle(item)),
                                           cbor_string_length(item)));
  } else if (cbor_isa_array(item)) {
    out += '[';
    for (size_t i = 0; i < cbor_array_size(item); ++i) {
      if (i != 0) out += ',';
      if (!appendAsJson(out, cbor_array_handle(item)[i])) return false;
    }
    out += ']';
  } else if (cbor_isa_map(item)) {
    out += '{';
    for (size_t i = 0; i < cbor_map_size(item); ++i) {
      if (i != 0) out += ',';
      cbor_pair pair = cbor_map_handle(item)[i];
      if (!cbor_isa_string(pair.key) || !appendAsJson(out, pair.key)) return false;
      out += ':';
      if (!appendAsJson(out, pair.value)) return false;
    }
    out += '}';
  } else {
    return false;
  }
  return true;
}

std::string cborToJson(std::string_view body) {
  cbor_load_result result;
  cbor_item_t* root = cbor_load(reinterpret_cast<cbor_data>(body.data()), body.size(), &result);
  if (root == nullptr) return "";
  std::string out;
  bool ok = result.error.code == CBOR_ERR_NONE && result.read == body.size() && appendAsJson(out, root);
  cbor_decref(&root);
  return ok ? out : "";
}

void expectCborAnswer(const ClientResponse& response) {
  EXPECT_EQ(response.headers.at("content-type"), "application/x-amz-cbor-1.1");
}

TEST_F(FakeKinesisTest, CborPutRecordsDefiniteLengths) {
  FakeKinesis fake(options({{"s", 2, {}}}));
  TestClient client(fake.port());
  std::vector<TestRecord> records = {
      {"key-a", std::string("\x00\xff\x01 zero and ff", 16), std::nullopt},
      {"key-b", "plain text", std::nullopt},
      {"k", std::string(300, '\xff'), hashKeyToDecimal(kTwoTo127 + 5)},  // to shard 1 by its hash key
  };
  auto response = callCbor(client, "PutRecords", cborPutRecords("s", records));
  ASSERT_EQ(response.status, 200) << response.body;
  expectCborAnswer(response);
  Json json(cborToJson(response.body));
  ASSERT_TRUE(json.ok()) << "answer is not the expected CBOR";
  EXPECT_EQ(json.num("/FailedRecordCount"), 0);
  ASSERT_EQ(json.size("/Records"), 3u);
  auto stored = fake.records();
  ASSERT_EQ(stored.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    SCOPED_TRACE(i);
    std::string at = fmt::format("/Records/{}", i);
    HashKey hash = records[i].explicitHashKey ? decimal(*records[i].explicitHashKey) : md5Of(records[i].partitionKey);
    std::string shard = hash >= kTwoTo127 ? "shardId-000000000001" : "shardId-000000000000";
    EXPECT_EQ(json.str(at + "/ShardId"), shard);
    EXPECT_EQ(json.str(at + "/SequenceNumber").size(), 56u);
    EXPECT_FALSE(json.has(at + "/ErrorCode"));
    EXPECT_EQ(stored[i].data, records[i].data) << "the raw bytes, not base64";
    EXPECT_EQ(stored[i].partitionKey, records[i].partitionKey);
    EXPECT_EQ(stored[i].explicitHashKey, records[i].explicitHashKey);
    EXPECT_EQ(stored[i].shardId, shard);
    EXPECT_EQ(stored[i].sequenceNumber, json.str(at + "/SequenceNumber"));
  }
  EXPECT_EQ(fake.stats().recordsAccepted, 3u);
  EXPECT_EQ(fake.stats().bytesAccepted, 16u + 5 + 10 + 5 + 300 + 1);
}

TEST_F(FakeKinesisTest, CborPutRecordsIndefiniteLengths) {
  FakeKinesis fake(options());
  TestClient client(fake.port());
  // As the AWS SDKs send it: indefinite maps and arrays, chunked strings.
  std::string body = "\xbf";
  body += cborTextChunks({"Stream", "Name"}) + cborTextChunks({"s"});
  body += cborText("Records") + "\x9f";
  body += "\xbf" + cborText("Data") + cborBytesChunks({std::string("\x00\xff", 2), "", "tail"}) +
          cborTextChunks({"Partition", "Key"}) + cborTextChunks({"pk-", "one"}) + "\xff";
  body += "\xbf" + cborText("PartitionKey") + cborText("pk-two") + cborText("Data") + cborBytesChunks({}) + "\xff";
  body += "\xff\xff";
  auto response = callCbor(client, "PutRecords", body);
  ASSERT_EQ(response.status, 200) << cborToJson(response.body);
  expectCborAnswer(response);
  Json json(cborToJson(response.body));
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(json.num("/FailedRecordCount"), 0);
  ASSERT_EQ(json.size("/Records"), 2u);
  EXPECT_EQ(json.str("/Records/1/ShardId"), "shardId-000000000000");
  auto stored = fake.records();
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_EQ(stored[0].data, std::string("\x00\xfftail", 6));
  EXPECT_EQ(stored[0].partitionKey, "pk-one");
  EXPECT_EQ(stored[1].data, "");
  EXPECT_EQ(stored[1].partitionKey, "pk-two");
}

TEST_F(FakeKinesisTest, CborPerRecordFailuresAreInTheAnswer) {
  auto o = options();
  o.recordsPerSecond = 2;
  FakeKinesis fake(o);
  TestClient client(fake.port());
  Faults faults;
  ScheduledFault entry;
  entry.request = 1;
  entry.action.recordFaults = {{0, RecordError::kInternalFailure}};
  faults.schedule.push_back(entry);
  fake.setFaults(faults);
  // Record 0 fails by injection, 1 and 2 fill the shard, 3 is throttled.
  auto response = callCbor(client, "PutRecords", cborPutRecords("s", uniqueRecords("f", 4)));
  ASSERT_EQ(response.status, 200);
  expectCborAnswer(response);
  Json json(cborToJson(response.body));
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(json.num("/FailedRecordCount"), 2);
  EXPECT_EQ(json.str("/Records/0/ErrorCode"), "InternalFailure");
  EXPECT_EQ(json.str("/Records/0/ErrorMessage"), "Internal service failure.");
  EXPECT_EQ(json.str("/Records/1/ShardId"), "shardId-000000000000");
  EXPECT_EQ(json.str("/Records/2/ShardId"), "shardId-000000000000");
  EXPECT_EQ(json.str("/Records/3/ErrorCode"), "ProvisionedThroughputExceededException");
  EXPECT_EQ(json.str("/Records/3/ErrorMessage"),
            "Rate exceeded for shard shardId-000000000000 in stream s under account 123456789012.");
  EXPECT_FALSE(json.has("/Records/3/SequenceNumber"));
  EXPECT_EQ(fake.records().size(), 2u);
  EXPECT_EQ(fake.stats().outcome("partial"), 1u);
}

TEST_F(FakeKinesisTest, CborMalformedBodiesAndWrongTypes) {
  FakeKinesis fake(options());
  TestClient client(fake.port());
  struct Case {
    std::string name;
    std::string body;
    std::string message;  // empty: the service's default
  };
  const std::string valid = cborPutRecords("s", {{"k", "d", std::nullopt}});
  std::string deep(100000, '\x81');
  deep += '\x00';
  const std::vector<Case> cases = {
      {"break alone", "\xff", ""},
      {"truncated", valid.substr(0, valid.size() - 3), ""},
      {"trailing bytes", valid + std::string(1, '\0'), ""},
      {"not a map", "\x80", ""},
      {"unterminated indefinite map", "\xbf" + cborText("StreamName") + cborText("s"), ""},
      {"deep nesting", deep, ""},
      {"huge count", "\x9b\xff\xff\xff\xff\xff\xff\xff\xff", ""},
      {"mixed chunks", "\xa1" + cborText("StreamName") + "\x7f" + cborBytes("s") + "\xff", ""},
      // Like JSON that is not UTF-8: the body does not parse.
      {"invalid UTF-8", "\xa1" + cborText("StreamName") + cborText("\xc3\x28"), ""},
      {"Data as text",
       "\xa2" + cborText("StreamName") + cborText("s") + cborText("Records") + "\x81\xa2" + cborText("Data") +
           cborText("ZA==") + cborText("PartitionKey") + cborText("k"),
       "Unexpected value type for field 'Data'"},
      {"PartitionKey as bytes",
       "\xa2" + cborText("StreamName") + cborText("s") + cborText("Records") + "\x81\xa2" + cborText("Data") +
           cborBytes("d") + cborText("PartitionKey") + cborBytes("k"),
       "Unexpected value type for field 'PartitionKey'"},
      {"Records as a map", "\xa2" + cborText("StreamName") + cborText("s") + cborText("Records") + "\xa0",
       "Unexpected value type for field 'Records'"},
      {"StreamName as a number", "\xa1" + cborText("StreamName") + "\x05",
       "Unexpected value type for field 'StreamName'"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto response = callCbor(client, "PutRecords", c.body);
    EXPECT_EQ(response.status, 400);
    expectCborAnswer(response);
    Json json(cborToJson(response.body));
    ASSERT_TRUE(json.ok()) << "error answer is not CBOR";
    EXPECT_EQ(json.str("/__type"), "SerializationException");
    if (!c.message.empty()) {
      EXPECT_EQ(json.str("/message"), c.message);
    }
    EXPECT_NE(json.str("/message"), "<missing>");
  }
  // Still serving, and nothing was stored.
  EXPECT_EQ(callCbor(client, "PutRecords", valid).status, 200);
  EXPECT_EQ(fake.records().size(), 1u);
}

// A request the JSON path refuses is refused the same way in CBOR.
TEST_F(FakeKinesisTest, CborRequestErrorsMatchJson) {
  auto o = options();
  o.maxRecordSize = 1000;
  FakeKinesis fake(o);
  TestClient client(fake.port());
  struct Case {
    std::string name;
    std::vector<TestRecord> records;
  };
  const std::vector<Case> cases = {
      {"data over the limit", {{"k", std::string(1001, 'x'), std::nullopt}}},
      {"data plus key over the limit", {{"kk", std::string(999, 'x'), std::nullopt}}},
      {"empty key", {{"", "d", std::nullopt}}},
      {"bad hash key", {{"k", "d", "12x"}}},
      {"hash key out of range", {{"k", "d", kTwoTo128}}},
      {"no records", {}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto json = put(client, "s", c.records);
    auto cbor = callCbor(client, "PutRecords", cborPutRecords("s", c.records));
    ASSERT_EQ(json.status, 400);
    EXPECT_EQ(cbor.status, json.status);
    expectCborAnswer(cbor);
    Json fromJson(json.body), fromCbor(cborToJson(cbor.body));
    ASSERT_TRUE(fromCbor.ok());
    EXPECT_EQ(fromCbor.str("/__type"), fromJson.str("/__type"));
    EXPECT_EQ(fromCbor.str("/message"), fromJson.str("/message"));
  }
  EXPECT_EQ(errorType(put(client, "nope", uniqueRecords("x", 1))), "ResourceNotFoundException");
  auto missing = callCbor(client, "PutRecords", cborPutRecords("nope", uniqueRecords("x", 1)));
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(Json(cborToJson(missing.body)).str("/__type"), "ResourceNotFoundException");
  EXPECT_TRUE(fake.records().empty());
}

TEST_F(FakeKinesisTest, CborPutRecordAndRequestLevelErrors) {
  FakeKinesis fake(options());
  TestClient client(fake.port());
  std::string body = "\xbf" + cborText("StreamName") + cborText("s") + cborText("Data") +
                     cborBytes(std::string("\xff\x00", 2)) + cborText("PartitionKey") + cborText("pk") + "\xff";
  auto response = callCbor(client, "PutRecord", body);
  ASSERT_EQ(response.status, 200);
  expectCborAnswer(response);
  Json json(cborToJson(response.body));
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(json.str("/ShardId"), "shardId-000000000000");
  auto stored = fake.records();
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].data, std::string("\xff\x00", 2));
  EXPECT_EQ(stored[0].sequenceNumber, json.str("/SequenceNumber"));

  // An injected 5xx answers in CBOR with the JSON path's status.
  Faults faults;
  ScheduledFault entry;
  entry.request = 1;
  entry.action.error = ApiError::kServiceUnavailable;
  faults.schedule.push_back(entry);
  fake.setFaults(faults);
  auto failed = callCbor(client, "PutRecords", cborPutRecords("s", uniqueRecords("x", 1)));
  EXPECT_EQ(failed.status, 503);
  expectCborAnswer(failed);
  EXPECT_EQ(Json(cborToJson(failed.body)).str("/__type"), "ServiceUnavailable");

  // Other operations do not speak CBOR.
  auto list = callCbor(client, "ListShards", "\xa1" + cborText("StreamName") + cborText("s"));
  EXPECT_EQ(list.status, 400);
  EXPECT_EQ(Json(cborToJson(list.body)).str("/__type"), "UnknownOperationException");
  EXPECT_EQ(fake.records().size(), 1u);
}

// decodeCborPut itself, for what the HTTP answers above do not show: which
// field is named, what is absent, which bodies do not parse.
struct CborDecoded {
  std::string text, data;
  CborPutRequest out;
  std::string_view badField = "unset";
  CborDecode result = CborDecode::kOk;

  std::string dataOf(const CborRecord& r) const { return data.substr(r.dataOffset, r.dataSize); }
};

// Held by pointer: the views point into its strings.
std::unique_ptr<CborDecoded> decodeCbor(std::string_view body, bool batch = true) {
  auto d = std::make_unique<CborDecoded>();
  d->text.reserve(body.size());
  d->data.reserve(body.size());
  d->result = decodeCborPut(body, batch, d->text, d->data, d->out, d->badField);
  return d;
}

std::string cborRecords(const std::string& records) {
  return "\xa2" + cborText("StreamName") + cborText("s") + cborText("Records") + records;
}

TEST(CborDecodeTest, IndefiniteRecordsChunkedStringsAndKeys) {
  std::string body = cborText("Records") + "\x9f";
  body += "\xbf" + cborTextChunks({"Da", "", "ta"}) + cborBytesChunks({"ab", "", "c"}) + cborText("ExplicitHashKey") +
          cborTextChunks({"12", "3"}) + cborTextChunks({"Partition", "Key"}) + cborText("pk-1") + "\xff";
  body += "\xa1" + cborText("Data") + cborBytesChunks({});
  body += "\xff";
  auto d = decodeCbor("\xbf" + body + cborTextChunks({"Stream", "ARN"}) + cborText("arn") + "\xff");
  ASSERT_EQ(d->result, CborDecode::kOk) << d->badField;
  EXPECT_EQ(d->badField, "") << "cleared once Records is read";
  EXPECT_TRUE(d->out.hasArn);
  EXPECT_EQ(d->out.streamArn, "arn");
  EXPECT_FALSE(d->out.hasName);
  ASSERT_TRUE(d->out.hasRecords);
  ASSERT_EQ(d->out.records.size(), 2u);
  const CborRecord& first = d->out.records[0];
  EXPECT_TRUE(first.hasData && first.hasKey && first.hasHashKey);
  EXPECT_EQ(d->dataOf(first), "abc");
  EXPECT_EQ(first.key, "pk-1");
  EXPECT_EQ(first.hashKey, "123");
  const CborRecord& second = d->out.records[1];
  EXPECT_TRUE(second.hasData);
  EXPECT_FALSE(second.hasKey || second.hasHashKey);
  EXPECT_EQ(second.dataOffset, 3u);
  EXPECT_EQ(second.dataSize, 0u);
  EXPECT_EQ(d->data, "abc");

  // Chunks that only almost spell a name do not match it.
  auto near = decodeCbor("\xa2" + cborTextChunks({"Stream", "Nam"}) + cborText("a") +
                         cborTextChunks({"Stream", "Names"}) + cborText("b"));
  ASSERT_EQ(near->result, CborDecode::kOk);
  EXPECT_FALSE(near->out.hasName);
}

TEST(CborDecodeTest, UnknownFieldsAreSkippedWhateverTheyHold) {
  // Known names inside an unknown field's value, or as a byte string key,
  // are not the request's.
  std::string nested = "\xbf" + cborText("StreamName") + "\x05" + cborText("Records") + cborText("x") +
                       cborText("list") + "\x82\xa1" + cborText("Data") + cborText("t") + cborBytesChunks({"b"}) +
                       "\xff";
  std::string body = "\xa5" + cborText("Other") + nested + cborBytes("StreamName") + "\x05" + "\x01" + "\x9f\xff" +
                     cborText("StreamName") + cborText("s") + cborText("Records") + "\x81\xa2" + cborText("Extra") +
                     "\xd8\x20\xa1\x01\x01" + cborText("PartitionKey") + cborText("k");
  auto d = decodeCbor(body);
  ASSERT_EQ(d->result, CborDecode::kOk) << d->badField;
  EXPECT_EQ(d->out.streamName, "s");
  ASSERT_EQ(d->out.records.size(), 1u);
  EXPECT_EQ(d->out.records[0].key, "k");
  EXPECT_FALSE(d->out.records[0].hasData);
  // PutRecords' fields are unknown to PutRecord and the other way round.
  auto single = decodeCbor(body, false);
  ASSERT_EQ(single->result, CborDecode::kOk);
  EXPECT_TRUE(single->out.records.empty());
  EXPECT_FALSE(single->out.hasRecords);
  EXPECT_EQ(decodeCbor("\xa1" + cborText("Data") + "\x05")->result, CborDecode::kOk);
}

TEST(CborDecodeTest, NullAndUndefinedAreAbsentAndTheFirstDuplicateCounts) {
  auto d = decodeCbor("\xa4" + cborText("StreamName") + "\xf6" + cborText("StreamName") + cborText("late") +
                          cborText("StreamARN") + "\xf7" + cborText("Records") + "\x82\xa2" + cborText("Data") +
                          "\xf6" + cborText("PartitionKey") + "\xf7" + "\xa3" + cborText("PartitionKey") +
                          cborText("first") + cborText("PartitionKey") + "\x05" + cborText("Data") +
                          cborBytes("d"),
                      true);
  ASSERT_EQ(d->result, CborDecode::kOk) << d->badField;
  EXPECT_FALSE(d->out.hasName) << "a null first counts, not the later duplicate";
  EXPECT_FALSE(d->out.hasArn);
  ASSERT_EQ(d->out.records.size(), 2u);
  EXPECT_FALSE(d->out.records[0].hasData || d->out.records[0].hasKey);
  EXPECT_EQ(d->out.records[1].key, "first") << "a later duplicate of the wrong type is ignored";
  EXPECT_EQ(d->dataOf(d->out.records[1]), "d");

  auto nullRecords = decodeCbor("\xa1" + cborText("Records") + "\xf6");
  ASSERT_EQ(nullRecords->result, CborDecode::kOk);
  EXPECT_FALSE(nullRecords->out.hasRecords);
  EXPECT_EQ(nullRecords->badField, "unset") << "left as it was when Records is absent";

  auto wrongFirst = decodeCbor("\xa2" + cborText("StreamName") + "\x05" + cborText("StreamName") + cborText("s"));
  EXPECT_EQ(wrongFirst->result, CborDecode::kWrongType);
  EXPECT_EQ(wrongFirst->badField, "StreamName");
}

TEST(CborDecodeTest, WrongTypesNameTheFirstFieldInReadingOrder) {
  struct Case {
    std::string name;
    std::string body;
    std::string_view badField;
    bool batch = true;
  };
  const std::string record = "\xa2" + cborText("Data") + cborBytes("d") + cborText("PartitionKey") + cborText("k");
  const std::vector<Case> cases = {
      {"PartitionKey as a number", cborRecords("\x81\xa1" + cborText("PartitionKey") + "\x05"), "PartitionKey"},
      {"ExplicitHashKey as bytes", cborRecords("\x81\xa1" + cborText("ExplicitHashKey") + cborBytes("1")),
       "ExplicitHashKey"},
      {"Data as chunked text", cborRecords("\x81\xa1" + cborText("Data") + cborTextChunks({"d"})), "Data"},
      {"Data as a float", cborRecords("\x81\xa1" + cborText("Data") + "\xf9\x3c\x01"), "Data"},
      {"StreamName as a float", "\xa1" + cborText("StreamName") + "\xfb" + std::string(8, '\0'), "StreamName"},
      {"StreamName as a tagged text", "\xa1" + cborText("StreamName") + "\xc0" + cborText("s"), "StreamName"},
      {"StreamARN as an array", "\xa1" + cborText("StreamARN") + "\x81\x01", "StreamARN"},
      {"Records as text", "\xa1" + cborText("Records") + cborText("r"), "Records"},
      {"a record that is not a map", cborRecords("\x82" + record + "\x80"), "Records"},
      {"a record that is null", cborRecords("\x81\xf6"), "Records"},
      // Within a record, Data before PartitionKey before ExplicitHashKey,
      // whatever the order in the body.
      {"two fields wrong in a record",
       cborRecords("\x81\xa3" + cborText("ExplicitHashKey") + "\x01" + cborText("PartitionKey") + "\x01" +
                   cborText("Data") + "\x01"),
       "Data"},
      {"the first bad record is named",
       cborRecords("\x83" + record + "\xa1" + cborText("PartitionKey") + "\x01" + "\xa1" + cborText("Data") + "\x01"),
       "PartitionKey"},
      {"a bad record before one that is not a map",
       cborRecords("\x82\xa1" + cborText("ExplicitHashKey") + "\x01" + "\x01"), "ExplicitHashKey"},
      {"StreamName after a bad record",
       "\xa2" + cborText("Records") + "\x81\xa1" + cborText("Data") + "\x01" + cborText("StreamName") + "\x01",
       "StreamName"},
      {"StreamARN after Records of the wrong type",
       "\xa2" + cborText("Records") + "\x01" + cborText("StreamARN") + "\x01", "StreamARN"},
      {"PutRecord: SequenceNumberForOrdering", "\xa1" + cborText("SequenceNumberForOrdering") + "\x01",
       "SequenceNumberForOrdering", false},
      {"PutRecord: Data before SequenceNumberForOrdering",
       "\xa2" + cborText("SequenceNumberForOrdering") + "\x01" + cborText("Data") + cborText("d"), "Data", false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto d = decodeCbor(c.body, c.batch);
    EXPECT_EQ(d->result, CborDecode::kWrongType);
    EXPECT_EQ(d->badField, c.badField);
  }
}

TEST(CborDecodeTest, MalformedBodies) {
  const std::string valid = cborRecords("\x81\xa2" + cborText("Data") + cborBytes("d") + cborText("PartitionKey") +
                                        cborText("k"));
  ASSERT_EQ(decodeCbor(valid)->result, CborDecode::kOk);
  auto nested = [](size_t levels) {
    return "\xa1" + cborText("Other") + std::string(levels, '\x81') + std::string(1, '\0');
  };
  // The root map and 15 arrays are 16 open containers.
  ASSERT_EQ(decodeCbor(nested(15))->result, CborDecode::kOk);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"trailing bytes", valid + std::string(1, '\0')},
      {"trailing bytes after a wrong type", "\xa1" + cborText("StreamName") + "\x01" + "\x01"},
      {"a wrong type before a truncation", "\xa2" + cborText("StreamName") + "\x01" + cborText("Records")},
      {"nested 17 deep", nested(16)},
      {"a tagged root map", "\xc0\xa0"},
      {"an indefinite map ending after a key",
       "\xbf" + cborText("StreamName") + cborText("s") + cborText("x") + "\xff"},
      {"a break in a definite array", cborRecords("\x81\xff")},
      {"a text chunk in a byte string", "\xa1" + cborText("Other") + "\x5f" + cborText("a") + "\xff"},
      {"a chunked chunk", "\xa1" + cborText("Other") + "\x7f" + cborTextChunks({"a"}) + "\xff"},
      {"a number chunk", "\xa1" + cborText("StreamName") + "\x7f\x01\xff"},
      {"a key that is not UTF-8", "\xa1" + cborText("\xc3\x28") + "\x01"},
      {"a skipped value that is not UTF-8", "\xa1" + cborText("Other") + "\x81" + cborText("\xff")},
      {"a character split across chunks", "\xa1" + cborText("StreamName") + cborTextChunks({"\xc3", "\xa9"})},
      {"a map count beyond the body", "\xa1" + cborText("Other") + "\xbb" + std::string(8, '\x7f')},
      {"an unassigned simple value", "\xa1" + cborText("Other") + "\xf8\x20"},
  };
  for (const auto& [name, body] : cases) {
    SCOPED_TRACE(name);
    EXPECT_EQ(decodeCbor(body)->result, CborDecode::kMalformed);
  }
  auto empty = decodeCbor("");
  EXPECT_EQ(empty->result, CborDecode::kOk);
  EXPECT_FALSE(empty->out.hasName || empty->out.hasRecords);
}

TEST(HashKeyTest, LayoutsAndDecimalForms) {
  // AWS's even layout: shard i starts at i * floor(2^128 / n).
  auto three = evenSplits(3);
  ASSERT_EQ(three.size(), 2u);
  EXPECT_TRUE(three[1] == (kMaxHashKey / 3) * 2);
  auto four = evenSplits(4);
  EXPECT_TRUE(four[0] == HashKey{1} << 126);
  EXPECT_TRUE(four[2] == (HashKey{3} << 126));
  auto uneven = unevenSplits(4);
  ASSERT_EQ(uneven.size(), 3u);
  EXPECT_NEAR(static_cast<double>(static_cast<long double>(uneven[0]) / static_cast<long double>(kMaxHashKey)), 0.1,
              1e-12);
  EXPECT_NEAR(static_cast<double>(static_cast<long double>(uneven[2]) / static_cast<long double>(kMaxHashKey)), 0.6,
              1e-12);
  EXPECT_EQ(hashKeyToDecimal(kMaxHashKey), kTwoTo128Minus1);
  EXPECT_EQ(hashKeyToDecimal(0), "0");
  HashKey parsed = 0;
  EXPECT_EQ(parseHashKey(kTwoTo128Minus1, parsed), HashKeyParse::kOk);
  EXPECT_TRUE(parsed == kMaxHashKey);
  EXPECT_EQ(parseHashKey(kTwoTo128, parsed), HashKeyParse::kTooLarge);
  EXPECT_EQ(parseHashKey("12a", parsed), HashKeyParse::kNotDecimal);
  EXPECT_TRUE(md5HashKey("a") == md5Of("a"));
  double bad[] = {0.5, 0.25};
  EXPECT_FALSE(splitsFromFractions(bad).has_value());
}

TEST(FaultsTest, JsonRoundTripAndErrors) {
  auto parsed = parseFaults(R"({"seed":9,"recordInternalFailureRate":0.1,"recordThrottleRate":0.2,
      "requestErrorRates":{"KMSThrottlingException":0.05,"413":0.01},"dropRate":0.01,"dropAfterProcessingRate":0.02,
      "delayMs":30,"delayRate":0.5,"operations":["PutRecords"],
      "schedule":[{"request":3,"count":2,"error":"ExpiredTokenException"},{"request":7,"drop":true},
                  {"request":8,"delayMs":5,
                   "recordFaults":[{"index":-1,"error":"ProvisionedThroughputExceededException"}]}]})");
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(parsed->seed.value_or(0), 9u);
  ASSERT_EQ(parsed->requestErrorRates.size(), 2u);
  EXPECT_EQ(parsed->requestErrorRates[1].first, ApiError::kPayloadTooLarge);
  ASSERT_EQ(parsed->schedule.size(), 3u);
  EXPECT_EQ(parsed->schedule[0].count, 2u);
  EXPECT_EQ(parsed->schedule[2].action.recordFaults[0].index, -1);
  auto again = parseFaults(faultsToJson(*parsed));
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ(faultsToJson(*again), faultsToJson(*parsed));

  EXPECT_FALSE(parseFaults(R"({"dropRate":1.5})").has_value());
  EXPECT_FALSE(parseFaults(R"({"nope":1})").has_value());
  EXPECT_FALSE(parseFaults(R"({"requestErrorRates":{"InternalFailure":0.7,"ServiceUnavailable":0.7}})").has_value());
  EXPECT_FALSE(parseFaults(R"({"schedule":[{"request":0,"drop":true}]})").has_value());
  EXPECT_FALSE(parseFaults("[").has_value());

  // The schedule counts from when faults are set; count covers a run.
  FaultInjector injector(1);
  injector.set(*parsed);
  std::vector<bool> expired;
  for (int i = 0; i < 6; ++i) {
    auto d = injector.decide();
    expired.push_back(d.error == ApiError::kExpiredToken);
  }
  EXPECT_EQ(expired, (std::vector<bool>{false, false, true, true, false, false}));
  EXPECT_FALSE(injector.inScope("ListShards"));
}

}  // namespace
}  // namespace kinship::fake
