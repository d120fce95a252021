// RequestBuilder: a PutRecords body within the request limits (records,
// bytes of data plus keys) and the record-size limit at admission.

#include "sinks/kinesis/request_builder.h"

#include <gtest/gtest.h>

#include <string>

namespace kinship::kinesis {
namespace {

class RequestBuilderTest : public ::testing::Test {
 protected:
  PendingRecord record(const std::string& data, const std::string& key) {
    batch_.append(data, key);
    const auto index = static_cast<uint32_t>(batch_.size() - 1);
    return {&batch_, index, static_cast<uint32_t>(data.size() + key.size()), index, 0, 0, {}, {}};
  }

  pipeline::RecordBatch batch_;
};

TEST_F(RequestBuilderTest, ARecordFitsUpToTheRecordSizeLimitWithItsKey) {
  RequestLimits limits{500, 5 * 1024 * 1024, 1024};
  EXPECT_TRUE(limits.recordFits(1024));
  EXPECT_FALSE(limits.recordFits(1025));
}

TEST_F(RequestBuilderTest, HoldsAtMostMaxRecords) {
  RequestBuilder builder("StreamName", "s", WireProtocol::kJson, {3, 1000, 100});
  builder.begin();
  for (int i = 0; i < 3; ++i) {
    auto r = record("d", "k");
    ASSERT_TRUE(builder.hasRoomFor(r.bytes)) << i;
    builder.add(r);
  }
  EXPECT_TRUE(builder.full());
  EXPECT_FALSE(builder.hasRoomFor(1));
  EXPECT_EQ(builder.records(), 3u);
  EXPECT_EQ(builder.bytes(), 6u);
}

TEST_F(RequestBuilderTest, HoldsAtMostMaxBytesOfDataAndKeysExactly) {
  RequestBuilder builder("StreamName", "s", WireProtocol::kJson, {500, 10, 10});
  builder.begin();
  auto first = record("abcd", "k");  // 5
  ASSERT_TRUE(builder.hasRoomFor(first.bytes));
  builder.add(first);
  auto second = record("abcd", "k");  // 10 in all: exactly the limit
  ASSERT_TRUE(builder.hasRoomFor(second.bytes));
  builder.add(second);
  EXPECT_FALSE(builder.hasRoomFor(1)) << "one byte over";
  EXPECT_FALSE(builder.full()) << "full() is about the record count";
}

TEST_F(RequestBuilderTest, AFirstRecordAlwaysFits) {
  // Admission already refused what is over the record limit; a request
  // must take any record that passed, or it would never go.
  RequestBuilder builder("StreamName", "s", WireProtocol::kJson, {500, 10, 100});
  builder.begin();
  EXPECT_TRUE(builder.hasRoomFor(50));
}

TEST_F(RequestBuilderTest, BeginStartsAnEmptyRequestAndTheBodyHoldsTheRecords) {
  RequestBuilder builder("StreamName", "my-stream", WireProtocol::kJson, {500, 1000, 100});
  builder.begin();
  builder.add(record("hello", "key-1"));
  std::string body(builder.finish());
  EXPECT_EQ(body, R"({"StreamName":"my-stream","Records":[{"Data":"aGVsbG8=","PartitionKey":"key-1"}]})");
  builder.begin();
  EXPECT_EQ(builder.records(), 0u);
  EXPECT_EQ(builder.bytes(), 0u);
  EXPECT_EQ(std::string(builder.finish()), R"({"StreamName":"my-stream","Records":[]})");
}

}  // namespace
}  // namespace kinship::kinesis
