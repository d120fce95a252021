#include "tests/support/fake_kinesis/codec.h"

#include <openssl/evp.h>

#include <array>

namespace kinship::fake {
namespace {

constexpr std::array<bool, 256> makeAlphabet() {
  std::array<bool, 256> table{};
  for (int c = 'A'; c <= 'Z'; ++c) table[static_cast<size_t>(c)] = true;
  for (int c = 'a'; c <= 'z'; ++c) table[static_cast<size_t>(c)] = true;
  for (int c = '0'; c <= '9'; ++c) table[static_cast<size_t>(c)] = true;
  table['+'] = true;
  table['/'] = true;
  return table;
}
constexpr auto kAlphabet = makeAlphabet();

// Returns the number of '=' padding characters, or -1 if `in` is not strict
// padded base64. OpenSSL's decoder is lenient (it skips whitespace and takes
// "Q===") so strictness is checked here first.
int checkBase64(std::string_view in) {
  if (in.size() % 4 != 0) return -1;
  size_t n = in.size();
  int padding = 0;
  if (n > 0 && in[n - 1] == '=') {
    padding = (in[n - 2] == '=') ? 2 : 1;
  }
  for (size_t i = 0; i < n - static_cast<size_t>(padding); ++i) {
    if (!kAlphabet[static_cast<unsigned char>(in[i])]) return -1;
  }
  return padding;
}

}  // namespace

size_t base64DecodedSize(std::string_view in) {
  int padding = checkBase64(in);
  if (padding < 0) return 0;
  return in.size() / 4 * 3 - static_cast<size_t>(padding);
}

bool base64Decode(std::string_view in, std::string& out) {
  int padding = checkBase64(in);
  if (padding < 0) return false;
  if (in.empty()) return true;
  size_t at = out.size();
  out.resize(at + in.size() / 4 * 3);
  int written = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data() + at),
                                reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  if (written < 0) {
    out.resize(at);
    return false;
  }
  // EVP_DecodeBlock counts the padding as zero bytes.
  out.resize(at + static_cast<size_t>(written) - static_cast<size_t>(padding));
  return true;
}

void base64Append(std::string& out, std::string_view in) {
  size_t at = out.size();
  size_t encoded = 4 * ((in.size() + 2) / 3);
  out.resize(at + encoded + 1);  // EVP_EncodeBlock writes a terminating NUL
  int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data() + at),
                                reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(at + static_cast<size_t>(written));
}

void appendJsonString(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  size_t runStart = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(text.data() + runStart, i - runStart);
    runStart = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += "\\u00";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xF]);
    }
  }
  out.append(text.data() + runStart, text.size() - runStart);
  out.push_back('"');
}

size_t countUtf16Units(std::string_view utf8) {
  size_t count = 0;
  for (char c : utf8) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte & 0xC0) != 0x80) count += byte >= 0xF0 ? 2 : 1;  // 4-byte sequences are surrogate pairs
  }
  return count;
}

}  // namespace kinship::fake
