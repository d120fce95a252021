#pragma once
// Kinesis hash keys: MD5 of the partition key read as an unsigned 128-bit
// big-endian integer, which selects the shard whose hash-key range holds it.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

typedef struct evp_md_ctx_st EVP_MD_CTX;
typedef struct evp_md_st EVP_MD;

namespace kinship::kinesis {

using HashKey = unsigned __int128;

// Hashes partition keys with one reusable digest context, so hashing a
// record allocates nothing. Logs usually carry few distinct keys (services
// times hosts: tens to hundreds), so the hashes of short keys are kept in a
// small set-associative cache: a repeated key costs a cheap hash and a
// compare instead of an MD5. Four ways per set keep a few hundred keys that
// collide in a set from evicting each other on every record, which a
// direct-mapped cache did (a fifth of lookups missed with 91 keys).
// Not thread-safe: one per thread.
class PartitionKeyHasher {
 public:
  PartitionKeyHasher();
  ~PartitionKeyHasher();
  PartitionKeyHasher(const PartitionKeyHasher&) = delete;
  PartitionKeyHasher& operator=(const PartitionKeyHasher&) = delete;

  HashKey hash(std::string_view partitionKey);

 private:
  static constexpr size_t kSets = 128;
  static constexpr size_t kWays = 4;
  static constexpr size_t kCachedKeyBytes = 43;  // longer keys are always hashed
  struct Entry {
    HashKey hash = 0;
    uint32_t check = 0;   // the cheap hash, compared before the key
    uint8_t size = 0xff;  // 0xff: empty
    char key[kCachedKeyBytes];
  };
  static_assert(sizeof(Entry) == 64);

  HashKey md5(std::string_view partitionKey);

  EVP_MD_CTX* ctx_;
  EVP_MD* md5_;
  std::array<std::array<Entry, kWays>, kSets> cache_{};
};

// Decimal text, as ListShards reports hash keys, to a HashKey (fails on
// anything but digits, or a value of 2^128 or more).
Result<HashKey> parseHashKey(std::string_view decimal);
std::string formatHashKey(HashKey key);

}  // namespace kinship::kinesis
