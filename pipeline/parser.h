#pragma once
// Parser: how an input's lines are read for their fields (the `parser`
// option): not at all (raw), as a JSON object, as logfmt pairs, by a
// regular expression's named groups, or as a syslog message; or, for
// container log files (cri, docker), unwrapped from what the container
// runtime wrote around the application's line, which is then read by an
// inner parser (one of the others; see pipeline/container_log.h). Built once
// per input at startup and passed by reference with every line; immutable
// and cheap to copy (a regex parser shares its compiled pattern).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace kinship::pipeline {

class RegexPattern;

enum class ParserKind { kRaw, kJson, kLogfmt, kRegex, kSyslog, kCri, kDocker };
inline constexpr size_t kParserKindCount = 7;

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
  kBadTime,            // cri: the line does not begin with an RFC 3339 time and a space
  kBadStream,          // cri: no `stdout` or `stderr` after the time
  kBadTag,             // cri: no `P` or `F` tag (possibly with more `:`-separated tags) after the stream
  kNoLog,              // docker: a JSON object without a string `log` member
};
inline constexpr size_t kParseFailureCount = 13;
std::string_view parseFailureName(ParseFailure failure);
std::string_view parserName(ParserKind kind);

// A parser and one reason it can give: a series of
// kinship_pipeline_parse_failures_total.
struct ParserFailure {
  ParserKind parser;
  ParseFailure failure;
};
// Every reason each parser can give, in the order of ParserKind (docker's
// invalid_json and not_an_object are json's names for the same reasons).
std::span<const ParserFailure> parserFailures();
// "json: invalid_json, not_an_object; logfmt: ...": the reasons by parser,
// for help texts.
std::string parserFailuresText();

class Parser {
 public:
  static const Parser kRaw;
  static const Parser kJson;
  static const Parser kLogfmt;
  static const Parser kSyslog;
  static Parser regex(std::shared_ptr<const RegexPattern> pattern) { return Parser(ParserKind::kRegex, std::move(pattern)); }
  // A container log format (kCri or kDocker) whose application lines are
  // read by `inner` (any parser but another container format).
  static Parser container(ParserKind format, const Parser& inner) {
    return Parser(format, inner.pattern_, inner.kind_);
  }

  ParserKind kind() const { return kind_; }
  bool isContainer() const { return kind_ == ParserKind::kCri || kind_ == ParserKind::kDocker; }
  // What reads the application's line of a container format; the parser
  // itself for the others.
  Parser inner() const { return isContainer() ? Parser(inner_, pattern_) : *this; }
  // The pattern of a regex parser (or of a container format's regex inner
  // parser); null for the others.
  const RegexPattern* pattern() const { return pattern_.get(); }

  bool operator==(const Parser& other) const {
    return kind_ == other.kind_ && inner_ == other.inner_ && pattern_ == other.pattern_;
  }

 private:
  explicit Parser(ParserKind kind, std::shared_ptr<const RegexPattern> pattern = nullptr,
                  ParserKind inner = ParserKind::kRaw)
      : kind_(kind), inner_(inner), pattern_(std::move(pattern)) {}

  ParserKind kind_;
  ParserKind inner_;  // container formats only
  std::shared_ptr<const RegexPattern> pattern_;
};

inline const Parser Parser::kRaw{ParserKind::kRaw};
inline const Parser Parser::kJson{ParserKind::kJson};
inline const Parser Parser::kLogfmt{ParserKind::kLogfmt};
inline const Parser Parser::kSyslog{ParserKind::kSyslog};

}  // namespace kinship::pipeline
