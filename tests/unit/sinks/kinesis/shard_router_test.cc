// ShardRouter: admission order, routing by hash key to the shard lines,
// retries after their backoff and ahead of new records, split groups,
// per_key busy keys, pacing per shard, and a new shard map.

#include "sinks/kinesis/shard_router.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace kinship::kinesis {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kBottom = "0";  // the first shard of a two-shard map
constexpr std::string_view kTop = "340282366920938463463374607431768211455";  // the last

ShardMap twoShards() {
  const HashKey half = ~HashKey{0} / 2;
  return *ShardMap::fromShards({{"shard-a", 0, half}, {"shard-b", half + 1, ~HashKey{0}}});
}

// Pacing loose enough never to hold a record back.
const PacingLimits kUnlimited{1e9, 1e12, 1.0};

class ShardRouterTest : public ::testing::Test {
 protected:
  // Appends a record and admits it at `now_`.
  void admit(ShardRouter& router, const std::string& data, const std::string& key = "k",
             std::string_view explicitHashKey = {}) {
    batch_.append(data, key, explicitHashKey);
    router.admit(&batch_, static_cast<uint32_t>(batch_.size() - 1),
                 static_cast<uint32_t>(data.size() + key.size()), now_);
  }
  // Fills a request; returns the data of the records taken.
  std::vector<std::string> fill(ShardRouter& router, bool* full = nullptr) {
    builder_.begin();
    bool f = router.fill(builder_, taken_, now_);
    if (full) *full = f;
    std::vector<std::string> data;
    for (const TakenRecord& t : taken_) data.emplace_back(t.record.data());
    return data;
  }

  Clock::TimePoint now_{std::chrono::hours(1)};
  pipeline::RecordBatch batch_;
  RequestBuilder builder_{"StreamName", "s", WireProtocol::kJson, {500, 5 * 1024 * 1024, 1024 * 1024}};
  std::vector<TakenRecord> taken_;
};

TEST_F(ShardRouterTest, WithoutAShardMapRecordsWaitInOneUnpacedLineInAdmissionOrder) {
  ShardRouter router({});
  admit(router, "r0");
  admit(router, "r1");
  admit(router, "r2");
  EXPECT_EQ(router.pendingRecords(), 3u);
  EXPECT_EQ(router.pendingBytes(), 9u);
  EXPECT_EQ(router.lineCount(), 1u);
  EXPECT_EQ(router.pacer(0, router.generation()), nullptr);
  EXPECT_EQ(fill(router), (std::vector<std::string>{"r0", "r1", "r2"}));
  EXPECT_EQ(router.pendingRecords(), 0u);
  EXPECT_EQ(router.pendingBytes(), 0u);
  EXPECT_EQ(taken_[1].record.seq, taken_[0].record.seq + 1);
}

TEST_F(ShardRouterTest, RoutesEachRecordToTheShardWhoseRangeHoldsItsHashKey) {
  ShardRouter router({});
  router.applyShardMap(twoShards(), kUnlimited, now_);
  ASSERT_EQ(router.lineCount(), 2u);
  admit(router, "low", "k", kBottom);
  admit(router, "high", "k", kTop);
  fill(router);
  ASSERT_EQ(taken_.size(), 2u);
  EXPECT_EQ(router.shardId(taken_[0].line), "shard-a");
  EXPECT_EQ(router.shardId(taken_[1].line), "shard-b");
  EXPECT_NE(router.pacer(taken_[0].line, router.generation()), nullptr);
  // By MD5 of the partition key when there is no explicit hash key.
  PartitionKeyHasher hasher;
  admit(router, "hashed", "some-key");
  fill(router);
  ASSERT_EQ(taken_.size(), 1u);
  const bool upper = hasher.hash("some-key") > ~HashKey{0} / 2;
  EXPECT_EQ(router.shardId(taken_[0].line), upper ? "shard-b" : "shard-a");
}

TEST_F(ShardRouterTest, NewRecordsAreTakenInAdmissionOrderAcrossShards) {
  ShardRouter router({});
  router.applyShardMap(twoShards(), kUnlimited, now_);
  const std::string_view keys[] = {kBottom, kTop, kTop, kBottom, kTop, kBottom, kBottom};
  for (size_t i = 0; i < std::size(keys); ++i) admit(router, "r" + std::to_string(i), "k", keys[i]);
  EXPECT_EQ(fill(router), (std::vector<std::string>{"r0", "r1", "r2", "r3", "r4", "r5", "r6"}));
}

TEST_F(ShardRouterTest, ARetryWaitsForItsBackoffThenGoesBeforeNewRecords) {
  ShardRouter router({});
  admit(router, "r0");
  fill(router);
  PendingRecord again = taken_[0].record;
  again.notBefore = now_ + 100ms;
  router.retry(again, taken_[0].line, router.generation());
  admit(router, "r1");
  EXPECT_EQ(fill(router), (std::vector<std::string>{"r1"})) << "r0 is not due yet";
  admit(router, "r2");
  now_ += 100ms;
  EXPECT_EQ(fill(router), (std::vector<std::string>{"r0", "r2"}));
}

TEST_F(ShardRouterTest, ARequestIsDueWhenFullLingeredRetriedSplitOrFlushed) {
  ShardRouter router(RouterOptions{false, 200ms, 3, 1000});
  EXPECT_FALSE(router.due(now_, true)) << "nothing waits";
  admit(router, "r0");
  EXPECT_FALSE(router.due(now_, false));
  EXPECT_TRUE(router.due(now_, true)) << "flush (shutting down)";
  EXPECT_FALSE(router.due(now_ + 199ms, false));
  EXPECT_TRUE(router.due(now_ + 200ms, false)) << "lingered";
  admit(router, "r1");
  admit(router, "r2");
  EXPECT_TRUE(router.due(now_, false)) << "enough records for a request";
  fill(router);
  router.split({taken_[0]});
  EXPECT_TRUE(router.due(now_, false)) << "a split group";
}

TEST_F(ShardRouterTest, RecordsOfAStalledShardDoNotHoldBackTheOthers) {
  ShardRouter router(RouterOptions{false, 10s, 500, 1 << 20});
  // One token per shard, refilled at one a second.
  router.applyShardMap(twoShards(), PacingLimits{1, 1e12, 1.0, /*slowStart=*/false}, now_);
  admit(router, "a0", "k", kBottom);
  admit(router, "a1", "k", kBottom);
  admit(router, "b0", "k", kTop);
  admit(router, "b1", "k", kTop);
  EXPECT_EQ(fill(router), (std::vector<std::string>{"a0", "b0"}));
  EXPECT_EQ(router.pendingRecords(), 2u);
  EXPECT_TRUE(fill(router).empty()) << "both buckets are empty";
  // The next event is the buckets' refill.
  EXPECT_EQ(router.nextEvent(now_, now_ + 10s), now_ + 1s);
  now_ += 1s;
  EXPECT_EQ(fill(router), (std::vector<std::string>{"a1", "b1"}));
}

TEST_F(ShardRouterTest, AShardJoinsARequestWithAQuantumThenTakesARecordPerToken) {
  ShardRouter router(RouterOptions{false, 10s, 500, 1 << 20});
  // 1,000 records/s with a burst of 50 tokens.
  router.applyShardMap(twoShards(), PacingLimits{1000, 1e12, 0.05, /*slowStart=*/false}, now_);
  for (int i = 0; i < 60; ++i) admit(router, "a" + std::to_string(i), "k", kBottom);
  EXPECT_EQ(fill(router).size(), 50u) << "once in the request, one token per record: the whole burst";
  now_ += 2ms;
  EXPECT_TRUE(fill(router).empty()) << "2 tokens: a new request needs a quantum (3)";
  now_ += 1ms;
  EXPECT_EQ(fill(router).size(), 3u);
}

TEST_F(ShardRouterTest, TheNextEventIsTheEarliestLingerOrBackoff) {
  ShardRouter router(RouterOptions{false, 200ms, 500, 1 << 20});
  EXPECT_EQ(router.nextEvent(now_, now_ + 10s), now_ + 10s) << "nothing waits";
  admit(router, "r0");
  EXPECT_EQ(router.nextEvent(now_, now_ + 10s), now_ + 200ms);
  fill(router);
  PendingRecord again = taken_[0].record;
  again.notBefore = now_ + 50ms;
  router.retry(again, taken_[0].line, router.generation());
  EXPECT_EQ(router.nextEvent(now_, now_ + 10s), now_ + 50ms);
}

TEST_F(ShardRouterTest, FillStopsWhenTheRequestIsFull) {
  ShardRouter router({});
  RequestBuilder small("StreamName", "s", WireProtocol::kJson, {2, 1000, 1000});
  for (int i = 0; i < 5; ++i) admit(router, "r" + std::to_string(i));
  small.begin();
  EXPECT_TRUE(router.fill(small, taken_, now_));
  EXPECT_EQ(taken_.size(), 2u);
  EXPECT_EQ(router.pendingRecords(), 3u);
}

TEST_F(ShardRouterTest, PerKeyOrderingHoldsAKeysLaterRecordsWhileOneIsInFlight) {
  ShardRouter router(RouterOptions{true, 200ms, 500, 1 << 20});
  admit(router, "a0", "a");
  admit(router, "a1", "a");
  admit(router, "b0", "b");
  EXPECT_EQ(fill(router), (std::vector<std::string>{"a0", "b0"}));
  const TakenRecord a0 = taken_[0];
  EXPECT_TRUE(fill(router).empty()) << "a is busy until a0 is done";
  // A retry keeps its key busy and goes first.
  PendingRecord again = a0.record;
  router.retry(again, a0.line, router.generation());
  EXPECT_EQ(fill(router), (std::vector<std::string>{"a0"}));
  router.release(taken_[0].record);
  EXPECT_EQ(fill(router), (std::vector<std::string>{"a1"}));
}

TEST_F(ShardRouterTest, SplitGroupsGoFirstAsTheyAreTheLastGivenFirst) {
  ShardRouter router({});
  for (int i = 0; i < 4; ++i) admit(router, "r" + std::to_string(i));
  fill(router);
  std::vector<TakenRecord> first(taken_.begin(), taken_.begin() + 2);
  std::vector<TakenRecord> second(taken_.begin() + 2, taken_.end());
  router.split(second);
  router.split(first);
  admit(router, "new");
  EXPECT_EQ(router.pendingRecords(), 5u);
  EXPECT_TRUE(router.splitWaiting());
  EXPECT_EQ(fill(router), (std::vector<std::string>{"r0", "r1"}));
  EXPECT_EQ(fill(router), (std::vector<std::string>{"r2", "r3"}));
  EXPECT_FALSE(router.splitWaiting());
  EXPECT_EQ(fill(router), (std::vector<std::string>{"new"}));
  EXPECT_EQ(router.pendingRecords(), 0u);
}

TEST_F(ShardRouterTest, ANewShardMapMovesWaitingRecordsAndKeepsThePacersOfShardsThatStay) {
  ShardRouter router({});
  router.applyShardMap(twoShards(), kUnlimited, now_);
  const uint64_t before = router.generation();
  ShardPacer* pacerA = router.pacer(0, before);
  admit(router, "r0", "k", kTop);
  admit(router, "r1", "k", kBottom);
  fill(router);
  const TakenRecord inFlight = taken_[1];  // r1, on shard-a
  admit(router, "r2", "k", kTop);
  admit(router, "r3", "k", kBottom);

  // shard-b splits in two; shard-a stays.
  const HashKey half = ~HashKey{0} / 2;
  const HashKey quarter = half / 2;
  router.applyShardMap(*ShardMap::fromShards({{"shard-a", 0, half},
                                              {"shard-c", half + 1, half + quarter},
                                              {"shard-d", half + quarter + 1, ~HashKey{0}}}),
                       kUnlimited, now_);
  EXPECT_GT(router.generation(), before);
  EXPECT_EQ(router.shardCount(), 3u);
  EXPECT_EQ(router.pacer(0, router.generation()), pacerA);
  EXPECT_EQ(router.pacer(0, before), nullptr) << "an answer under the old map finds no pacer";
  EXPECT_TRUE(router.knowsShard("shard-d"));
  EXPECT_FALSE(router.knowsShard("shard-b"));
  EXPECT_EQ(router.pendingRecords(), 2u);

  // A record of the old map comes back: routed afresh.
  router.retry(inFlight.record, inFlight.line, before);
  fill(router);
  ASSERT_EQ(taken_.size(), 3u);
  EXPECT_EQ(std::string(taken_[0].record.data()), "r1");
  EXPECT_EQ(router.shardId(taken_[0].line), "shard-a");
  EXPECT_EQ(std::string(taken_[1].record.data()), "r2");
  EXPECT_EQ(router.shardId(taken_[1].line), "shard-d");
  EXPECT_EQ(std::string(taken_[2].record.data()), "r3");
}

TEST_F(ShardRouterTest, ClearForgetsEverythingWaiting) {
  ShardRouter router(RouterOptions{true, 200ms, 500, 1 << 20});
  admit(router, "r0", "a");
  admit(router, "r1", "a");
  fill(router);
  router.clear();
  EXPECT_EQ(router.pendingRecords(), 0u);
  admit(router, "r2", "a");
  EXPECT_EQ(fill(router), (std::vector<std::string>{"r2"})) << "no key stays busy";
}

}  // namespace
}  // namespace kinship::kinesis
