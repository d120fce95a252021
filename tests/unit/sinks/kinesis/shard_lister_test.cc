// ShardLister: the ListShards requests page by page, the map they make, and
// when to list again after a success, a failure or a denial.

#include "sinks/kinesis/shard_lister.h"

#include <gtest/gtest.h>

#include <string>

namespace kinship::kinesis {
namespace {

using namespace std::chrono_literals;

const std::string kShardA =
    R"({"ShardId":"shard-a","HashKeyRange":{"StartingHashKey":"0","EndingHashKey":"170141183460469231731687303715884105727"},)"
    R"("SequenceNumberRange":{"StartingSequenceNumber":"1"}})";
const std::string kShardB =
    R"({"ShardId":"shard-b","HashKeyRange":{"StartingHashKey":"170141183460469231731687303715884105728",)"
    R"("EndingHashKey":"340282366920938463463374607431768211455"},"SequenceNumberRange":{"StartingSequenceNumber":"2"}})";
// A parent closed by a split: no longer written to.
const std::string kClosed =
    R"({"ShardId":"shard-old","HashKeyRange":{"StartingHashKey":"0","EndingHashKey":"9"},)"
    R"("SequenceNumberRange":{"StartingSequenceNumber":"0","EndingSequenceNumber":"5"}})";

aws::HttpRequest answer(long status, std::string body) {
  aws::HttpRequest http;
  http.httpStatus = status;
  http.responseBody = std::move(body);
  return http;
}

class ShardListerTest : public ::testing::Test {
 protected:
  ShardLister lister_{"StreamName", "my-stream", 300s};
  Clock::TimePoint now_{std::chrono::hours(1)};
};

TEST_F(ShardListerTest, ListsPageByPageIntoAMapOfTheOpenShards) {
  lister_.refreshAt(now_);
  EXPECT_TRUE(lister_.due(now_));
  EXPECT_EQ(std::string(lister_.begin()), R"({"StreamName":"my-stream"})");
  EXPECT_TRUE(lister_.listing());
  EXPECT_FALSE(lister_.due(now_)) << "one listing at a time";

  auto page1 = answer(200, R"({"Shards":[)" + kClosed + "," + kShardA + R"(],"NextToken":"tok\"1"})");
  ShardLister::Step step = lister_.onAnswer(page1, now_);
  ASSERT_EQ(step.kind, ShardLister::Step::Kind::kNextPage);
  EXPECT_EQ(std::string(lister_.body()), R"({"NextToken":"tok\"1"})");

  auto page2 = answer(200, R"({"Shards":[)" + kShardB + "]}");
  step = lister_.onAnswer(page2, now_);
  ASSERT_EQ(step.kind, ShardLister::Step::Kind::kMap);
  ASSERT_EQ(step.map.size(), 2u);
  EXPECT_EQ(step.map.shard(0).shardId, "shard-a");
  EXPECT_EQ(step.map.shard(1).shardId, "shard-b");
  EXPECT_FALSE(lister_.listing());
  EXPECT_EQ(lister_.nextRefresh(), now_ + 300s);
}

TEST_F(ShardListerTest, AFailureIsTriedAgainWithinThirtySeconds) {
  lister_.begin();
  aws::HttpRequest failed;
  failed.transportStatus = Status::unavailable("connection refused");
  failed.failure = aws::TransportFailure::kConnect;
  ShardLister::Step step = lister_.onAnswer(failed, now_);
  EXPECT_EQ(step.kind, ShardLister::Step::Kind::kFailed);
  EXPECT_EQ(step.errorLabel, "list_shards");
  EXPECT_FALSE(lister_.listing());
  EXPECT_EQ(lister_.nextRefresh(), now_ + 30s);

  lister_.begin();
  auto throttled = answer(400, R"({"__type":"LimitExceededException"})");
  step = lister_.onAnswer(throttled, now_);
  EXPECT_EQ(step.errorLabel, "LimitExceededException");
  EXPECT_EQ(lister_.nextRefresh(), now_ + 30s);
}

TEST_F(ShardListerTest, ADenialIsAskedAgainOnlyAtTheRefreshInterval) {
  lister_.begin();
  auto denied = answer(400, R"({"__type":"AccessDeniedException","message":"no"})");
  ShardLister::Step step = lister_.onAnswer(denied, now_);
  EXPECT_EQ(step.kind, ShardLister::Step::Kind::kFailed);
  EXPECT_EQ(step.errorLabel, "AccessDeniedException");
  EXPECT_EQ(lister_.nextRefresh(), now_ + 300s);
}

TEST_F(ShardListerTest, AnUnreadableOrInconsistentAnswerFails) {
  lister_.begin();
  auto garbage = answer(200, "not json");
  EXPECT_EQ(lister_.onAnswer(garbage, now_).kind, ShardLister::Step::Kind::kFailed);
  lister_.begin();
  auto overlapping = answer(200, R"({"Shards":[)" + kShardA + "," + kShardA + "]}");
  EXPECT_EQ(lister_.onAnswer(overlapping, now_).kind, ShardLister::Step::Kind::kFailed);
}

TEST_F(ShardListerTest, APageThatCouldNotBeSentFails) {
  lister_.begin();
  ShardLister::Step step = lister_.onNotSent(Status::unavailable("no credentials"), now_);
  EXPECT_EQ(step.kind, ShardLister::Step::Kind::kFailed);
  EXPECT_EQ(step.errorLabel, "list_shards");
  EXPECT_EQ(lister_.nextRefresh(), now_ + 30s);
}

TEST(ShardLister, AShortRefreshIntervalBoundsTheRetryToo) {
  ShardLister lister("StreamARN", "arn:aws:kinesis:us-east-1:1:stream/s", 5s);
  EXPECT_EQ(std::string(lister.begin()), R"({"StreamARN":"arn:aws:kinesis:us-east-1:1:stream/s"})");
  const Clock::TimePoint now{std::chrono::hours(2)};
  lister.onNotSent(Status::unavailable("x"), now);
  EXPECT_EQ(lister.nextRefresh(), now + 5s);
}

}  // namespace
}  // namespace kinship::kinesis
