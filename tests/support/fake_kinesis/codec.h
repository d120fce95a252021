#pragma once
// Codecs the fake needs on its hot path: strict base64 (the JSON protocol's
// blob encoding), JSON string escaping for answers and the record log, and
// counting UTF-16 code units for the partition-key limit.
//
// Threading: pure functions, thread-safe.

#include <cstddef>
#include <string>
#include <string_view>

namespace kinship::fake {

// Decodes standard padded base64 (RFC 4648 section 4) and appends the bytes to
// `out`. Strict, like the service: length a multiple of 4, only the alphabet,
// at most two '=' and only at the end. Returns false (out unchanged) if not.
bool base64Decode(std::string_view in, std::string& out);
// Size of the decoded bytes of a string that base64Decode accepts.
size_t base64DecodedSize(std::string_view in);
// Appends the padded base64 encoding of `in` to `out`.
void base64Append(std::string& out, std::string_view in);

// Appends `text` (UTF-8) as a JSON string literal, quotes included.
void appendJsonString(std::string& out, std::string_view text);

// The length of valid UTF-8 (simdjson has validated it) in UTF-16 code
// units, as Kinesis (Java) and kinesalite (JavaScript) measure partition keys.
size_t countUtf16Units(std::string_view utf8);

}  // namespace kinship::fake
