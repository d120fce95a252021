#include "pipeline/parser.h"

namespace kinship::pipeline {

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
  }
  return "unknown";
}

}  // namespace kinship::pipeline
