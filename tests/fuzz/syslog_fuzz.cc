// libFuzzer target: the syslog parser. The input is one line; it is parsed,
// and every field must lie inside the line and be found again by its name,
// a structured-data value never grows when unescaped, and the priority's
// parts stay in range. A failure leaves no fields.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "pipeline/syslog_parser.h"

using namespace kinship::pipeline;

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

bool inside(std::string_view part, std::string_view whole) {
  return part.empty() || (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  static SyslogParser parser;  // reused across inputs, as the pipeline does
  std::string value;
  if (parser.parse(line)) {
    check(parser.params().empty());
    for (const char* name : {"pri", "timestamp", "hostname", "appname", "message"}) {
      check(!parser.appendValue(*FieldPath::parse(name), value));
    }
    return 0;
  }
  const auto& h = parser.header();
  check(h.priority >= -1 && h.priority <= 191);
  for (std::string_view field : {h.version, h.timestamp, h.hostname, h.appname, h.procid, h.msgid, h.message}) {
    check(inside(field, line));
  }
  const std::pair<const char*, std::string_view> named[] = {{"timestamp", h.timestamp}, {"hostname", h.hostname},
                                                            {"appname", h.appname},     {"procid", h.procid},
                                                            {"msgid", h.msgid},         {"message", h.message}};
  for (const auto& [name, field] : named) {
    value.clear();
    check(parser.appendValue(*FieldPath::parse(name), value) == !field.empty());
    check(value == field);
  }
  if (h.priority >= 0) {
    value.clear();
    check(parser.appendValue(*FieldPath::parse("severity_name"), value) && !value.empty());
  }
  const auto& params = parser.params();
  std::string unescaped;
  for (size_t i = 0; i < params.size(); ++i) {
    const auto& param = params[i];
    check(!param.id.empty() && !param.name.empty());
    check(inside(param.id, line) && inside(param.name, line) && inside(param.value, line));
    auto path = FieldPath::parse("sd." + std::string(param.id) + "." + std::string(param.name));
    if (!path) continue;  // names may hold characters a template cannot name
    value.clear();
    check(parser.appendValue(*path, value));
    // A name given twice (or an id and name that spell the same path) gives
    // the first value; it is checked there.
    bool first = true;
    for (size_t j = 0; j < i && first; ++j) {
      first = std::string(params[j].id) + "." + std::string(params[j].name) !=
              std::string(param.id) + "." + std::string(param.name);
    }
    if (!first) continue;
    unescaped.clear();
    appendSyslogParamUnescaped(param.value, unescaped);
    check(value == unescaped && value.size() <= param.value.size());
  }
  return 0;
}
