// Hash keys and the shard map: MD5 → 128-bit integer → the shard whose range
// holds it, against ranges that are not an even split.

#include "sinks/kinesis/shard_map.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <string>
#include <vector>

namespace kinship::kinesis {
namespace {

HashKey key(const char* decimal) { return *parseHashKey(decimal); }

TEST(HashKey, Md5OfThePartitionKeyReadBigEndian) {
  PartitionKeyHasher hasher;
  // md5("") = d41d8cd98f00b204e9800998ecf8427e
  EXPECT_EQ(formatHashKey(hasher.hash("")), "281949768489412648962353822266799178366");
  // md5("a") = 0cc175b9c0f1b6a831c399e269772661
  EXPECT_EQ(formatHashKey(hasher.hash("a")), "16955237001963240173058271559858726497");
  // The context is reused: the same key hashes the same after others.
  EXPECT_EQ(formatHashKey(hasher.hash("")), "281949768489412648962353822266799178366");
}

TEST(HashKey, CachedHashesAlwaysEqualTheMd5) {
  // Far more keys than cache slots, so slots are shared and replaced, and
  // lengths on both sides of the longest cached key; each pass in a
  // different order.
  auto md5 = [](const std::string& k) {
    unsigned char d[16];
    unsigned int n = 0;
    EVP_Digest(k.data(), k.size(), d, &n, EVP_md5(), nullptr);
    HashKey v = 0;
    for (unsigned char b : d) v = (v << 8) | b;
    return v;
  };
  std::vector<std::string> keys;
  for (int i = 0; i < 2000; ++i) keys.push_back("k" + std::to_string(i) + std::string(static_cast<size_t>(i % 60), 'x'));
  PartitionKeyHasher hasher;
  for (int pass = 0; pass < 3; ++pass) {
    for (size_t j = 0; j < keys.size(); ++j) {
      const std::string& k = keys[(j * (2 * pass + 1)) % keys.size()];
      ASSERT_EQ(hasher.hash(k), md5(k)) << k;
    }
  }
}

TEST(HashKey, ParsesAndFormatsTheWholeRange) {
  EXPECT_EQ(formatHashKey(key("0")), "0");
  EXPECT_EQ(formatHashKey(key("340282366920938463463374607431768211455")),
            "340282366920938463463374607431768211455");  // 2^128 - 1
  EXPECT_FALSE(parseHashKey("340282366920938463463374607431768211456").has_value());  // 2^128
  EXPECT_FALSE(parseHashKey("").has_value());
  EXPECT_FALSE(parseHashKey("12a").has_value());
  EXPECT_FALSE(parseHashKey("-1").has_value());
}

ShardMap unevenMap() {
  // 10%, 20%, 30%, 40% of the space, listed out of order.
  const HashKey max = ~HashKey(0);
  const HashKey tenth = max / 10;
  std::vector<ShardRange> shards{
      {"shard-2", tenth * 3, tenth * 6 - 1},
      {"shard-0", 0, tenth - 1},
      {"shard-3", tenth * 6, max},
      {"shard-1", tenth, tenth * 3 - 1},
  };
  return *ShardMap::fromShards(shards);
}

TEST(ShardMap, FindsTheShardWhoseRangeHoldsTheHash) {
  ShardMap map = unevenMap();
  ASSERT_EQ(map.size(), 4u);
  const HashKey max = ~HashKey(0);
  const HashKey tenth = max / 10;
  EXPECT_EQ(map.shard(map.find(0)).shardId, "shard-0");
  EXPECT_EQ(map.shard(map.find(tenth - 1)).shardId, "shard-0");
  EXPECT_EQ(map.shard(map.find(tenth)).shardId, "shard-1");
  EXPECT_EQ(map.shard(map.find(tenth * 3 - 1)).shardId, "shard-1");
  EXPECT_EQ(map.shard(map.find(tenth * 3)).shardId, "shard-2");
  EXPECT_EQ(map.shard(map.find(tenth * 6)).shardId, "shard-3");
  EXPECT_EQ(map.shard(map.find(max)).shardId, "shard-3");
}

TEST(ShardMap, RoutesPartitionKeysByTheirMd5) {
  ShardMap map = unevenMap();
  PartitionKeyHasher hasher;
  // md5("a") ≈ 0.0498 of the space → the first 10%; md5("") ≈ 0.83 → the last 40%.
  EXPECT_EQ(map.shard(map.find(hasher.hash("a"))).shardId, "shard-0");
  EXPECT_EQ(map.shard(map.find(hasher.hash(""))).shardId, "shard-3");
}

TEST(ShardMap, AGapInTheRangesFindsNothing) {
  auto map = ShardMap::fromShards({{"a", 0, 99}, {"b", 200, 299}});
  ASSERT_TRUE(map.has_value());
  EXPECT_EQ(map->find(150), -1);
  EXPECT_EQ(map->find(300), -1);
  EXPECT_EQ(map->find(99), 0);
  EXPECT_EQ(map->find(200), 1);
}

TEST(ShardMap, RejectsOverlappingAndInvertedRanges) {
  EXPECT_FALSE(ShardMap::fromShards({{"a", 0, 100}, {"b", 100, 200}}).has_value());
  EXPECT_FALSE(ShardMap::fromShards({{"a", 10, 5}}).has_value());
}

TEST(ListShards, KeepsOpenShardsAndReturnsTheNextToken) {
  std::string page = R"({"Shards":[
    {"ShardId":"shardId-000000000000","HashKeyRange":{"StartingHashKey":"0","EndingHashKey":"170141183460469231731687303715884105727"},
     "SequenceNumberRange":{"StartingSequenceNumber":"1","EndingSequenceNumber":"9"}},
    {"ShardId":"shardId-000000000001","HashKeyRange":{"StartingHashKey":"0","EndingHashKey":"85070591730234615865843651857942052863"},
     "SequenceNumberRange":{"StartingSequenceNumber":"10"}},
    {"ShardId":"shardId-000000000002","HashKeyRange":{"StartingHashKey":"85070591730234615865843651857942052864","EndingHashKey":"170141183460469231731687303715884105727"},
     "SequenceNumberRange":{"StartingSequenceNumber":"11"}}],
    "NextToken":"abc"})";
  std::vector<ShardRange> shards;
  auto next = parseListShardsPage(page, shards);
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(*next, "abc");
  ASSERT_EQ(shards.size(), 2u);  // the closed parent of the split is left out
  EXPECT_EQ(shards[0].shardId, "shardId-000000000001");
  EXPECT_EQ(formatHashKey(shards[1].startingHashKey), "85070591730234615865843651857942052864");

  std::string last = R"({"Shards":[]})";
  auto none = parseListShardsPage(last, shards);
  ASSERT_TRUE(none.has_value());
  EXPECT_EQ(*none, "");

  std::string broken = R"({"Shards":[{"ShardId":"x"}]})";
  EXPECT_FALSE(parseListShardsPage(broken, shards).has_value());
  std::string notJson = "<html>";
  EXPECT_FALSE(parseListShardsPage(notJson, shards).has_value());
}

}  // namespace
}  // namespace kinship::kinesis
