#pragma once
// RecordFilters: the pipeline's `filters`, which keep or drop records
// before their keys are rendered, so that noise never costs a Kinesis
// record. Each filter tests one condition on a field of the parsed record
// (or on the whole line when it names none):
//   equals: TEXT         the value is exactly TEXT
//   matches: RE2         the value holds a match of the expression
//   level_at_least: LVL  the value is a log level at or above LVL
// and, with `action: drop` (the default), drops the records that meet it,
// or with `action: keep`, drops those that do not. A record lacking the
// field does not meet the condition. Filters run in order; the first that
// drops a record is the one counted (kinship_pipeline_filtered_total{filter}).
//
// Levels, case-insensitive: trace < debug < info < notice < warn, warning <
// error, err < crit, critical < alert < emerg, emergency, fatal, panic; and
// the numbers of pino and bunyan (10 trace, 20 debug, 30 info, 40 warn,
// 50 error, 60 fatal). Anything else is not a level.
//
// Built once at startup (from the options: record_filter_options.h);
// immutable afterwards and used on the pipeline's thread with a scratch
// string of its own, so testing allocates nothing per record.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/field_path.h"
#include "pipeline/record_fields.h"

namespace re2 {
class RE2;
}

namespace kinship::pipeline {

// A level's rank (trace 1 ... fatal 9), or nothing when `text` is not one.
std::optional<int> logLevelRank(std::string_view text);

struct RecordFilter {
  enum class Condition : uint8_t { kEquals, kMatches, kLevelAtLeast };
  std::string name;
  bool keep = false;                // action: keep (drop what fails); else drop what passes
  std::optional<FieldPath> field;   // none: the whole line
  Condition condition = Condition::kEquals;
  std::string equals;
  std::shared_ptr<const re2::RE2> pattern;
  int level = 0;                    // kLevelAtLeast: the rank
};

class RecordFilters {
 public:
  RecordFilters() = default;
  explicit RecordFilters(std::vector<RecordFilter> filters);

  bool empty() const { return filters_.empty(); }
  size_t size() const { return filters_.size(); }
  const RecordFilter& operator[](size_t i) const { return filters_[i]; }
  // Whether some filter reads a field (the line must then be parsed).
  bool needsFields() const { return needsFields_; }

  // The index of the filter that drops the record, or nothing when every
  // filter lets it through. `scratch` holds field values between calls.
  std::optional<size_t> dropping(std::string_view line, const RecordFields& fields, std::string& scratch) const;

 private:
  bool meets(const RecordFilter& filter, std::string_view value) const;

  std::vector<RecordFilter> filters_;
  bool needsFields_ = false;
};

}  // namespace kinship::pipeline
