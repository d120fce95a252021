#pragma once
// Hash keys: the 128-bit space Kinesis routes records in. A record's hash key
// is MD5(partition key) read as a big-endian unsigned integer, or its
// ExplicitHashKey; each shard owns an inclusive range of the space.
//
// Threading: every function here is thread-safe (MD5 state is per thread).

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace kinship::fake {

// g++ gives a native 128-bit unsigned type; the arithmetic is exact and fast.
using HashKey = unsigned __int128;
inline constexpr HashKey kMaxHashKey = ~HashKey{0};

// Canonical decimal form, as the API writes StartingHashKey / EndingHashKey.
std::string hashKeyToDecimal(HashKey key);

enum class HashKeyParse { kOk, kNotDecimal, kTooLarge };
// Parses digits only (no sign, no spaces); kTooLarge when the value is 2^128
// or more. Leading zeros are accepted here; the API's pattern check is the
// caller's business.
HashKeyParse parseHashKey(std::string_view text, HashKey& out);

// MD5(bytes) as a big-endian 128-bit integer: where Kinesis routes a key.
HashKey md5HashKey(std::string_view partitionKey);
// First 64 bits of MD5 over (key length, key, data): a fingerprint of the
// (partition key, data) pair for duplicate counting. The length prefix keeps
// ("ab","c") and ("a","bc") apart.
uint64_t recordFingerprint(std::string_view partitionKey, std::string_view data);

// Starting hash keys of shards 1..n-1 (shard 0 starts at 0; each shard ends
// one before the next one starts; the last ends at 2^128-1).
//
// AWS's layout for a new stream: shard i starts at i * floor(2^128 / n).
std::vector<HashKey> evenSplits(int shardCount);
// Shard i gets a share proportional to i+1: for 4 shards 10%, 20%, 30%, 40%.
std::vector<HashKey> unevenSplits(int shardCount);
// Split points given as fractions of the space, strictly increasing in (0, 1).
Result<std::vector<HashKey>> splitsFromFractions(std::span<const double> fractions);
// Checks that split points are strictly increasing and above 0.
Status validateSplits(std::span<const HashKey> splits);

}  // namespace kinship::fake
