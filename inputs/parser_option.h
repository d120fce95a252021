#pragma once
// The `parser` and `pattern` options every input takes, declared once so
// their defaults and help texts cannot drift between inputs; and the file
// input's variant, which also reads container log files (`cri`, `docker`)
// with an `inner_parser` for the application's lines.

#include "config/schema.h"
#include "pipeline/parser.h"
#include "pipeline/regex_parser.h"

namespace kinship::inputs {

// The part of the `parser` help that every input shares (a literal, so the
// file input's variant can extend it).
#define KINSHIP_PARSER_HELP                                                                                       \
  "How records are read for the fields that `partition_key` and `explicit_hash_key` name: `json` "               \
  "(a JSON object; `{a.b[0]}` walks into it), `logfmt` (`key=value` pairs, values bare or in double "             \
  "quotes with backslash escapes; a key such as `http.status` is one name), `regex` (the named groups "           \
  "of `pattern`), `syslog` (RFC 5424 or RFC 3164 as rsyslog and journald write it: `pri`, `facility`, "           \
  "`severity`, `facility_name`, `severity_name`, `version`, `timestamp`, `hostname`, `appname`, "                 \
  "`procid`, `msgid`, `message` and structured data as `sd.<SD-ID>.<name>`), or `raw` (no fields: "               \
  "keys come from the templates' literals or the fallbacks). A "                                                  \
  "record that does not parse is shipped all the same, keyed as one without fields, and counted in "              \
  "kinship_pipeline_parse_failures_total. Records are parsed only when a template names fields."

inline constexpr config::Option kParserOption{
    .name = "parser",
    .type = config::ValueType::kEnum,
    .defaultValue = "raw",
    .choices = "raw|json|logfmt|regex|syslog",
    .help = KINSHIP_PARSER_HELP " With the default `encoding: raw` the record's data is the line or datagram as "
                                "received, bytes unchanged."};

// The file input's `parser`: also the container log formats.
inline constexpr config::Option kFileParserOption{
    .name = "parser",
    .type = config::ValueType::kEnum,
    .defaultValue = "raw",
    .choices = "raw|json|logfmt|regex|syslog|cri|docker",
    .help = KINSHIP_PARSER_HELP
    " `cri` (containerd, CRI-O: `<time> <stream> <P|F> <log>`) and `docker` (json-file: "
    "`{\"log\":\"...\\n\",\"stream\":\"stdout\",\"time\":\"...\"}`) read Kubernetes node logs: the record's data "
    "is the application's line, unescaped and without its newline, the pieces the runtime cut (`P`, a `log` "
    "without its newline) joined up to `max_line_size` (longer: see `long_lines`), stdout and stderr apart; "
    "its fields are the runtime's `time` and `stream`, then what `inner_parser` finds in the application's "
    "line. A line that is not of the format is shipped whole, without fields, and counted. With the other "
    "parsers and the default `encoding: raw`, the record's data is the line as read, bytes unchanged."};

// The file input's `inner_parser`, for parser: cri and docker.
inline constexpr config::Option kInnerParserOption{
    .name = "inner_parser",
    .type = config::ValueType::kEnum,
    .defaultValue = "raw",
    .choices = "raw|json|logfmt|regex|syslog",
    .help = "With `parser: cri` or `docker` (and only then): how the application's line is read for more "
            "fields, as `parser` reads a plain line (`regex` takes `pattern`). `raw`: only the runtime's `time` "
            "and `stream`. An application field named `time` or `stream` is behind the runtime's. A line it "
            "cannot read keeps the runtime's fields, and is counted in kinship_pipeline_parse_failures_total "
            "under the inner parser's name."};

inline constexpr config::Option kPatternOption{
    .name = "pattern",
    .type = config::ValueType::kString,
    .nonEmpty = true,
    .help = "With `parser: regex` (and only then): an RE2 regular expression whose named groups, such as "
            "`(?P<level>\\w+)`, are the record's fields. It may match anywhere in the line (anchor it with `^` "
            "and `$`); a line it does not match is counted as a parse failure. Quote it in single quotes so that "
            "YAML keeps its backslashes."};

#undef KINSHIP_PARSER_HELP

// The parser named `name` (raw, json, logfmt, regex, syslog), read from
// `option`, with the section's `pattern` when it is regex.
inline pipeline::Parser lineParserFrom(const config::Section& section, const std::string& name,
                                       std::string_view option) {
  const bool hasPattern = section.has("pattern");
  if (name == "regex") {
    if (!hasPattern) section.fail(option, std::string(option) + ": regex needs a `pattern`");
    auto pattern = pipeline::RegexPattern::compile(section.getString("pattern"));
    if (!pattern) section.fail("pattern", pattern.error().message());
    return pipeline::Parser::regex(std::move(*pattern));
  }
  if (hasPattern) section.fail("pattern", "`pattern` applies to " + std::string(option) + ": regex only");
  if (name == "json") return pipeline::Parser::kJson;
  if (name == "logfmt") return pipeline::Parser::kLogfmt;
  if (name == "syslog") return pipeline::Parser::kSyslog;
  return pipeline::Parser::kRaw;
}

// A socket input's parser from its `parser` and `pattern` options (schema:
// kParserOption, kPatternOption); throws a ConfigError when they do not fit
// together or the pattern does not compile.
inline pipeline::Parser parserFrom(const config::Section& section) {
  return lineParserFrom(section, section.getString("parser"), "parser");
}

// The file input's parser from its `parser`, `inner_parser` and `pattern`
// options (schema: kFileParserOption, kInnerParserOption, kPatternOption).
inline pipeline::Parser fileParserFrom(const config::Section& section) {
  const std::string name = section.getString("parser");
  if (name != "cri" && name != "docker") {
    if (section.isSet("inner_parser")) {
      section.fail("inner_parser", "`inner_parser` applies to parser: cri and docker only");
    }
    return lineParserFrom(section, name, "parser");
  }
  return pipeline::Parser::container(name == "cri" ? pipeline::ParserKind::kCri : pipeline::ParserKind::kDocker,
                                     lineParserFrom(section, section.getString("inner_parser"), "inner_parser"));
}

}  // namespace kinship::inputs
