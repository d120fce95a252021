#include "pipeline/record_filter_options.h"

#include <re2/re2.h>

#include <set>

#include <fmt/format.h>

#include "config/config.h"
#include "config/schema.h"

namespace kinship::pipeline {

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
