#include "sinks/kinesis/hash_key.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace kinship::kinesis {

// EVP_md5() makes every EVP_DigestInit_ex look the algorithm up in the
// provider store (locks and hash-table lookups, more than the MD5 of a short
// key costs); an explicitly fetched one is looked up once.
PartitionKeyHasher::PartitionKeyHasher() : ctx_(EVP_MD_CTX_new()), md5_(EVP_MD_fetch(nullptr, "MD5", nullptr)) {
  if (ctx_ == nullptr || md5_ == nullptr) std::abort();  // out of memory, or a libcrypto without MD5
}

PartitionKeyHasher::~PartitionKeyHasher() {
  EVP_MD_CTX_free(ctx_);
  EVP_MD_free(md5_);
}

HashKey PartitionKeyHasher::hash(std::string_view partitionKey) {
  if (partitionKey.size() > kCachedKeyBytes) return md5(partitionKey);
  // FNV-1a picks the set and screens the ways; the key compare decides.
  uint32_t h = 2166136261u;
  for (char c : partitionKey) h = (h ^ static_cast<uint8_t>(c)) * 16777619u;
  auto& set = cache_[(h ^ (h >> 15)) % kSets];
  for (const Entry& entry : set) {
    if (entry.check == h && entry.size == partitionKey.size() &&
        std::memcmp(entry.key, partitionKey.data(), partitionKey.size()) == 0) {
      return entry.hash;
    }
  }
  // Oldest out: the ways are kept newest first.
  std::move_backward(set.begin(), set.end() - 1, set.end());
  Entry& entry = set.front();
  entry.hash = md5(partitionKey);
  entry.check = h;
  entry.size = static_cast<uint8_t>(partitionKey.size());
  std::memcpy(entry.key, partitionKey.data(), partitionKey.size());
  return entry.hash;
}

HashKey PartitionKeyHasher::md5(std::string_view partitionKey) {
  unsigned char digest[16];
  unsigned int size = 0;
  // MD5 is always available in libcrypto; a failure here is a broken build.
  if (EVP_DigestInit_ex2(ctx_, md5_, nullptr) != 1 ||
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
