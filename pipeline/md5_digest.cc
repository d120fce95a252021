#include "pipeline/md5_digest.h"

#include <openssl/evp.h>

#include <cstdlib>

namespace kinship::pipeline {

// An explicitly fetched MD5 is looked up in the provider store once, not on
// every EVP_DigestInit_ex as EVP_md5() would.
Md5Digest::Md5Digest() : ctx_(EVP_MD_CTX_new()), md5_(EVP_MD_fetch(nullptr, "MD5", nullptr)) {
  if (ctx_ == nullptr || md5_ == nullptr) std::abort();  // out of memory, or a libcrypto without MD5
}

Md5Digest::~Md5Digest() {
  EVP_MD_CTX_free(ctx_);
  EVP_MD_free(md5_);
}

std::array<uint8_t, 16> Md5Digest::digest(std::string_view bytes) {
  std::array<uint8_t, 16> out;
  unsigned int size = 0;
  // MD5 is always available in libcrypto; a failure here is a broken build.
  if (EVP_DigestInit_ex2(ctx_, md5_, nullptr) != 1 || EVP_DigestUpdate(ctx_, bytes.data(), bytes.size()) != 1 ||
      EVP_DigestFinal_ex(ctx_, out.data(), &size) != 1 || size != 16) {
    std::abort();
  }
  return out;
}

void writeHex(const std::array<uint8_t, 16>& bytes, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.resize(32);
  for (size_t i = 0; i < bytes.size(); ++i) {
    out[2 * i] = kHex[bytes[i] >> 4];
    out[2 * i + 1] = kHex[bytes[i] & 0xF];
  }
}

void writeDecimal(const std::array<uint8_t, 16>& bytes, std::string& out) {
  unsigned __int128 value = 0;
  for (uint8_t byte : bytes) value = (value << 8) | byte;
  char digits[40];  // 2^128 - 1 has 39 digits
  size_t n = 0;
  do {
    digits[sizeof digits - 1 - n++] = static_cast<char>('0' + static_cast<int>(value % 10));
    value /= 10;
  } while (value != 0);
  out.assign(digits + sizeof digits - n, n);
}

}  // namespace kinship::pipeline
