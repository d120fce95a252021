#pragma once
// SyslogParser: reads a syslog message into fields that point into the
// line, so parsing copies nothing. One per pipeline, used on its thread;
// the fields are valid until the next parse() and while the line's bytes
// are. Two formats, told apart by what follows the priority:
//
//   RFC 5424: `<165>1 2003-10-11T22:14:15.003Z host app 1234 ID47
//   [exampleSDID@32473 iut="3" eventSource="App"] message` — a version,
//   five header fields (`-` for none), structured data (`-` or elements of
//   `[SD-ID name="value" ...]`, values with `\"`, `\\` and `\]` escaped),
//   then the message, a UTF-8 BOM before it left out.
//
//   RFC 3164 (BSD) as rsyslog, syslog(3) and systemd-journald write it:
//   `<34>Oct 11 22:14:15 host su[123]: message`. Local senders (/dev/log)
//   leave the host out (`<30>Dec  7 06:00:00 systemd[1]: Started`): a token
//   ending in `:` or holding `[` right after the timestamp is the tag. The
//   timestamp may also be RFC 3339 (rsyslog's high-precision format), and
//   the `<PRI>` may be missing (lines of /var/log/syslog), in which case the
//   timestamp is required. A tag is the appname, its `[pid]` the procid.
//
// Fields (absent when the message has none, or `-`):
//   pri, facility, severity       numbers ("165", "20", "5")
//   facility_name, severity_name  keywords ("local4", "notice")
//   version                       "1" (RFC 5424 only)
//   timestamp, hostname, appname, procid, msgid, message   as written
//   sd.<SD-ID>.<PARAM-NAME>       a structured-data parameter, unescaped
//                                 (`{sd.exampleSDID@32473.iut}`); the first
//                                 when a message repeats one

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/parser.h"
#include "pipeline/record_fields.h"

namespace kinship::pipeline {

class SyslogParser final : public RecordFields {
 public:
  // Returns the failure, or nothing when `line` parsed; after a failure the
  // parser has no fields.
  std::optional<ParseFailure> parse(std::string_view line);

  bool appendValue(const FieldPath& path, std::string& out) const override;
  // The header's fields in the order of the list above (pri, facility and
  // severity as numbers, the others as strings), then the structured data
  // as "sd": {SD-ID: {PARAM-NAME: value}} with IDs and names sorted, each
  // once (the first, as in templates).
  bool writeJson(JsonWriter& out) const override;

  struct Header {
    int priority = -1;  // -1: none (a line without `<PRI>`)
    std::string_view version, timestamp, hostname, appname, procid, msgid, message;
    bool rfc5424 = false;
  };
  struct Param {
    std::string_view id;
    std::string_view name;
    std::string_view value;  // as written, between the quotes
  };
  const Header& header() const { return header_; }
  const std::vector<Param>& params() const { return params_; }

 private:
  std::optional<ParseFailure> parse5424(std::string_view rest);
  std::optional<ParseFailure> parse3164(std::string_view rest);
  std::optional<ParseFailure> parseStructuredData(std::string_view& rest);
  std::optional<ParseFailure> fail(ParseFailure failure);

  Header header_;
  std::vector<Param> params_;
  mutable std::vector<uint32_t> order_;  // writeJson()'s, kept for the next line
};

// Appends a structured-data value (between its quotes) unescaped.
void appendSyslogParamUnescaped(std::string_view quoted, std::string& out);

// RFC 5424's keywords for a facility (0..23) and a severity (0..7).
std::string_view syslogFacilityName(int facility);
std::string_view syslogSeverityName(int severity);

}  // namespace kinship::pipeline
