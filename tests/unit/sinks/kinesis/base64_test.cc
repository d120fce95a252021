#include "common/base64.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <random>
#include <string>

namespace kinship {
namespace {

std::string encode(std::string_view in) {
  std::string out(base64EncodedSize(in.size()), '?');
  size_t n = base64Encode(reinterpret_cast<const unsigned char*>(in.data()), in.size(), out.data());
  EXPECT_EQ(n, out.size());
  std::string scalar(base64EncodedSize(in.size()), '?');
  base64EncodeScalar(reinterpret_cast<const unsigned char*>(in.data()), in.size(), scalar.data());
  EXPECT_EQ(scalar, out) << "the scalar encoder differs";
  return out;
}

std::string openssl(std::string_view in) {
  std::string out(base64EncodedSize(in.size()) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

TEST(Base64, Rfc4648Vectors) {
  EXPECT_EQ(encode(""), "");
  EXPECT_EQ(encode("f"), "Zg==");
  EXPECT_EQ(encode("fo"), "Zm8=");
  EXPECT_EQ(encode("foo"), "Zm9v");
  EXPECT_EQ(encode("foob"), "Zm9vYg==");
  EXPECT_EQ(encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(encode("foobar"), "Zm9vYmFy");
}

TEST(Base64, EveryByteValueAndTheLastAlphabetCharacters) {
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  EXPECT_EQ(encode(all), openssl(all));
  EXPECT_EQ(encode("\xff\xff\xff"), "////");
  EXPECT_EQ(encode("\xfb\xef\xbe"), "++++");
}

TEST(Base64, MatchesOpenSslOnRandomInputOfEveryLengthUpTo1000) {
  std::mt19937 rng(42);
  for (size_t len = 0; len <= 1000; ++len) {
    std::string in(len, '\0');
    for (char& c : in) c = static_cast<char>(rng());
    ASSERT_EQ(encode(in), openssl(in)) << "length " << len;
  }
}

}  // namespace
}  // namespace kinship
