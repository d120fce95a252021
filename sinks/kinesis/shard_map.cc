#include "sinks/kinesis/shard_map.h"

#include <simdjson.h>

#include <algorithm>

namespace kinship::kinesis {

Result<ShardMap> ShardMap::fromShards(std::vector<ShardRange> shards) {
  std::sort(shards.begin(), shards.end(),
            [](const ShardRange& a, const ShardRange& b) { return a.startingHashKey < b.startingHashKey; });
  for (size_t i = 0; i < shards.size(); ++i) {
    if (shards[i].endingHashKey < shards[i].startingHashKey) {
      return fail(Status::invalidArgument("shard " + shards[i].shardId + " has an inverted hash-key range"));
    }
    if (i > 0 && shards[i].startingHashKey <= shards[i - 1].endingHashKey) {
      return fail(Status::invalidArgument("shards " + shards[i - 1].shardId + " and " + shards[i].shardId +
                                          " have overlapping hash-key ranges"));
    }
  }
  ShardMap map;
  map.shards_ = std::move(shards);
  return map;
}

int ShardMap::find(HashKey hash) const {
  // The last shard starting at or below the hash, if its range reaches it.
  auto it = std::upper_bound(shards_.begin(), shards_.end(), hash,
                             [](HashKey h, const ShardRange& s) { return h < s.startingHashKey; });
  if (it == shards_.begin()) return -1;
  --it;
  if (hash > it->endingHashKey) return -1;
  return static_cast<int>(it - shards_.begin());
}

Result<std::string> parseListShardsPage(std::string& body, std::vector<ShardRange>& openShards) {
  if (body.capacity() < body.size() + simdjson::SIMDJSON_PADDING) body.reserve(body.size() + simdjson::SIMDJSON_PADDING);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(body.data(), body.size(), false).get(doc) != simdjson::SUCCESS) {
    return fail(Status::corruption("ListShards answer is not JSON"));
  }
  simdjson::dom::array shards;
  if (doc["Shards"].get(shards) != simdjson::SUCCESS) {
    return fail(Status::corruption("ListShards answer has no Shards array"));
  }
  for (simdjson::dom::element shard : shards) {
    std::string_view id, start, end;
    if (shard["ShardId"].get(id) != simdjson::SUCCESS ||
        shard["HashKeyRange"]["StartingHashKey"].get(start) != simdjson::SUCCESS ||
        shard["HashKeyRange"]["EndingHashKey"].get(end) != simdjson::SUCCESS) {
      return fail(Status::corruption("ListShards answer has a shard without ShardId or HashKeyRange"));
    }
    std::string_view ending;
    if (shard["SequenceNumberRange"]["EndingSequenceNumber"].get(ending) == simdjson::SUCCESS) continue;
    auto startKey = parseHashKey(start);
    auto endKey = parseHashKey(end);
    if (!startKey || !endKey) return fail(Status::corruption("ListShards answer has an invalid hash key"));
    openShards.push_back({std::string(id), *startKey, *endKey});
  }
  std::string_view next;
  if (doc["NextToken"].get(next) == simdjson::SUCCESS) return std::string(next);
  return std::string();
}

}  // namespace kinship::kinesis
