#include "sinks/kinesis/base64.h"

#include <array>
#include <bit>
#include <cstring>

namespace kinship::kinesis {

namespace {

// The eight-byte loads below read big-endian through a byte swap.
static_assert(std::endian::native == std::endian::little);

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// For every 12-bit value, the two characters that encode it.
constexpr std::array<char, 2 * 4096> makePairs() {
  std::array<char, 2 * 4096> pairs{};
  for (int v = 0; v < 4096; ++v) {
    pairs[2 * v] = kAlphabet[v >> 6];
    pairs[2 * v + 1] = kAlphabet[v & 63];
  }
  return pairs;
}

constexpr std::array<char, 2 * 4096> kPairs = makePairs();

inline void encodeTriple(uint32_t v, char* out) {
  std::memcpy(out, &kPairs[2 * (v >> 12)], 2);
  std::memcpy(out + 2, &kPairs[2 * (v & 0xfff)], 2);
}

}  // namespace

size_t base64Encode(const unsigned char* in, size_t n, char* out) {
  char* const start = out;
  size_t i = 0;
  // Six bytes (one 8-byte load, two bytes unused) give eight characters.
  for (; i + 8 <= n; i += 6, out += 8) {
    uint64_t x;
    std::memcpy(&x, in + i, 8);
    x = __builtin_bswap64(x);
    std::memcpy(out, &kPairs[2 * (x >> 52)], 2);
    std::memcpy(out + 2, &kPairs[2 * ((x >> 40) & 0xfff)], 2);
    std::memcpy(out + 4, &kPairs[2 * ((x >> 28) & 0xfff)], 2);
    std::memcpy(out + 6, &kPairs[2 * ((x >> 16) & 0xfff)], 2);
  }
  for (; i + 3 <= n; i += 3, out += 4) {
    encodeTriple((uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8) | in[i + 2], out);
  }
  size_t rest = n - i;
  if (rest == 1) {
    uint32_t v = uint32_t{in[i]} << 16;
    encodeTriple(v, out);
    out[2] = out[3] = '=';
    out += 4;
  } else if (rest == 2) {
    uint32_t v = (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8);
    encodeTriple(v, out);
    out[3] = '=';
    out += 4;
  }
  return static_cast<size_t>(out - start);
}

}  // namespace kinship::kinesis
