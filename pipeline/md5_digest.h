#pragma once
// Md5Digest: MD5 with one reusable OpenSSL context, so hashing a record
// allocates nothing, and the text forms the key fallbacks need. Not
// thread-safe: one per pipeline (its I/O thread).
// (sinks/kinesis/hash_key.cc hashes keys the same way for routing, behind
// its key cache; the two could share this class.)

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

typedef struct evp_md_ctx_st EVP_MD_CTX;
typedef struct evp_md_st EVP_MD;

namespace kinship::pipeline {

class Md5Digest {
 public:
  Md5Digest();
  ~Md5Digest();
  Md5Digest(const Md5Digest&) = delete;
  Md5Digest& operator=(const Md5Digest&) = delete;

  std::array<uint8_t, 16> digest(std::string_view bytes);

 private:
  EVP_MD_CTX* ctx_;
  EVP_MD* md5_;
};

// Writes the 16 bytes as 32 lowercase hex digits into `out` (replacing it).
void writeHex(const std::array<uint8_t, 16>& bytes, std::string& out);
// Writes the 16 bytes, read as a big-endian unsigned 128-bit integer, in
// decimal without leading zeros into `out` (replacing it): a valid
// ExplicitHashKey.
void writeDecimal(const std::array<uint8_t, 16>& bytes, std::string& out);

}  // namespace kinship::pipeline
