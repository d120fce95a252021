#include "pipeline/logfmt_parser.h"

#include "pipeline/json_writer.h"

namespace kinship::pipeline {

namespace {

bool isSpace(char c) { return static_cast<unsigned char>(c) <= 0x20; }

}  // namespace

std::optional<ParseFailure> LogfmtParser::parse(std::string_view line) {
  pairs_.clear();  // keeps its capacity: no allocation once grown
  bool sawValue = false;
  size_t i = 0;
  const size_t n = line.size();
  auto failWith = [this](ParseFailure failure) {
    pairs_.clear();
    return std::optional<ParseFailure>(failure);
  };
  while (i < n) {
    while (i < n && isSpace(line[i])) ++i;
    if (i == n) break;
    const size_t keyStart = i;
    while (i < n && !isSpace(line[i]) && line[i] != '=' && line[i] != '"') ++i;
    if (i == keyStart || (i < n && line[i] == '"')) return failWith(ParseFailure::kMalformed);
    const std::string_view key = line.substr(keyStart, i - keyStart);
    if (i == n || isSpace(line[i])) {
      pairs_.push_back({key, {}, false});  // a flag
      continue;
    }
    ++i;  // '='
    sawValue = true;
    if (i < n && line[i] == '"') {
      const size_t valueStart = ++i;
      while (i < n && line[i] != '"') i += line[i] == '\\' ? 2 : 1;
      if (i >= n) return failWith(ParseFailure::kUnterminatedQuote);
      pairs_.push_back({key, line.substr(valueStart, i - valueStart), true});
      ++i;  // the closing quote
      if (i < n && !isSpace(line[i])) return failWith(ParseFailure::kMalformed);
    } else {
      const size_t valueStart = i;
      while (i < n && !isSpace(line[i]) && line[i] != '"') ++i;
      if (i < n && line[i] == '"') return failWith(ParseFailure::kMalformed);
      pairs_.push_back({key, line.substr(valueStart, i - valueStart), false});
    }
  }
  if (!sawValue) return failWith(ParseFailure::kNoPairs);
  return std::nullopt;
}

bool LogfmtParser::appendValue(const FieldPath& path, std::string& out) const {
  for (const Pair& pair : pairs_) {
    if (pair.key != path.text) continue;
    if (pair.quoted) appendLogfmtUnescaped(pair.value, out);
    else out += pair.value;
    return true;
  }
  return false;
}

bool LogfmtParser::writeJson(JsonWriter& out) const {
  // Repeats as written: keys that differ only in bytes that are not UTF-8
  // come out the same.
  keys_.assign(pairs_.size(), [this](size_t i) { return pairs_[i].key; });
  markRepeats(pairs_.size(), [this](size_t i) { return keys_[i]; }, order_, repeated_);
  for (size_t i = 0; i < pairs_.size(); ++i) {
    const Pair& pair = pairs_[i];
    if (repeated_[i] || !out.key(pair.key)) continue;
    if (pair.quoted) {
      std::string& value = out.valueBuffer();
      appendLogfmtUnescaped(pair.value, value);
      out.string(value);
    } else {
      out.string(pair.value);
    }
  }
  return true;
}

void appendLogfmtUnescaped(std::string_view quoted, std::string& out) {
  size_t i = 0;
  while (i < quoted.size()) {
    const size_t backslash = quoted.find('\\', i);
    out.append(quoted.substr(i, backslash == std::string_view::npos ? std::string_view::npos : backslash - i));
    if (backslash == std::string_view::npos || backslash + 1 >= quoted.size()) return;
    const char escaped = quoted[backslash + 1];
    switch (escaped) {
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      default:
        out += '\\';
        out += escaped;
    }
    i = backslash + 2;
  }
}

}  // namespace kinship::pipeline
