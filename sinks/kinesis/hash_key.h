#pragma once
// Kinesis hash keys: MD5 of the partition key read as an unsigned 128-bit
// big-endian integer, which selects the shard whose hash-key range holds it.

#include <string>
#include <string_view>

#include "common/status.h"

typedef struct evp_md_ctx_st EVP_MD_CTX;

namespace kinship::kinesis {

using HashKey = unsigned __int128;

// Hashes partition keys with one reusable digest context, so hashing a
// record allocates nothing. Not thread-safe: one per thread.
class PartitionKeyHasher {
 public:
  PartitionKeyHasher();
  ~PartitionKeyHasher();
  PartitionKeyHasher(const PartitionKeyHasher&) = delete;
  PartitionKeyHasher& operator=(const PartitionKeyHasher&) = delete;

  HashKey hash(std::string_view partitionKey);

 private:
  EVP_MD_CTX* ctx_;
};

// Decimal text, as ListShards reports hash keys, to a HashKey (fails on
// anything but digits, or a value of 2^128 or more).
Result<HashKey> parseHashKey(std::string_view decimal);
std::string formatHashKey(HashKey key);

}  // namespace kinship::kinesis
