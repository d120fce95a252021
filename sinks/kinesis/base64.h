#pragma once
// Standard base64 (RFC 4648, with `=` padding) for PutRecords' Data fields.
// OpenSSL's EVP_EncodeBlock looks each 6-bit group up separately and was the
// largest single cost of shipping a GB (bench/RESULTS.md, issue 6); this
// encoder looks 12-bit groups up in a table of character pairs, two lookups
// per 3 input bytes, six input bytes per 8-byte load. Its output equals EVP_EncodeBlock's (without the NUL),
// which the unit test checks.

#include <cstddef>
#include <cstdint>

namespace kinship::kinesis {

constexpr size_t base64EncodedSize(size_t n) { return 4 * ((n + 2) / 3); }

// Writes base64EncodedSize(n) characters to `out`; returns that count.
size_t base64Encode(const unsigned char* in, size_t n, char* out);

}  // namespace kinship::kinesis
