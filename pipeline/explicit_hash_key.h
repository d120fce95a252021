#pragma once
// Kinesis's ExplicitHashKey is a decimal number in [0, 2^128) written
// without leading zeros (pattern `0|([1-9]\d{0,38})`).

#include <string_view>

namespace kinship::pipeline {

// Returns `text` in that form: 1 to 39 ASCII digits with the leading zeros
// dropped ("007" gives "7", "000" gives "0"), a view into `text`. Returns an
// empty view when `text` is not such a number: empty, longer than 39
// characters, a sign, a non-digit, or 2^128 or more.
std::string_view canonicalExplicitHashKey(std::string_view text);

}  // namespace kinship::pipeline
