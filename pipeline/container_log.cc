#include "pipeline/container_log.h"

#include <algorithm>

#include "pipeline/json_writer.h"

namespace kinship::pipeline {

namespace {

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// RFC 3339 as runtimes write it: `2024-03-05T10:11:12` then an optional
// fraction and `Z` or a numeric offset (`.345678901Z`, `+01:00`).
bool isRfc3339(std::string_view t) {
  static constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd";
  if (t.size() < kShape.size() + 1) return false;  // a zone is required
  for (size_t i = 0; i < kShape.size(); ++i) {
    const char want = kShape[i];
    if (want == 'd' ? !isDigit(t[i]) : (want == 'T' ? (t[i] != 'T' && t[i] != 't') : t[i] != want)) return false;
  }
  std::string_view rest = t.substr(kShape.size());
  if (rest.front() == '.') {
    size_t digits = 1;
    while (digits < rest.size() && isDigit(rest[digits])) ++digits;
    if (digits == 1) return false;
    rest.remove_prefix(digits);
  }
  if (rest == "Z" || rest == "z") return true;
  return rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && isDigit(rest[1]) && isDigit(rest[2]) &&
         rest[3] == ':' && isDigit(rest[4]) && isDigit(rest[5]);
}

}  // namespace

std::optional<ParseFailure> readCriLine(std::string_view line, ContainerLogEntry& entry) {
  const size_t timeEnd = line.find(' ');
  if (timeEnd == std::string_view::npos || !isRfc3339(line.substr(0, timeEnd))) return ParseFailure::kBadTime;
  std::string_view rest = line.substr(timeEnd + 1);
  std::string_view stream;
  for (std::string_view name : {std::string_view("stdout"), std::string_view("stderr")}) {
    if (rest.size() > name.size() && rest.starts_with(name) && rest[name.size()] == ' ') stream = name;
  }
  if (stream.empty()) return ParseFailure::kBadStream;
  rest.remove_prefix(stream.size() + 1);
  // The tag runs to the next space; a line that ends after it has an empty
  // log. Only the first of `:`-separated tags means anything so far: P is
  // partial, anything else full (as the kubelet reads it).
  const size_t tagEnd = std::min(rest.find(' '), rest.size());
  const std::string_view tag = rest.substr(0, tagEnd);
  if (tag.empty() || tag.front() == ':') return ParseFailure::kBadTag;
  entry.time = std::string_view(line.data(), timeEnd);
  entry.stream = stream;  // a literal: valid for good
  entry.partial = tag.substr(0, tag.find(':')) == "P";
  entry.log = tagEnd < rest.size() ? rest.substr(tagEnd + 1) : rest.substr(rest.size());
  return std::nullopt;
}

std::optional<ParseFailure> ContainerLogReader::read(std::string_view line, ContainerLogEntry& entry) {
  if (format_ == ParserKind::kCri) return readCriLine(line, entry);
  simdjson::dom::element doc;
  if (json_.parse(line.data(), line.size(), /*realloc_if_needed=*/false).get(doc) != simdjson::SUCCESS) {
    return ParseFailure::kInvalidJson;
  }
  simdjson::dom::object object;
  if (doc.get_object().get(object) != simdjson::SUCCESS) return ParseFailure::kNotAnObject;
  std::string_view log;
  if (object.at_key("log").get_string().get(log) != simdjson::SUCCESS) return ParseFailure::kNoLog;
  // Absent or not strings: the line has no such field.
  std::string_view stream;
  std::string_view time;
  if (object.at_key("stream").get_string().get(stream) != simdjson::SUCCESS) stream = {};
  if (object.at_key("time").get_string().get(time) != simdjson::SUCCESS) time = {};
  entry.time = time;
  entry.stream = stream;
  entry.partial = !log.ends_with('\n');
  if (!entry.partial) {
    log.remove_suffix(1);
    if (log.ends_with('\r')) log.remove_suffix(1);
  }
  entry.log = log;
  return std::nullopt;
}

bool ContainerFields::appendValue(const FieldPath& path, std::string& out) const {
  if (path.text == "time" && !container_.time.empty()) {
    out += container_.time;
    return true;
  }
  if (path.text == "stream" && !container_.stream.empty()) {
    out += container_.stream;
    return true;
  }
  return inner_ != nullptr && inner_->appendValue(path, out);
}

bool ContainerFields::writeJson(JsonWriter& out) const {
  // key() refuses a name an added field takes; `log` is never refused, so
  // the application's line is never lost.
  if (!container_.time.empty() && out.key("time")) out.string(container_.time);
  if (!container_.stream.empty() && out.key("stream")) out.string(container_.stream);
  out.escapedKey("\"log\":");
  if (innerListed_) {
    out.beginObject();
    inner_->writeJson(out);
    out.endObject();
  } else {
    out.string(line_);
  }
  return true;
}

}  // namespace kinship::pipeline
