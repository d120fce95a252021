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
// record allocates nothing. Logs usually carry few distinct keys (a service
// and a host), so the last hash of up to kCacheSlots short keys is kept in a
// direct-mapped cache: a repeated key costs a cheap hash and a compare
// instead of an MD5. Not thread-safe: one per thread.
class PartitionKeyHasher {
 public:
  PartitionKeyHasher();
  ~PartitionKeyHasher();
  PartitionKeyHasher(const PartitionKeyHasher&) = delete;
  PartitionKeyHasher& operator=(const PartitionKeyHasher&) = delete;

  HashKey hash(std::string_view partitionKey);

 private:
  static constexpr size_t kCacheSlots = 256;
  static constexpr size_t kCachedKeyBytes = 46;  // longer keys are always hashed
  struct Slot {
    HashKey hash = 0;
    uint8_t size = 0xff;  // 0xff: empty
    char key[kCachedKeyBytes];
  };

  HashKey md5(std::string_view partitionKey);

  EVP_MD_CTX* ctx_;
  EVP_MD* md5_;
  std::array<Slot, kCacheSlots> cache_{};
};

// Decimal text, as ListShards reports hash keys, to a HashKey (fails on
// anything but digits, or a value of 2^128 or more).
Result<HashKey> parseHashKey(std::string_view decimal);
std::string formatHashKey(HashKey key);

}  // namespace kinship::kinesis
