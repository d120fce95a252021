#include "pipeline/record_filter.h"

#include <re2/re2.h>

#include <array>

namespace kinship::pipeline {
namespace {

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    if (x != b[i]) return false;
  }
  return true;
}

}  // namespace

std::optional<int> logLevelRank(std::string_view text) {
  struct Level {
    std::string_view name;
    int rank;
  };
  static constexpr std::array<Level, 24> kLevels = {{
      {"trace", 1}, {"debug", 2},    {"info", 3},      {"notice", 4}, {"warn", 5},      {"warning", 5},
      {"error", 6}, {"err", 6},      {"crit", 7},      {"critical", 7}, {"alert", 8},   {"emerg", 9},
      {"emergency", 9}, {"fatal", 9}, {"panic", 9},
      // pino and bunyan
      {"10", 1}, {"20", 2}, {"30", 3}, {"40", 5}, {"50", 6}, {"60", 9},
      // short forms some loggers write
      {"dbg", 2}, {"inf", 3}, {"wrn", 5},
  }};
  for (const Level& level : kLevels) {
    if (equalsIgnoreCase(text, level.name)) return level.rank;
  }
  return std::nullopt;
}

RecordFilters::RecordFilters(std::vector<RecordFilter> filters) : filters_(std::move(filters)) {
  for (const RecordFilter& filter : filters_) needsFields_ = needsFields_ || filter.field.has_value();
}

bool RecordFilters::meets(const RecordFilter& filter, std::string_view value) const {
  switch (filter.condition) {
    case RecordFilter::Condition::kEquals:
      return value == filter.equals;
    case RecordFilter::Condition::kMatches:
      return RE2::PartialMatch(value, *filter.pattern);
    case RecordFilter::Condition::kLevelAtLeast: {
      auto rank = logLevelRank(value);
      return rank && *rank >= filter.level;
    }
  }
  return false;
}

std::optional<size_t> RecordFilters::dropping(std::string_view line, const RecordFields& fields,
                                              std::string& scratch) const {
  for (size_t i = 0; i < filters_.size(); ++i) {
    const RecordFilter& filter = filters_[i];
    bool met = false;
    if (!filter.field) {
      met = meets(filter, line);
    } else {
      scratch.clear();
      met = fields.appendValue(*filter.field, scratch) && meets(filter, scratch);
    }
    if (met != filter.keep) return i;
  }
  return std::nullopt;
}

}  // namespace kinship::pipeline
