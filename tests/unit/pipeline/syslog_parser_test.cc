// The syslog parser on real lines: rsyslog and syslog(3) (RFC 3164, with
// and without a host name), systemd-journald's forwarding, /var/log/syslog
// lines without a priority, rsyslog's RFC 3339 file format, RFC 5424 with
// structured data, escapes and a BOM; and what is not syslog.

#include "pipeline/syslog_parser.h"

#include <gtest/gtest.h>

#include <map>

namespace kinship::pipeline {
namespace {

using Fields = std::map<std::string, std::string>;

const char* const kNames[] = {"pri",       "facility", "severity", "facility_name", "severity_name", "version",
                              "timestamp", "hostname", "appname",  "procid",        "msgid",         "message"};

// Every field the line has, by the name a template uses.
Fields fieldsOf(const SyslogParser& parser) {
  Fields out;
  for (const char* name : kNames) {
    auto path = FieldPath::parse(name);
    std::string value;
    if (parser.appendValue(*path, value)) out[name] = value;
  }
  for (const auto& param : parser.params()) {
    std::string name = "sd." + std::string(param.id) + "." + std::string(param.name);
    auto path = FieldPath::parse(name);
    std::string value;
    if (path && parser.appendValue(*path, value)) out[name] = value;
  }
  return out;
}

struct Sample {
  const char* what;
  std::string line;
  Fields fields;
};

TEST(SyslogParser, ReadsRealLines) {
  const Sample samples[] = {
      {"RFC 3164 from rsyslog over the network",
       "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8",
       {{"pri", "34"},
        {"facility", "4"},
        {"severity", "2"},
        {"facility_name", "auth"},
        {"severity_name", "crit"},
        {"timestamp", "Oct 11 22:14:15"},
        {"hostname", "mymachine"},
        {"appname", "su"},
        {"message", "'su root' failed for lonvick on /dev/pts/8"}}},
      {"RFC 3164 with a pid and a space-padded day",
       "<86>Dec  7 06:00:01 web-1 sshd[4721]: Accepted publickey for deploy from 10.0.0.5 port 52514 ssh2",
       {{"pri", "86"},
        {"facility", "10"},
        {"severity", "6"},
        {"facility_name", "authpriv"},
        {"severity_name", "info"},
        {"timestamp", "Dec  7 06:00:01"},
        {"hostname", "web-1"},
        {"appname", "sshd"},
        {"procid", "4721"},
        {"message", "Accepted publickey for deploy from 10.0.0.5 port 52514 ssh2"}}},
      {"syslog(3) over /dev/log, as journald forwards it: no host name",
       "<30>Dec  7 06:00:00 systemd[1]: Started Daily apt download activities.",
       {{"pri", "30"},
        {"facility", "3"},
        {"severity", "6"},
        {"facility_name", "daemon"},
        {"severity_name", "info"},
        {"timestamp", "Dec  7 06:00:00"},
        {"appname", "systemd"},
        {"procid", "1"},
        {"message", "Started Daily apt download activities."}}},
      {"the kernel's tag, no pid",
       "<4>Dec  7 06:00:00 node-3 kernel: [ 1234.5678] oom-kill:constraint=CONSTRAINT_NONE",
       {{"pri", "4"},
        {"facility", "0"},
        {"severity", "4"},
        {"facility_name", "kern"},
        {"severity_name", "warning"},
        {"timestamp", "Dec  7 06:00:00"},
        {"hostname", "node-3"},
        {"appname", "kernel"},
        {"message", "[ 1234.5678] oom-kill:constraint=CONSTRAINT_NONE"}}},
      {"a /var/log/syslog line: no priority",
       "Dec  7 06:25:01 web-1 CRON[9921]: (root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)",
       {{"timestamp", "Dec  7 06:25:01"},
        {"hostname", "web-1"},
        {"appname", "CRON"},
        {"procid", "9921"},
        {"message", "(root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)"}}},
      {"rsyslog's high-precision file format (RFC 3339 timestamp)",
       "2026-12-07T06:25:01.123456+00:00 web-1 nginx[77]: GET /health 200",
       {{"timestamp", "2026-12-07T06:25:01.123456+00:00"},
        {"hostname", "web-1"},
        {"appname", "nginx"},
        {"procid", "77"},
        {"message", "GET /health 200"}}},
      {"a priority and then only text (RFC 3164 4.3.3)",
       "<13>just a message",
       {{"pri", "13"},
        {"facility", "1"},
        {"severity", "5"},
        {"facility_name", "user"},
        {"severity_name", "notice"},
        {"message", "just a message"}}},
      {"RFC 5424 example 1: no structured data, a BOM before the message",
       "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \xEF\xBB\xBF'su root' failed for lonvick",
       {{"pri", "34"},
        {"facility", "4"},
        {"severity", "2"},
        {"facility_name", "auth"},
        {"severity_name", "crit"},
        {"version", "1"},
        {"timestamp", "2003-10-11T22:14:15.003Z"},
        {"hostname", "mymachine.example.com"},
        {"appname", "su"},
        {"msgid", "ID47"},
        {"message", "'su root' failed for lonvick"}}},
      {"RFC 5424 example 3: structured data and a message",
       "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
       "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"] An application event",
       {{"pri", "165"},
        {"facility", "20"},
        {"severity", "5"},
        {"facility_name", "local4"},
        {"severity_name", "notice"},
        {"version", "1"},
        {"timestamp", "2003-10-11T22:14:15.003Z"},
        {"hostname", "mymachine.example.com"},
        {"appname", "evntslog"},
        {"msgid", "ID47"},
        {"message", "An application event"},
        {"sd.exampleSDID@32473.iut", "3"},
        {"sd.exampleSDID@32473.eventSource", "Application"},
        {"sd.exampleSDID@32473.eventID", "1011"}}},
      {"RFC 5424 example 4: two elements, no message",
       "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
       "[exampleSDID@32473 iut=\"3\"][examplePriority@32473 class=\"high\"]",
       {{"pri", "165"},
        {"facility", "20"},
        {"severity", "5"},
        {"facility_name", "local4"},
        {"severity_name", "notice"},
        {"version", "1"},
        {"timestamp", "2003-10-11T22:14:15.003Z"},
        {"hostname", "mymachine.example.com"},
        {"appname", "evntslog"},
        {"msgid", "ID47"},
        {"sd.exampleSDID@32473.iut", "3"},
        {"sd.examplePriority@32473.class", "high"}}},
      {"RFC 5424 with escapes in a parameter, every header field nil",
       "<14>1 - - - - - [meta@1 path=\"C:\\\\logs\\\\a\\]b\" quote=\"say \\\"hi\\\"\" odd=\"a\\nb\"] msg",
       {{"pri", "14"},
        {"facility", "1"},
        {"severity", "6"},
        {"facility_name", "user"},
        {"severity_name", "info"},
        {"version", "1"},
        {"message", "msg"},
        {"sd.meta@1.path", "C:\\logs\\a]b"},
        {"sd.meta@1.quote", "say \"hi\""},
        {"sd.meta@1.odd", "a\\nb"}}},
  };
  SyslogParser parser;
  for (const Sample& sample : samples) {
    SCOPED_TRACE(sample.what);
    ASSERT_FALSE(parser.parse(sample.line).has_value());
    EXPECT_EQ(fieldsOf(parser), sample.fields);
  }
}

TEST(SyslogParser, NamesWhyALineIsNotSyslog) {
  const std::pair<std::string, ParseFailure> samples[] = {
      {"plain text from an application", ParseFailure::kNoSyslogHeader},
      {"", ParseFailure::kNoSyslogHeader},
      {"{\"level\":\"info\"}", ParseFailure::kNoSyslogHeader},
      {"<192>Oct 11 22:14:15 host app: over 191", ParseFailure::kBadPriority},
      {"<1234>Oct 11 22:14:15 host app: four digits", ParseFailure::kBadPriority},
      {"<>Oct 11 22:14:15 host app: empty", ParseFailure::kBadPriority},
      {"<3a>Oct 11 22:14:15 host app: not a number", ParseFailure::kBadPriority},
      {"<34", ParseFailure::kBadPriority},
      {"<34>1 2003-10-11T22:14:15.003Z host", ParseFailure::kNoSyslogHeader},
      {"<34>1 2003-10-11T22:14:15.003Z host app  - ID47 - two spaces", ParseFailure::kNoSyslogHeader},
      {"<34>1 - - - - - [unterminated x=\"1\"", ParseFailure::kBadStructuredData},
      {"<34>1 - - - - - [id x=\"no closing quote]", ParseFailure::kBadStructuredData},
      {"<34>1 - - - - - [id x=1]", ParseFailure::kBadStructuredData},
      {"<34>1 - - - - - [=\"\"]", ParseFailure::kBadStructuredData},
      {"<34>1 - - - - - x not structured data", ParseFailure::kBadStructuredData},
      {"<34>1 - - - - - [id]x", ParseFailure::kBadStructuredData},
  };
  SyslogParser parser;
  for (const auto& [line, failure] : samples) {
    SCOPED_TRACE(line);
    auto got = parser.parse(line);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(*got, failure);
    EXPECT_TRUE(fieldsOf(parser).empty()) << "a failure leaves no fields";
  }
}

TEST(SyslogParser, FieldsNotInTheLineAreAbsent) {
  SyslogParser parser;
  ASSERT_FALSE(parser.parse("Dec  7 06:25:01 web-1 free text without a tag").has_value());
  std::string value;
  for (const char* name : {"pri", "facility_name", "severity", "procid", "msgid", "version", "sd.a.b", "other"}) {
    EXPECT_FALSE(parser.appendValue(*FieldPath::parse(name), value)) << name;
  }
  EXPECT_TRUE(value.empty());
  EXPECT_EQ(fieldsOf(parser),
            (Fields{{"timestamp", "Dec  7 06:25:01"}, {"hostname", "web-1"}, {"message", "free text without a tag"}}));
}

}  // namespace
}  // namespace kinship::pipeline
