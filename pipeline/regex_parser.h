#pragma once
// RegexPattern: an input's `pattern` (RE2 syntax), compiled once at startup,
// whose named groups (`(?P<level>\w+)`) are the record's fields. Immutable;
// shared by every line of the input, from any thread.
// RegexMatcher: one pipeline's matching state (the submatch buffer, grown
// once per pattern), used on its thread; its fields point into the line.

#include <re2/re2.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "pipeline/parser.h"
#include "pipeline/record_fields.h"

namespace kinship::pipeline {

class RegexPattern {
 public:
  // Fails on a pattern RE2 refuses or one without a named group (no
  // template could name a field).
  static Result<std::shared_ptr<const RegexPattern>> compile(std::string_view pattern);

  const RE2& re2() const { return re2_; }
  // Each named group's name and its group number, in group-number order.
  const std::vector<std::pair<std::string, int>>& groups() const { return groups_; }

 private:
  explicit RegexPattern(std::string_view pattern);

  RE2 re2_;
  std::vector<std::pair<std::string, int>> groups_;
};

class RegexMatcher final : public RecordFields {
 public:
  // Matches `line` against `pattern` (anywhere in the line: anchor with ^
  // and $ to match all of it). Returns the failure, or nothing on a match.
  std::optional<ParseFailure> match(const RegexPattern& pattern, std::string_view line);

  // The text of the named group `path.text` (of the first that took part
  // in the match, when several share the name); false when none did.
  bool appendValue(const FieldPath& path, std::string& out) const override;
  // The named groups that took part in the match, in group order, as
  // strings; a name shared by groups once, with the first that matched.
  bool writeJson(JsonWriter& out) const override;

 private:
  const RegexPattern* pattern_ = nullptr;
  std::vector<re2::StringPiece> submatches_;
};

}  // namespace kinship::pipeline
