#include "pipeline/record_filter.h"

#include <re2/re2.h>

#include <array>
#include <set>

#include <fmt/format.h>

#include "config/config.h"
#include "config/schema.h"

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

RecordFilters recordFiltersFrom(const config::Section& pipelineOptions) {
  std::vector<RecordFilter> filters;
  std::set<std::string, std::less<>> names;
  for (const config::Section& options : pipelineOptions.nestedList("filters", config::filterSchema())) {
    RecordFilter filter;
    filter.name = options.getString("name");
    if (!names.insert(filter.name).second) {
      options.fail("name", fmt::format("another filter of this pipeline is named \"{}\"", filter.name));
    }
    filter.keep = options.getString("action") == "keep";
    const int conditions = int{options.has("equals")} + int{options.has("matches")} + int{options.has("level_at_least")};
    if (conditions != 1) {
      options.fail(conditions == 0 ? "name" : "equals",
                   "a filter takes exactly one condition: `equals`, `matches` or `level_at_least`");
    }
    if (options.has("equals")) {
      filter.condition = RecordFilter::Condition::kEquals;
      filter.equals = options.getString("equals");
    } else if (options.has("matches")) {
      filter.condition = RecordFilter::Condition::kMatches;
      RE2::Options re2Options;
      re2Options.set_log_errors(false);
      auto pattern = std::make_shared<const RE2>(options.getString("matches"), re2Options);
      if (!pattern->ok()) options.fail("matches", "not an RE2 expression: " + pattern->error());
      filter.pattern = std::move(pattern);
    } else {
      filter.condition = RecordFilter::Condition::kLevelAtLeast;
      filter.level = *logLevelRank(options.getString("level_at_least"));
    }
    std::string field = options.has("field") ? options.getString("field")
                        : filter.condition == RecordFilter::Condition::kLevelAtLeast ? std::string("level")
                                                                                      : std::string();
    if (!field.empty()) {
      auto path = FieldPath::parse(field);
      if (!path) options.fail("field", path.error().message());
      filter.field = std::move(*path);
    }
    filters.push_back(std::move(filter));
  }
  return RecordFilters(std::move(filters));
}

}  // namespace kinship::pipeline
