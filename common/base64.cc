#include "common/base64.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <array>
#include <bit>
#include <cstring>

namespace kinship {

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

#if defined(__x86_64__)
// AVX2: 24 input bytes to 32 characters per step (the multiply-shift and
// lookup method of Muła and Lemire, "Faster Base64 Encoding and Decoding
// using AVX2 Instructions", 2018). Returns the input bytes consumed; the
// caller encodes the rest. Reads at most 28 bytes past each step's start.
__attribute__((target("avx2"))) size_t encodeAvx2(const unsigned char* in, size_t n, char* out) {
  const __m256i shuffle = _mm256_setr_epi8(1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10,  //
                                           1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10);
  // Offset to add to a 6-bit value, chosen by its class (see below).
  const __m256i offsets = _mm256_setr_epi8(71, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -19, -16, 65, 0, 0,  //
                                           71, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -19, -16, 65, 0, 0);
  size_t i = 0;
  for (; i + 28 <= n; i += 24, out += 32) {
    // Twelve bytes in each 128-bit lane, as the lane shuffle needs them.
    __m256i v = _mm256_setr_m128i(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i)),
                                  _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i + 12)));
    v = _mm256_shuffle_epi8(v, shuffle);
    // Move each 6-bit group into a byte of its own.
    __m256i a = _mm256_mulhi_epu16(_mm256_and_si256(v, _mm256_set1_epi32(0x0fc0fc00)), _mm256_set1_epi32(0x04000040));
    __m256i b = _mm256_mullo_epi16(_mm256_and_si256(v, _mm256_set1_epi32(0x003f03f0)), _mm256_set1_epi32(0x01000010));
    __m256i idx = _mm256_or_si256(a, b);
    // Class: 0 for 26..51, 1..12 for 52..63, 13 for 0..25.
    __m256i cls = _mm256_subs_epu8(idx, _mm256_set1_epi8(51));
    cls = _mm256_or_si256(cls, _mm256_and_si256(_mm256_cmpgt_epi8(_mm256_set1_epi8(26), idx), _mm256_set1_epi8(13)));
    __m256i chars = _mm256_add_epi8(idx, _mm256_shuffle_epi8(offsets, cls));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), chars);
  }
  return i;
}

bool haveAvx2() {
  static const bool have = __builtin_cpu_supports("avx2");
  return have;
}
#else
// Other architectures (arm64) use the pair table only.
size_t encodeAvx2(const unsigned char*, size_t, char*) { return 0; }
bool haveAvx2() { return false; }
#endif

}  // namespace

size_t base64Encode(const unsigned char* in, size_t n, char* out) {
  size_t done = haveAvx2() ? encodeAvx2(in, n, out) : 0;
  return done / 3 * 4 + base64EncodeScalar(in + done, n - done, out + done / 3 * 4);
}

size_t base64EncodeScalar(const unsigned char* in, size_t n, char* out) {
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

}  // namespace kinship
