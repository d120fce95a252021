#pragma once
// StampFinder: reads the write time a load generator embedded in a record,
// as `"<field>":<unix nanoseconds>` anywhere in the record's data (the
// benchmark's JSON lines carry `"ts":1700000000123456789`), so the fake can
// measure line written -> record accepted. A plain substring search, not a
// JSON parse: the first occurrence wins and the value must be digits.
//
// Threading: const after construction, shared freely.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kinship::fake {

class StampFinder {
 public:
  // An empty field: disabled, find() always answers nullopt.
  explicit StampFinder(std::string_view field = {});

  bool enabled() const { return !needle_.empty(); }
  // The stamp in nanoseconds since the Unix epoch, or nullopt when the data
  // lacks the field or its value is not 1..19 digits.
  std::optional<uint64_t> find(std::string_view data) const;

 private:
  std::string needle_;  // "\"<field>\":"
};

}  // namespace kinship::fake
