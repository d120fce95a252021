#pragma once
// The `parser` and `pattern` options every input takes, declared once so
// their defaults and help texts cannot drift between inputs.

#include "config/schema.h"
#include "pipeline/parser.h"
#include "pipeline/regex_parser.h"

namespace kinship::inputs {

inline constexpr config::Option kParserOption{
    .name = "parser",
    .type = config::ValueType::kEnum,
    .defaultValue = "raw",
    .choices = "raw|json|logfmt|regex|syslog",
    .help = "How records are read for the fields that `partition_key` and `explicit_hash_key` name: `json` "
            "(a JSON object; `{a.b[0]}` walks into it), `logfmt` (`key=value` pairs, values bare or in double "
            "quotes with backslash escapes; a key such as `http.status` is one name), `regex` (the named groups "
            "of `pattern`), `syslog` (RFC 5424 or RFC 3164 as rsyslog and journald write it: `pri`, `facility`, "
            "`severity`, `facility_name`, `severity_name`, `version`, `timestamp`, `hostname`, `appname`, "
            "`procid`, `msgid`, `message` and structured data as `sd.<SD-ID>.<name>`), or `raw` (no fields: "
            "keys come from the templates' literals or the fallbacks). A "
            "record that does not parse is shipped all the same, keyed as one without fields, and counted in "
            "kinship_pipeline_parse_failures_total. Records are parsed only when a template names fields. The "
            "record's data is always the line or datagram as received, bytes unchanged."};

inline constexpr config::Option kPatternOption{
    .name = "pattern",
    .type = config::ValueType::kString,
    .nonEmpty = true,
    .help = "With `parser: regex` (and only then): an RE2 regular expression whose named groups, such as "
            "`(?P<level>\\w+)`, are the record's fields. It may match anywhere in the line (anchor it with `^` "
            "and `$`); a line it does not match is counted as a parse failure. Quote it in single quotes so that "
            "YAML keeps its backslashes."};

// The input's parser from its `parser` and `pattern` options; throws a
// ConfigError when they do not fit together or the pattern does not compile.
inline pipeline::Parser parserFrom(const config::Section& section) {
  const std::string name = section.getString("parser");
  const bool hasPattern = section.has("pattern");
  if (name == "regex") {
    if (!hasPattern) section.fail("parser", "parser: regex needs a `pattern`");
    auto pattern = pipeline::RegexPattern::compile(section.getString("pattern"));
    if (!pattern) section.fail("pattern", pattern.error().message());
    return pipeline::Parser::regex(std::move(*pattern));
  }
  if (hasPattern) section.fail("pattern", "`pattern` applies to parser: regex only");
  if (name == "json") return pipeline::Parser::kJson;
  if (name == "logfmt") return pipeline::Parser::kLogfmt;
  if (name == "syslog") return pipeline::Parser::kSyslog;
  return pipeline::Parser::kRaw;
}

}  // namespace kinship::inputs
