#pragma once
// Parser: how an input's lines are read for their fields (the `parser`
// option): not at all (raw), as a JSON object, as logfmt pairs, by a
// regular expression's named groups, or as a syslog message. Built once per input at startup and
// passed by reference with every line; immutable and cheap to copy (a
// regex parser shares its compiled pattern).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace kinship::pipeline {

class RegexPattern;

enum class ParserKind { kRaw, kJson, kLogfmt, kRegex, kSyslog };
inline constexpr size_t kParserKindCount = 5;

// Why a line did not parse: the `reason` label of
// kinship_pipeline_parse_failures_total (its `parser` label is the kind).
enum class ParseFailure : uint8_t {
  kInvalidJson,        // json: not JSON at all (or an integer of 2^64 or more, which simdjson refuses)
  kNotAnObject,        // json: valid JSON, but an array, string, number, ...
  kNoPairs,            // logfmt: no key=value pair (free text, an empty line)
  kUnterminatedQuote,  // logfmt: a quoted value without its closing quote
  kMalformed,          // logfmt: a key with a quote, an empty key, text right after a closing quote
  kNoMatch,            // regex: the pattern does not match the line
  kNoSyslogHeader,     // syslog: neither <PRI> nor a timestamp, or an RFC 5424 header cut short
  kBadPriority,        // syslog: <PRI> not 1 to 3 digits of at most 191
  kBadStructuredData,  // syslog: RFC 5424 structured data that does not parse
};
inline constexpr size_t kParseFailureCount = 9;
std::string_view parseFailureName(ParseFailure failure);
std::string_view parserName(ParserKind kind);

class Parser {
 public:
  static const Parser kRaw;
  static const Parser kJson;
  static const Parser kLogfmt;
  static const Parser kSyslog;
  static Parser regex(std::shared_ptr<const RegexPattern> pattern) { return Parser(ParserKind::kRegex, std::move(pattern)); }

  ParserKind kind() const { return kind_; }
  // The pattern of a regex parser; null for the others.
  const RegexPattern* pattern() const { return pattern_.get(); }

  bool operator==(const Parser& other) const { return kind_ == other.kind_ && pattern_ == other.pattern_; }

 private:
  explicit Parser(ParserKind kind, std::shared_ptr<const RegexPattern> pattern = nullptr)
      : kind_(kind), pattern_(std::move(pattern)) {}

  ParserKind kind_;
  std::shared_ptr<const RegexPattern> pattern_;
};

inline const Parser Parser::kRaw{ParserKind::kRaw};
inline const Parser Parser::kJson{ParserKind::kJson};
inline const Parser Parser::kLogfmt{ParserKind::kLogfmt};
inline const Parser Parser::kSyslog{ParserKind::kSyslog};

}  // namespace kinship::pipeline
