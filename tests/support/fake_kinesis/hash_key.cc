#include "tests/support/fake_kinesis/hash_key.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

namespace kinship::fake {
namespace {

// One fetched MD5 implementation and one digest context per thread: the
// one-shot EVP_Digest looks the algorithm up and allocates a context on every
// call, which shows at hundreds of thousands of records per second.
class Md5 {
 public:
  Md5() : md_(EVP_MD_fetch(nullptr, "MD5", nullptr)), ctx_(EVP_MD_CTX_new()) {}
  ~Md5() {
    EVP_MD_CTX_free(ctx_);
    EVP_MD_free(md_);
  }
  Md5(const Md5&) = delete;
  Md5& operator=(const Md5&) = delete;

  std::array<unsigned char, 16> digest(std::initializer_list<std::string_view> parts) {
    std::array<unsigned char, 16> out{};
    unsigned int length = 0;
    bool ok = md_ != nullptr && ctx_ != nullptr && EVP_DigestInit_ex2(ctx_, md_, nullptr) == 1;
    for (auto part : parts) ok = ok && EVP_DigestUpdate(ctx_, part.data(), part.size()) == 1;
    ok = ok && EVP_DigestFinal_ex(ctx_, out.data(), &length) == 1;
    if (!ok) {
      // Only a broken OpenSSL installation gets here; fall back to the
      // one-shot call rather than route everything to shard 0.
      std::string joined;
      for (auto part : parts) joined.append(part);
      EVP_Digest(joined.data(), joined.size(), out.data(), &length, EVP_md5(), nullptr);
    }
    return out;
  }

  static Md5& forThisThread() {
    thread_local Md5 md5;
    return md5;
  }

 private:
  EVP_MD* md_;
  EVP_MD_CTX* ctx_;
};

}  // namespace

std::string hashKeyToDecimal(HashKey key) {
  if (key == 0) return "0";
  char digits[40];
  int n = 0;
  while (key != 0) {
    digits[n++] = static_cast<char>('0' + static_cast<int>(key % 10));
    key /= 10;
  }
  std::string out(static_cast<size_t>(n), '0');
  for (int i = 0; i < n; ++i) out[static_cast<size_t>(i)] = digits[n - 1 - i];
  return out;
}

HashKeyParse parseHashKey(std::string_view text, HashKey& out) {
  if (text.empty()) return HashKeyParse::kNotDecimal;
  HashKey value = 0;
  bool tooLarge = false;
  for (char c : text) {
    if (c < '0' || c > '9') return HashKeyParse::kNotDecimal;
    auto digit = static_cast<unsigned>(c - '0');
    if (tooLarge) continue;  // keep scanning: a later non-digit still makes it "not decimal"
    if (value > (kMaxHashKey - digit) / 10) {
      tooLarge = true;
      continue;
    }
    value = value * 10 + digit;
  }
  if (tooLarge) return HashKeyParse::kTooLarge;
  out = value;
  return HashKeyParse::kOk;
}

HashKey md5HashKey(std::string_view partitionKey) {
  auto digest = Md5::forThisThread().digest({partitionKey});
  HashKey key = 0;
  for (unsigned char byte : digest) key = (key << 8) | byte;
  return key;
}

uint64_t recordFingerprint(std::string_view partitionKey, std::string_view data) {
  auto size = static_cast<uint64_t>(partitionKey.size());
  char prefix[8];
  std::memcpy(prefix, &size, sizeof prefix);
  auto digest = Md5::forThisThread().digest({std::string_view(prefix, sizeof prefix), partitionKey, data});
  uint64_t out = 0;
  for (int i = 0; i < 8; ++i) out = (out << 8) | digest[static_cast<size_t>(i)];
  return out;
}

std::vector<HashKey> evenSplits(int shardCount) {
  std::vector<HashKey> splits;
  if (shardCount <= 1) return splits;
  // floor(2^128 / n) computed without 2^128: (2^128 - 1) / n, plus one when
  // n divides 2^128 exactly (n a power of two).
  auto n = static_cast<HashKey>(shardCount);
  HashKey step = kMaxHashKey / n;
  if (kMaxHashKey % n == n - 1) ++step;
  for (int i = 1; i < shardCount; ++i) splits.push_back(step * static_cast<HashKey>(i));
  return splits;
}

std::vector<HashKey> unevenSplits(int shardCount) {
  std::vector<HashKey> splits;
  if (shardCount <= 1) return splits;
  // Shard i has weight i+1, so the start of shard i is at
  // (1 + 2 + ... + i) / (1 + 2 + ... + n) of the space.
  auto total = static_cast<HashKey>(shardCount) * static_cast<HashKey>(shardCount + 1) / 2;
  HashKey unit = kMaxHashKey / total;
  HashKey cumulative = 0;
  for (int i = 1; i < shardCount; ++i) {
    cumulative += static_cast<HashKey>(i);
    splits.push_back(unit * cumulative);
  }
  return splits;
}

Result<std::vector<HashKey>> splitsFromFractions(std::span<const double> fractions) {
  std::vector<HashKey> splits;
  for (double f : fractions) {
    if (!(f > 0.0 && f < 1.0)) return fail(Status::invalidArgument(fmt::format("split {} is not in (0, 1)", f)));
    // 64 bits of precision are plenty for test layouts: scale to 2^64 and
    // shift into the high half.
    auto high = static_cast<uint64_t>(std::ldexp(f, 64));
    splits.push_back(static_cast<HashKey>(high) << 64);
  }
  if (auto status = validateSplits(splits); !status) return fail(status);
  return splits;
}

Status validateSplits(std::span<const HashKey> splits) {
  for (size_t i = 0; i < splits.size(); ++i) {
    if (splits[i] == 0) return Status::invalidArgument("a split point must be above 0");
    if (i > 0 && splits[i] <= splits[i - 1]) return Status::invalidArgument("split points must be strictly increasing");
  }
  return Status::ok();
}

}  // namespace kinship::fake
