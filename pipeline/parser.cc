#include "pipeline/parser.h"

namespace kinship::pipeline {

namespace {

constexpr ParserFailure kParserFailures[] = {
    {ParserKind::kJson, ParseFailure::kInvalidJson},
    {ParserKind::kJson, ParseFailure::kNotAnObject},
    {ParserKind::kLogfmt, ParseFailure::kNoPairs},
    {ParserKind::kLogfmt, ParseFailure::kUnterminatedQuote},
    {ParserKind::kLogfmt, ParseFailure::kMalformed},
    {ParserKind::kRegex, ParseFailure::kNoMatch},
    {ParserKind::kSyslog, ParseFailure::kNoSyslogHeader},
    {ParserKind::kSyslog, ParseFailure::kBadPriority},
    {ParserKind::kSyslog, ParseFailure::kBadStructuredData},
    {ParserKind::kCri, ParseFailure::kBadTime},
    {ParserKind::kCri, ParseFailure::kBadStream},
    {ParserKind::kCri, ParseFailure::kBadTag},
    {ParserKind::kDocker, ParseFailure::kInvalidJson},
    {ParserKind::kDocker, ParseFailure::kNotAnObject},
    {ParserKind::kDocker, ParseFailure::kNoLog},
};

}  // namespace

std::string_view parseFailureName(ParseFailure failure) {
  switch (failure) {
    case ParseFailure::kInvalidJson: return "invalid_json";
    case ParseFailure::kNotAnObject: return "not_an_object";
    case ParseFailure::kNoPairs: return "no_pairs";
    case ParseFailure::kUnterminatedQuote: return "unterminated_quote";
    case ParseFailure::kMalformed: return "malformed";
    case ParseFailure::kNoMatch: return "no_match";
    case ParseFailure::kNoSyslogHeader: return "no_header";
    case ParseFailure::kBadPriority: return "bad_priority";
    case ParseFailure::kBadStructuredData: return "bad_structured_data";
    case ParseFailure::kBadTime: return "bad_time";
    case ParseFailure::kBadStream: return "bad_stream";
    case ParseFailure::kBadTag: return "bad_tag";
    case ParseFailure::kNoLog: return "no_log";
  }
  return "unknown";
}

std::string_view parserName(ParserKind kind) {
  switch (kind) {
    case ParserKind::kRaw: return "raw";
    case ParserKind::kJson: return "json";
    case ParserKind::kLogfmt: return "logfmt";
    case ParserKind::kRegex: return "regex";
    case ParserKind::kSyslog: return "syslog";
    case ParserKind::kCri: return "cri";
    case ParserKind::kDocker: return "docker";
  }
  return "unknown";
}

std::span<const ParserFailure> parserFailures() { return kParserFailures; }

std::string parserFailuresText() {
  std::string text;
  for (size_t i = 0; i < std::size(kParserFailures); ++i) {
    const ParserFailure& f = kParserFailures[i];
    if (i == 0 || kParserFailures[i - 1].parser != f.parser) {
      if (i != 0) text += "; ";
      text += parserName(f.parser);
      text += ": ";
    } else {
      text += ", ";
    }
    text += parseFailureName(f.failure);
  }
  return text;
}

}  // namespace kinship::pipeline
