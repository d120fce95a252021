#include "sinks/kinesis/hash_key.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdlib>

namespace kinship::kinesis {

PartitionKeyHasher::PartitionKeyHasher() : ctx_(EVP_MD_CTX_new()) {
  if (ctx_ == nullptr) std::abort();  // out of memory at startup
}

PartitionKeyHasher::~PartitionKeyHasher() { EVP_MD_CTX_free(ctx_); }

HashKey PartitionKeyHasher::hash(std::string_view partitionKey) {
  unsigned char digest[16];
  unsigned int size = 0;
  // MD5 is always available in libcrypto; a failure here is a broken build.
  if (EVP_DigestInit_ex(ctx_, EVP_md5(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx_, partitionKey.data(), partitionKey.size()) != 1 ||
      EVP_DigestFinal_ex(ctx_, digest, &size) != 1 || size != 16) {
    std::abort();
  }
  HashKey value = 0;
  for (unsigned char byte : digest) value = (value << 8) | byte;
  return value;
}

Result<HashKey> parseHashKey(std::string_view decimal) {
  if (decimal.empty() || decimal.size() > 39) {
    return fail(Status::invalidArgument("invalid hash key '" + std::string(decimal) + "'"));
  }
  HashKey value = 0;
  constexpr HashKey kMax = ~HashKey(0);
  for (char c : decimal) {
    if (c < '0' || c > '9') return fail(Status::invalidArgument("invalid hash key '" + std::string(decimal) + "'"));
    HashKey digit = static_cast<HashKey>(c - '0');
    if (value > (kMax - digit) / 10) {
      return fail(Status::invalidArgument("hash key '" + std::string(decimal) + "' is 2^128 or more"));
    }
    value = value * 10 + digit;
  }
  return value;
}

std::string formatHashKey(HashKey key) {
  if (key == 0) return "0";
  std::string out;
  while (key != 0) {
    out.push_back(static_cast<char>('0' + static_cast<int>(key % 10)));
    key /= 10;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

}  // namespace kinship::kinesis
