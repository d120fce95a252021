// The KPL encoder read back by libprotobuf (tests/support/kpl_decoder.h),
// byte for byte against protobuf's own serializer, and the packer's limits.
#include "sinks/kinesis/kpl_aggregator.h"

#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <vector>

#include "sinks/kinesis/kpl_format.h"
#include "tests/support/kpl_decoder.h"

namespace kinship::kinesis {
namespace {

using kinship::testing::KplDecoder;
using kinship::testing::UserRecord;

class KplAggregatorTest : public ::testing::Test {
 protected:
  // Encodes `records` as one aggregate, checking sizeWith() and size() at each step.
  std::string encode(const std::vector<UserRecord>& records) {
    aggregator_.begin();
    for (const UserRecord& r : records) {
      const size_t predicted = aggregator_.sizeWith(r.data, r.partitionKey, r.explicitHashKey);
      aggregator_.add(r.data, r.partitionKey, r.explicitHashKey);
      EXPECT_EQ(aggregator_.size(), predicted);
    }
    const size_t size = aggregator_.size();
    std::string out(aggregator_.finish());
    EXPECT_EQ(out.size(), size);
    return out;
  }

  KplAggregator aggregator_;
  KplDecoder decoder_;
};

TEST_F(KplAggregatorTest, LibprotobufReadsTheRecordsBackWithTheirKeysInOrder) {
  std::vector<UserRecord> records = {
      {"first line", "svc-a", ""},
      {"second", "svc-b", ""},
      {"third, same key as the first", "svc-a", ""},
      {std::string("bytes \0\xff\x80 raw", 14), "svc-c", "340282366920938463463374607431768211455"},
      {"", "svc-b", "0"},  // empty data is a record too
      {"again the first hash key", "svc-d", "340282366920938463463374607431768211455"},
  };
  const std::string encoded = encode(records);
  ASSERT_GE(encoded.size(), 20u);
  EXPECT_EQ(encoded.substr(0, 4), "\xF3\x89\x9A\xC2");
  EXPECT_EQ(encoded.substr(encoded.size() - 16), KplDecoder::md5(encoded.substr(4, encoded.size() - 20)));
  EXPECT_EQ(decoder_.deaggregate(encoded, "outer"), records);
}

TEST_F(KplAggregatorTest, TablesHoldEachKeyOnceInTheOrderKeysFirstCame) {
  const std::string encoded = encode({{"1", "b", ""}, {"2", "a", "7"}, {"3", "b", "7"}, {"4", "a", "9"}});
  auto message = decoder_.parse(encoded);
  std::string text;
  ASSERT_TRUE(google::protobuf::TextFormat::PrintToString(*message, &text));
  const auto* d = message->GetDescriptor();
  const auto* r = message->GetReflection();
  const auto* keys = d->FindFieldByName("partition_key_table");
  const auto* hashKeys = d->FindFieldByName("explicit_hash_key_table");
  ASSERT_EQ(r->FieldSize(*message, keys), 2) << text;
  EXPECT_EQ(r->GetRepeatedString(*message, keys, 0), "b");
  EXPECT_EQ(r->GetRepeatedString(*message, keys, 1), "a");
  ASSERT_EQ(r->FieldSize(*message, hashKeys), 2) << text;
  EXPECT_EQ(r->GetRepeatedString(*message, hashKeys, 0), "7");
  EXPECT_EQ(r->GetRepeatedString(*message, hashKeys, 1), "9");
  // A record without an explicit hash key has no index field at all.
  EXPECT_EQ(text.find("explicit_hash_key_index: 0\n  data: \"1\""), std::string::npos) << text;
}

TEST_F(KplAggregatorTest, TheMessageIsWhatProtobufItselfWouldWrite) {
  // Field order, varints of every width, lengths over one byte: the
  // canonical serialization of the parsed message is our bytes exactly.
  std::vector<UserRecord> records;
  for (int i = 0; i < 300; ++i) {  // key indexes past 127 take two varint bytes
    records.push_back({std::string(static_cast<size_t>(i * 7 % 400), static_cast<char>('a' + i % 26)),
                       "key-" + std::to_string(i % 200), i % 3 == 0 ? std::to_string(i) : ""});
  }
  records.push_back({std::string(70000, 'z'), "big", ""});  // a three-byte length
  const std::string encoded = encode(records);
  auto message = decoder_.parse(encoded);
  std::string canonical;
  ASSERT_TRUE(message->SerializeToString(&canonical));
  EXPECT_EQ(canonical, encoded.substr(4, encoded.size() - 20));
  EXPECT_EQ(decoder_.deaggregate(encoded, "outer"), records);
}

TEST_F(KplAggregatorTest, BeginStartsAFreshAggregateWithFreshTables) {
  encode({{"x", "k1", ""}, {"y", "k2", "5"}});
  const std::vector<UserRecord> second = {{"z", "k2", ""}, {"w", "k3", "6"}};
  const std::string encoded = encode(second);
  EXPECT_EQ(decoder_.deaggregate(encoded, "outer"), second);
  auto message = decoder_.parse(encoded);
  EXPECT_EQ(message->GetReflection()->FieldSize(*message, message->GetDescriptor()->FindFieldByName(
                                                              "partition_key_table")),
            2);
}

TEST_F(KplAggregatorTest, ManyDistinctKeysGrowTheTableIndexWithoutMixingThemUp) {
  std::vector<UserRecord> records;
  for (int i = 0; i < 5000; ++i) records.push_back({"d" + std::to_string(i), "k" + std::to_string(i * 7919 % 3001), ""});
  EXPECT_EQ(decoder_.deaggregate(encode(records), "outer"), records);
}

TEST_F(KplAggregatorTest, ABadChecksumOrATruncatedMessageIsRefusedByTheDecoder) {
  // The decoder used by the sink tests must not accept what a KCL would not.
  std::string encoded = encode({{"a", "k", ""}, {"b", "k", ""}});
  std::string badSum = encoded;
  badSum.back() = static_cast<char>(badSum.back() ^ 1);
  EXPECT_THROW(decoder_.deaggregate(badSum, "k"), std::runtime_error);
  std::string cut = encoded.substr(0, encoded.size() - 17) + encoded.substr(encoded.size() - 16);
  EXPECT_THROW(decoder_.deaggregate(cut, "k"), std::runtime_error);
}

class KplPackerTest : public ::testing::Test {
 protected:
  // Each in a batch of its own: the packer keeps views of the keys, and a
  // batch that grows moves them (the sink's batches are complete when admitted).
  PendingRecord record(const std::string& data, const std::string& key) {
    pipeline::RecordBatch& batch = batches_.emplace_back();
    batch.append(data, key);
    return {&batch, 0, static_cast<uint32_t>(data.size() + key.size()), batches_.size(), 0, 0, {}, {}};
  }
  // The Kinesis records of a JSON PutRecords body: data, key, explicit hash key.
  static std::vector<UserRecord> kinesisRecords(std::string_view body);

  std::deque<pipeline::RecordBatch> batches_;
  KplDecoder decoder_;
};

std::vector<UserRecord> KplPackerTest::kinesisRecords(std::string_view body) {
  // Small and regular: {"Data":"<b64>","PartitionKey":"<k>"[,"ExplicitHashKey":"<n>"]}
  std::vector<UserRecord> out;
  auto field = [&](size_t from, std::string_view name, size_t end) -> std::string {
    const std::string marker = "\"" + std::string(name) + "\":\"";
    size_t at = body.find(marker, from);
    if (at == std::string_view::npos || at > end) return {};
    at += marker.size();
    return std::string(body.substr(at, body.find('"', at) - at));
  };
  for (size_t at = body.find("{\"Data\""); at != std::string_view::npos; at = body.find("{\"Data\"", at + 1)) {
    const size_t end = body.find('}', at);
    const std::string b64 = field(at, "Data", end);
    std::string data(b64.size() / 4 * 3 + 3, '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(data.data()),
                                  reinterpret_cast<const unsigned char*>(b64.data()), static_cast<int>(b64.size()));
    data.resize(static_cast<size_t>(n) - (b64.ends_with("==") ? 2 : b64.ends_with("=") ? 1 : 0));
    out.push_back({data, field(at, "PartitionKey", end), field(at, "ExplicitHashKey", end)});
  }
  return out;
}

TEST_F(KplPackerTest, ARecordAloneGoesAsItIsAndSeveralGoAsOneAggregateWithTheShardsHashKey) {
  RequestBuilder request("StreamName", "s", WireProtocol::kJson, {500, 5 * 1024 * 1024, 1024 * 1024});
  KplPacker packer(0);
  request.begin();
  packer.open("1234");
  ASSERT_EQ(packer.add(record("alone", "k1"), request), KplPacker::Added::kAdded);
  EXPECT_EQ(packer.close(request), 7u);  // data plus key, as pacing counts it
  packer.open("1234");
  const std::vector<UserRecord> users = {{"one", "k1", ""}, {"two", "k2", ""}, {"three", "k1", ""}};
  for (const UserRecord& u : users) ASSERT_EQ(packer.add(record(u.data, u.partitionKey), request), KplPacker::Added::kAdded);
  EXPECT_EQ(packer.records(), 3u);
  const size_t bytes = packer.close(request);
  EXPECT_EQ(packer.records(), 0u);
  EXPECT_EQ(packer.close(request), 0u);  // nothing open: nothing added
  EXPECT_EQ(request.records(), 2u);
  EXPECT_EQ(request.bytes(), 7u + bytes);

  const auto sent = kinesisRecords(request.finish());
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0], (UserRecord{"alone", "k1", ""}));
  EXPECT_EQ(sent[1].partitionKey, "k1");  // the first user record's
  EXPECT_EQ(sent[1].explicitHashKey, "1234");
  EXPECT_EQ(bytes, sent[1].data.size() + 2);
  EXPECT_EQ(decoder_.deaggregate(sent[1].data, sent[1].partitionKey), users);
}

TEST_F(KplPackerTest, AnAggregateStaysWithinItsLimitDataPlusKeyAndTheRecordLimitCapsIt) {
  RequestBuilder request("StreamName", "s", WireProtocol::kJson, {500, 5 * 1024 * 1024, 4096});
  for (size_t configured : {size_t{0}, size_t{1000}, size_t{100000}}) {
    KplPacker packer(configured);
    const size_t limit = configured == 0 ? 4096 : std::min<size_t>(configured, 4096);
    EXPECT_EQ(packer.limitIn(request), limit);
    request.begin();
    packer.open("0");
    size_t added = 0;
    while (packer.add(record(std::string(90, 'x'), "key-1"), request) == KplPacker::Added::kAdded) ++added;
    const size_t bytes = packer.close(request);
    EXPECT_LE(bytes, limit);
    EXPECT_GT(bytes + 100, limit) << "one more record of ~100 bytes would have fitted";
    const auto sent = kinesisRecords(request.finish());
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0].data.size() + sent[0].partitionKey.size(), bytes);
    EXPECT_EQ(decoder_.deaggregate(sent[0].data, sent[0].partitionKey).size(), added);
  }
}

TEST_F(KplPackerTest, ARequestWithoutRoomRefusesTheRecordThatWouldPassItsBytesOrRecordCount) {
  RequestBuilder request("StreamName", "s", WireProtocol::kJson, {2, 1000, 1000});
  KplPacker packer(0);
  request.begin();
  packer.open("0");
  ASSERT_EQ(packer.add(record(std::string(500, 'a'), "k"), request), KplPacker::Added::kAdded);
  packer.close(request);  // 501 bytes, alone
  packer.open("0");
  ASSERT_EQ(packer.add(record(std::string(200, 'b'), "k"), request), KplPacker::Added::kAdded);
  // With a second, the aggregate (~540 bytes) would take the request past 1000.
  EXPECT_EQ(packer.add(record(std::string(300, 'c'), "k"), request), KplPacker::Added::kRequestFull);
  packer.close(request);
  EXPECT_EQ(request.records(), 2u);
  packer.open("0");
  EXPECT_EQ(packer.add(record("d", "k"), request), KplPacker::Added::kRequestFull);  // 2 records: full
}

TEST_F(KplPackerTest, ARecordLargerThanTheAggregateLimitStillGoesAloneAsItIs) {
  RequestBuilder request("StreamName", "s", WireProtocol::kJson, {500, 5 * 1024 * 1024, 1024 * 1024});
  KplPacker packer(2048);
  request.begin();
  packer.open("0");
  ASSERT_EQ(packer.add(record(std::string(4000, 'x'), "k"), request), KplPacker::Added::kAdded);
  EXPECT_EQ(packer.add(record("small", "k"), request), KplPacker::Added::kRecordFull);
  EXPECT_EQ(packer.close(request), 4001u);
  const auto sent = kinesisRecords(request.finish());
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_FALSE(KplDecoder::isAggregated(sent[0].data));
}

}  // namespace
}  // namespace kinship::kinesis

namespace kinship::kinesis {
namespace {

TEST(KplPackerCount, AnAggregateHoldsAtMostKMaxRecordsRecords) {
  // A retried aggregate is remembered by its count in 16 bits.
  pipeline::RecordBatch batch;
  const size_t count = KplAggregator::kMaxRecords + 1;
  for (size_t i = 0; i < count; ++i) batch.append("x", "k");  // all appended before any view is taken
  RequestBuilder request("StreamName", "s", WireProtocol::kJson, {500, 5 * 1024 * 1024, 1024 * 1024});
  KplPacker packer(0);
  request.begin();
  packer.open("0");
  size_t added = 0;
  for (uint32_t i = 0; i < count; ++i) {
    if (packer.add({&batch, i, 2, i, 0, 0, {}, {}}, request) != KplPacker::Added::kAdded) break;
    ++added;
  }
  EXPECT_EQ(added, KplAggregator::kMaxRecords);
  EXPECT_LT(packer.close(request), 1024u * 1024);  // the count bound, not the size
  EXPECT_EQ(request.records(), 1u);
}

}  // namespace
}  // namespace kinship::kinesis
