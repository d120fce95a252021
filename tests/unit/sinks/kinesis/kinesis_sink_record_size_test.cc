// The record size from the stream: with max_record_size unset the sink asks
// DescribeStreamSummary once at start and admits nothing until the answer
// (or kDescribeWait) so that no record is taken for too large under a
// limit about to grow; an answer without MaxRecordSizeInKiB, a failure or
// a value out of range keep 1 MiB; a configured max_record_size is never
// overridden. And StreamDescriber's reading of answers.

#include "sinks/kinesis/stream_describer.h"
#include "tests/unit/sinks/kinesis/kinesis_sink_fixture.h"

namespace kinship::kinesis {
namespace {

using namespace kinship::kinesis::test;
using namespace std::chrono_literals;

constexpr size_t kMiB = 1024 * 1024;

std::string summaryWith(int64_t kib) {
  return R"({"StreamDescriptionSummary":{"StreamName":"test-stream","MaxRecordSizeInKiB":)" + std::to_string(kib) +
         "}}";
}

TEST(StreamDescriber, ReadsMaxRecordSizeInKiB) {
  EXPECT_EQ(*StreamDescriber::maxRecordSizeOf(summaryWith(1024)), 1 * kMiB);
  EXPECT_EQ(*StreamDescriber::maxRecordSizeOf(summaryWith(10240)), 10 * kMiB);
  EXPECT_EQ(*StreamDescriber::maxRecordSizeOf(summaryWith(5000)), 5000u * 1024);
}

TEST(StreamDescriber, RefusesWhatIsMissingMalformedOrOutOfRange) {
  EXPECT_FALSE(StreamDescriber::maxRecordSizeOf(R"({"StreamDescriptionSummary":{"StreamName":"s"}})"));
  EXPECT_FALSE(StreamDescriber::maxRecordSizeOf(R"({})"));
  EXPECT_FALSE(StreamDescriber::maxRecordSizeOf("not json"));
  EXPECT_FALSE(StreamDescriber::maxRecordSizeOf(R"({"StreamDescriptionSummary":{"MaxRecordSizeInKiB":"big"}})"));
  EXPECT_FALSE(StreamDescriber::maxRecordSizeOf(summaryWith(1023)));
  EXPECT_FALSE(StreamDescriber::maxRecordSizeOf(summaryWith(10241)));
  EXPECT_FALSE(StreamDescriber::maxRecordSizeOf(summaryWith(-1)));
}

TEST(StreamDescriber, WritesTheStreamInTheBody) {
  EXPECT_EQ(StreamDescriber("StreamName", "logs").body(), R"({"StreamName":"logs"})");
  EXPECT_EQ(StreamDescriber("StreamARN", "arn:aws:kinesis:us-east-1:123456789012:stream/a\"b").body(),
            R"({"StreamARN":"arn:aws:kinesis:us-east-1:123456789012:stream/a\"b"})");
}

class KinesisSinkRecordSizeTest : public KinesisSinkTest {
 protected:
  // Queues "small", a record of data `bigBytes` long, "after".
  void pushWithOneBig(size_t bigBytes) {
    auto batch = queue_.acquire();
    batch->append("small", "k");
    batch->append(std::string(bigBytes, 'x'), "k");
    batch->append("after", "k");
    queue_.push(std::move(batch));
  }
  KinesisConfig describingConfig(ScriptedKinesis& kinesis) {
    auto config = configFor(kinesis);
    config.maxRecordSizeSet = false;
    config.maxRecordSize = kDefaultMaxRecordSize;
    return config;
  }
};

TEST_F(KinesisSinkRecordSizeTest, AStreamWithLargeRecordsTakesThem) {
  ScriptedKinesis kinesis;
  kinesis.setDescribeReply({200, summaryWith(4096)});
  auto sink = startSink(describingConfig(kinesis));
  pushWithOneBig(3 * kMiB);
  ASSERT_TRUE(runUntilAccepted(kinesis, 3));
  stopSink(*sink);
  EXPECT_EQ(kinesis.describeCalls(), 1u);
  EXPECT_EQ(metric("kinship_sink_records_dropped_total", {{"reason", "too_large"}}), 0);
}

TEST_F(KinesisSinkRecordSizeTest, WithoutTheFieldRecordsStayUnderOneMiB) {
  ScriptedKinesis kinesis;  // its summary has no MaxRecordSizeInKiB, as kinesalite's
  auto sink = startSink(describingConfig(kinesis));
  pushWithOneBig(2 * kMiB);
  ASSERT_TRUE(runUntilAccepted(kinesis, 2));
  stopSink(*sink);
  EXPECT_EQ(kinesis.describeCalls(), 1u);
  EXPECT_EQ(dataOf(kinesis.accepted()), (std::set<std::string>{"small", "after"}));
  EXPECT_EQ(metric("kinship_sink_records_dropped_total", {{"reason", "too_large"}}), 1);
}

TEST_F(KinesisSinkRecordSizeTest, WhenDescribingIsDeniedRecordsStayUnderOneMiB) {
  ScriptedKinesis kinesis;
  kinesis.setDescribeReply({400, R"({"__type":"AccessDeniedException","message":"no"})"});
  auto sink = startSink(describingConfig(kinesis));
  pushWithOneBig(2 * kMiB);
  ASSERT_TRUE(runUntilAccepted(kinesis, 2));
  stopSink(*sink);
  EXPECT_EQ(metric("kinship_sink_records_dropped_total", {{"reason", "too_large"}}), 1);
  // A refused DescribeStreamSummary is not an error of sending.
  EXPECT_EQ(metric("kinship_sink_state"), 0);
}

TEST_F(KinesisSinkRecordSizeTest, AdmissionWaitsForTheAnswerButNotLongerThanTwoSeconds) {
  ScriptedKinesis kinesis;
  kinesis.leaveDescribeUnanswered();
  auto config = describingConfig(kinesis);
  const auto t0 = clock_.now();
  auto sink = startSink(config);
  push(3, 3);
  ASSERT_TRUE(runUntilAccepted(kinesis, 3));
  // Nothing was admitted before the wait ran out (then the 1 MiB default
  // applies); the records lingered from their admission.
  const auto sent = transport_->sent();
  ASSERT_GE(sent.size(), 2u);
  EXPECT_EQ(sent.at(1).at - t0, 2s + config.linger);
  EXPECT_EQ(kinesis.describeCalls(), 1u);
  stopSink(*sink);
}

TEST_F(KinesisSinkRecordSizeTest, AConfiguredMaxRecordSizeIsNotAsked) {
  ScriptedKinesis kinesis;
  kinesis.setDescribeReply({200, summaryWith(4096)});
  auto config = describingConfig(kinesis);
  config.maxRecordSizeSet = true;
  auto sink = startSink(config);
  pushWithOneBig(2 * kMiB);
  ASSERT_TRUE(runUntilAccepted(kinesis, 2));
  stopSink(*sink);
  EXPECT_EQ(kinesis.describeCalls(), 0u);
  EXPECT_EQ(metric("kinship_sink_records_dropped_total", {{"reason", "too_large"}}), 1);
}

}  // namespace
}  // namespace kinship::kinesis
