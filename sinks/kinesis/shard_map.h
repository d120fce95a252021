#pragma once
// ShardMap: the stream's open shards and their hash-key ranges, as ListShards
// reports them (never assumed to be an even split), for routing each record
// to the shard that will receive it. Immutable; rebuilt on refresh.

#include <string>
#include <vector>

#include "common/status.h"
#include "sinks/kinesis/hash_key.h"

namespace kinship::kinesis {

struct ShardRange {
  std::string shardId;
  HashKey startingHashKey = 0;
  HashKey endingHashKey = 0;
};

class ShardMap {
 public:
  ShardMap() = default;
  // Fails when ranges overlap or a range is inverted.
  static Result<ShardMap> fromShards(std::vector<ShardRange> shards);

  // Index of the shard whose range holds `hash`, or -1 (a gap in the
  // ranges, as during resharding).
  int find(HashKey hash) const;
  size_t size() const { return shards_.size(); }
  bool empty() const { return shards_.empty(); }
  const ShardRange& shard(size_t i) const { return shards_[i]; }

 private:
  std::vector<ShardRange> shards_;  // sorted by startingHashKey
};

// Reads one page of a ListShards answer: appends the open shards (those
// without an EndingSequenceNumber: closed parents of splits and merges take
// no writes) and returns the NextToken ("" on the last page).
Result<std::string> parseListShardsPage(std::string& body, std::vector<ShardRange>& openShards);

}  // namespace kinship::kinesis
