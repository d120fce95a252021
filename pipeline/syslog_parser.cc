#include "pipeline/syslog_parser.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <tuple>

#include "pipeline/json_writer.h"

namespace kinship::pipeline {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";
constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// Takes the run of bytes up to the next space (or the end) off `rest`.
std::string_view takeToken(std::string_view& rest) {
  size_t end = rest.find(' ');
  if (end == std::string_view::npos) end = rest.size();
  std::string_view token = rest.substr(0, end);
  rest.remove_prefix(end);
  return token;
}

// `-` is RFC 5424's NILVALUE: the field is absent.
std::string_view orNone(std::string_view field) { return field == "-" ? std::string_view() : field; }

// `Mmm dd hh:mm:ss` (day space-padded), RFC 3164's timestamp: its length
// when `rest` starts with one, else 0.
size_t bsdTimestampLength(std::string_view rest) {
  constexpr size_t kLength = 15;
  if (rest.size() < kLength) return 0;
  bool month = false;
  for (auto name : kMonths) month = month || rest.substr(0, 3) == name;
  if (!month || rest[3] != ' ' || !(rest[4] == ' ' || isDigit(rest[4])) || !isDigit(rest[5]) || rest[6] != ' ')
    return 0;
  for (size_t i : {7u, 8u, 10u, 11u, 13u, 14u}) {
    if (!isDigit(rest[i])) return 0;
  }
  return rest[9] == ':' && rest[12] == ':' ? kLength : 0;
}

// An RFC 3339 timestamp (`2026-12-07T06:00:00.123+00:00`): its length
// when `rest` starts with one (four digits and a dash, up to a space).
size_t rfc3339TimestampLength(std::string_view rest) {
  if (rest.size() < 10 || !isDigit(rest[0]) || !isDigit(rest[1]) || !isDigit(rest[2]) || !isDigit(rest[3]) ||
      rest[4] != '-') {
    return 0;
  }
  size_t end = rest.find(' ');
  return end == std::string_view::npos ? rest.size() : end;
}

// An SD-NAME byte: printable US-ASCII but `=`, space, `]` and `"`.
bool isSdNameByte(char c) { return c > ' ' && c < 0x7f && c != '=' && c != ']' && c != '"'; }

void appendNumber(int value, std::string& out) {
  char digits[8];
  auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), value);
  (void)ec;
  out.append(digits, end);
}

bool appendIfPresent(std::string_view value, std::string& out) {
  if (value.empty()) return false;
  out.append(value);
  return true;
}

}  // namespace

std::string_view syslogFacilityName(int facility) {
  static constexpr std::array<std::string_view, 24> kNames = {
      "kern",   "user",   "mail",     "daemon", "auth",   "syslog", "lpr",    "news",
      "uucp",   "cron",   "authpriv", "ftp",    "ntp",    "audit",  "alert",  "clock",
      "local0", "local1", "local2",   "local3", "local4", "local5", "local6", "local7"};
  return facility >= 0 && facility < 24 ? kNames[static_cast<size_t>(facility)] : std::string_view();
}

std::string_view syslogSeverityName(int severity) {
  static constexpr std::array<std::string_view, 8> kNames = {"emerg",   "alert",  "crit", "err",
                                                             "warning", "notice", "info", "debug"};
  return severity >= 0 && severity < 8 ? kNames[static_cast<size_t>(severity)] : std::string_view();
}

std::optional<ParseFailure> SyslogParser::fail(ParseFailure failure) {
  header_ = Header{};
  params_.clear();
  return failure;
}

std::optional<ParseFailure> SyslogParser::parse(std::string_view line) {
  header_ = Header{};
  params_.clear();
  std::string_view rest = line;
  if (!rest.empty() && rest.front() == '<') {
    // PRI: one to three digits, at most 191 (facility 23, severity 7).
    size_t close = rest.find('>');
    if (close == std::string_view::npos || close < 2 || close > 4) return fail(ParseFailure::kBadPriority);
    int priority = 0;
    for (size_t i = 1; i < close; ++i) {
      if (!isDigit(rest[i])) return fail(ParseFailure::kBadPriority);
      priority = priority * 10 + (rest[i] - '0');
    }
    if (priority > 191) return fail(ParseFailure::kBadPriority);
    header_.priority = priority;
    rest.remove_prefix(close + 1);
    // A version (1 to 3 digits, not 0) and a space: RFC 5424.
    size_t digits = 0;
    while (digits < rest.size() && digits < 3 && isDigit(rest[digits])) ++digits;
    if (digits > 0 && rest[0] != '0' && digits < rest.size() && rest[digits] == ' ') return parse5424(rest);
  }
  return parse3164(rest);
}

std::optional<ParseFailure> SyslogParser::parse5424(std::string_view rest) {
  header_.rfc5424 = true;
  header_.version = takeToken(rest);
  std::string_view* fields[] = {&header_.timestamp, &header_.hostname, &header_.appname, &header_.procid,
                                &header_.msgid};
  for (std::string_view* field : fields) {
    if (rest.size() < 2 || rest[0] != ' ' || rest[1] == ' ') return fail(ParseFailure::kNoSyslogHeader);
    rest.remove_prefix(1);
    *field = orNone(takeToken(rest));
  }
  if (rest.size() < 2 || rest[0] != ' ') return fail(ParseFailure::kNoSyslogHeader);
  rest.remove_prefix(1);
  if (rest.front() == '-') {
    rest.remove_prefix(1);
  } else if (auto failure = parseStructuredData(rest)) {
    return fail(*failure);
  }
  if (!rest.empty()) {
    if (rest.front() != ' ') return fail(ParseFailure::kBadStructuredData);
    rest.remove_prefix(1);
    if (rest.starts_with(kBom)) rest.remove_prefix(kBom.size());
    header_.message = rest;
  }
  return std::nullopt;
}

std::optional<ParseFailure> SyslogParser::parseStructuredData(std::string_view& rest) {
  if (rest.empty() || rest.front() != '[') return ParseFailure::kBadStructuredData;
  while (!rest.empty() && rest.front() == '[') {
    rest.remove_prefix(1);
    size_t idEnd = 0;
    while (idEnd < rest.size() && isSdNameByte(rest[idEnd])) ++idEnd;
    if (idEnd == 0) return ParseFailure::kBadStructuredData;
    const std::string_view id = rest.substr(0, idEnd);
    rest.remove_prefix(idEnd);
    while (!rest.empty() && rest.front() == ' ') {
      rest.remove_prefix(1);
      size_t nameEnd = 0;
      while (nameEnd < rest.size() && isSdNameByte(rest[nameEnd])) ++nameEnd;
      if (nameEnd == 0 || nameEnd + 1 >= rest.size() || rest[nameEnd] != '=' || rest[nameEnd + 1] != '"') {
        return ParseFailure::kBadStructuredData;
      }
      const std::string_view name = rest.substr(0, nameEnd);
      rest.remove_prefix(nameEnd + 2);
      size_t valueEnd = 0;
      while (valueEnd < rest.size() && rest[valueEnd] != '"') valueEnd += rest[valueEnd] == '\\' ? 2 : 1;
      if (valueEnd >= rest.size()) return ParseFailure::kBadStructuredData;
      params_.push_back({id, name, rest.substr(0, valueEnd)});
      rest.remove_prefix(valueEnd + 1);
    }
    if (rest.empty() || rest.front() != ']') return ParseFailure::kBadStructuredData;
    rest.remove_prefix(1);
  }
  return std::nullopt;
}

std::optional<ParseFailure> SyslogParser::parse3164(std::string_view rest) {
  size_t length = bsdTimestampLength(rest);
  if (length == 0) length = rfc3339TimestampLength(rest);
  if (length == 0) {
    // With a priority, what follows is the message (RFC 3164 4.3.3); without
    // one, nothing says this is syslog at all.
    if (header_.priority < 0) return fail(ParseFailure::kNoSyslogHeader);
    header_.message = rest;
    return std::nullopt;
  }
  header_.timestamp = rest.substr(0, length);
  rest.remove_prefix(length);
  if (rest.empty()) return std::nullopt;
  if (rest.front() != ' ') return fail(ParseFailure::kNoSyslogHeader);
  rest.remove_prefix(1);
  // The tag: up to `[` or `:`, ending in `[pid]:`, `[pid]` or `:`.
  auto takeTag = [&](std::string_view& text) {
    size_t end = 0;
    while (end < text.size() && text[end] != ' ' && text[end] != '[' && text[end] != ':') ++end;
    if (end == 0 || end == text.size() || text[end] == ' ') return false;
    std::string_view after = text.substr(end);
    std::string_view procid;
    if (after.front() == '[') {
      size_t close = after.find(']');
      if (close == std::string_view::npos || after.substr(1, close - 1).find(' ') != std::string_view::npos)
        return false;
      procid = after.substr(1, close - 1);
      after.remove_prefix(close + 1);
    }
    if (!after.empty() && after.front() == ':')
      after.remove_prefix(1);
    else if (procid.empty())
      return false;
    header_.appname = text.substr(0, end);
    header_.procid = procid;
    if (!after.empty() && after.front() == ' ') after.remove_prefix(1);
    text = after;
    return true;
  };
  if (takeTag(rest)) {
    header_.message = rest;
    return std::nullopt;
  }
  header_.hostname = takeToken(rest);
  if (!rest.empty()) rest.remove_prefix(1);
  takeTag(rest);
  header_.message = rest;
  return std::nullopt;
}

bool SyslogParser::appendValue(const FieldPath& path, std::string& out) const {
  const std::string_view name = path.text;
  if (name.starts_with("sd.")) {
    const std::string_view rest = name.substr(3);
    for (const Param& param : params_) {
      if (rest.size() == param.id.size() + 1 + param.name.size() && rest.starts_with(param.id) &&
          rest[param.id.size()] == '.' && rest.ends_with(param.name)) {
        appendSyslogParamUnescaped(param.value, out);
        return true;
      }
    }
    return false;
  }
  const int priority = header_.priority;
  if (name == "pri" || name == "facility" || name == "severity") {
    if (priority < 0) return false;
    appendNumber(name == "pri" ? priority : name == "facility" ? priority / 8 : priority % 8, out);
    return true;
  }
  if (name == "facility_name") return priority >= 0 && appendIfPresent(syslogFacilityName(priority / 8), out);
  if (name == "severity_name") return priority >= 0 && appendIfPresent(syslogSeverityName(priority % 8), out);
  if (name == "version") return appendIfPresent(header_.version, out);
  if (name == "timestamp") return appendIfPresent(header_.timestamp, out);
  if (name == "hostname") return appendIfPresent(header_.hostname, out);
  if (name == "appname") return appendIfPresent(header_.appname, out);
  if (name == "procid") return appendIfPresent(header_.procid, out);
  if (name == "msgid") return appendIfPresent(header_.msgid, out);
  if (name == "message") return appendIfPresent(header_.message, out);
  return false;
}

bool SyslogParser::writeJson(JsonWriter& out) const {
  const int priority = header_.priority;
  auto number = [&out](std::string_view name, int value) {
    if (!out.key(name)) return;
    char digits[8];
    auto end = std::to_chars(digits, digits + sizeof(digits), value).ptr;
    out.literal(std::string_view(digits, static_cast<size_t>(end - digits)));
  };
  auto text = [&out](std::string_view name, std::string_view value) {
    if (!value.empty() && out.key(name)) out.string(value);
  };
  if (priority >= 0) {
    number("pri", priority);
    number("facility", priority / 8);
    number("severity", priority % 8);
    text("facility_name", syslogFacilityName(priority / 8));
    text("severity_name", syslogSeverityName(priority % 8));
  }
  text("version", header_.version);
  text("timestamp", header_.timestamp);
  text("hostname", header_.hostname);
  text("appname", header_.appname);
  text("procid", header_.procid);
  text("msgid", header_.msgid);
  text("message", header_.message);
  if (params_.empty() || !out.key("sd")) return true;
  // Sorted by SD-ID, name and position: each element's parameters
  // together, and the first of a repeated one first. (IDs and names are
  // printable ASCII, isSdNameByte(): written as they are.)
  order_.resize(params_.size());
  for (size_t i = 0; i < order_.size(); ++i) order_[i] = static_cast<uint32_t>(i);
  std::sort(order_.begin(), order_.end(), [this](uint32_t a, uint32_t b) {
    const Param& x = params_[a];
    const Param& y = params_[b];
    return std::tie(x.id, x.name, a) < std::tie(y.id, y.name, b);
  });
  out.beginObject();
  const Param* previous = nullptr;
  for (uint32_t i : order_) {
    const Param& param = params_[i];
    const bool sameId = previous != nullptr && previous->id == param.id;
    if (sameId && previous->name == param.name) continue;
    if (!sameId) {
      if (previous != nullptr) out.endObject();
      out.key(param.id);
      out.beginObject();
    }
    previous = &param;
    out.key(param.name);
    std::string& value = out.valueBuffer();
    appendSyslogParamUnescaped(param.value, value);
    out.string(value);
  }
  out.endObject();
  out.endObject();
  return true;
}

void appendSyslogParamUnescaped(std::string_view quoted, std::string& out) {
  for (size_t i = 0; i < quoted.size(); ++i) {
    // RFC 5424 6.3.3: `"`, `\` and `]` are escaped; any other backslash is
    // kept as it is.
    if (quoted[i] == '\\' && i + 1 < quoted.size() &&
        (quoted[i + 1] == '"' || quoted[i + 1] == '\\' || quoted[i + 1] == ']')) {
      ++i;
    }
    out.push_back(quoted[i]);
  }
}

}  // namespace kinship::pipeline
