#include "pipeline/explicit_hash_key.h"

namespace kinship::pipeline {

std::string_view canonicalExplicitHashKey(std::string_view text) {
  static constexpr std::string_view kMax = "340282366920938463463374607431768211455";  // 2^128 - 1
  if (text.empty() || text.size() > kMax.size()) return {};
  for (char c : text) {
    if (c < '0' || c > '9') return {};
  }
  // Digit strings of equal length compare as their values do.
  if (text.size() == kMax.size() && text > kMax) return {};
  size_t first = text.find_first_not_of('0');
  return first == std::string_view::npos ? text.substr(text.size() - 1) : text.substr(first);
}

}  // namespace kinship::pipeline
