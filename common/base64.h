#pragma once
// Standard base64 (RFC 4648, with `=` padding): PutRecords' Data fields and
// the dead-letter file's data.
// OpenSSL's EVP_EncodeBlock looks each 6-bit group up separately and was the
// largest single cost of shipping a GB (bench/RESULTS.md, issue 6), and
// Debian 12 packages no SIMD base64 library. This encoder uses AVX2 when the
// CPU has it (24 bytes per step) and otherwise, and for the tail, looks
// 12-bit groups up in a table of character pairs. Its output equals
// EVP_EncodeBlock's (without the NUL), which the unit test checks.

#include <cstddef>
#include <cstdint>

namespace kinship {

constexpr size_t base64EncodedSize(size_t n) { return 4 * ((n + 2) / 3); }

// Writes base64EncodedSize(n) characters to `out`; returns that count.
size_t base64Encode(const unsigned char* in, size_t n, char* out);
// The same without AVX2 (what base64Encode uses on CPUs without it, and for
// the last bytes); exposed for the tests.
size_t base64EncodeScalar(const unsigned char* in, size_t n, char* out);

}  // namespace kinship
