#include "tests/support/fake_kinesis/latency_stamp.h"

#include <algorithm>
#include <charconv>

namespace kinship::fake {

StampFinder::StampFinder(std::string_view field) {
  if (field.empty()) return;
  // Appended piecewise: g++ 12 at -O3 reports a false -Wrestrict for "\"" + std::string(field).
  needle_.reserve(field.size() + 3);
  needle_ += '"';
  needle_ += field;
  needle_ += "\":";
}

std::optional<uint64_t> StampFinder::find(std::string_view data) const {
  if (needle_.empty()) return std::nullopt;
  size_t at = data.find(needle_);
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view rest = data.substr(at + needle_.size());
  // 19 digits is the most that surely fits in 64 bits; a stamp has 19 until 2286.
  if (rest.empty() || rest.front() < '0' || rest.front() > '9') return std::nullopt;
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(rest.data(), rest.data() + std::min<size_t>(rest.size(), 20), value);
  if (ec != std::errc() || end - rest.data() > 19) return std::nullopt;
  return value;
}

}  // namespace kinship::fake
