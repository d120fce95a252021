#include "pipeline/field_path.h"

namespace kinship::pipeline {

namespace {

bool isReserved(char c) {
  return c == '.' || c == '[' || c == ']' || c == '|' || c == '{' || c == '}' || c == '\'';
}

Status invalid(std::string_view text, std::string_view why) {
  return Status::invalidArgument("invalid field path '" + std::string(text) + "': " + std::string(why));
}

}  // namespace

Result<FieldPath> FieldPath::parse(std::string_view text) {
  FieldPath path;
  path.text = std::string(text);
  size_t i = 0;
  for (;;) {
    size_t start = i;
    while (i < text.size() && !isReserved(text[i])) ++i;
    if (i == start) return fail(invalid(text, "empty name at character " + std::to_string(start + 1)));
    path.steps.push_back({.name = std::string(text.substr(start, i - start))});
    while (i < text.size() && text[i] == '[') {
      size_t close = text.find(']', i + 1);
      if (close == std::string_view::npos) return fail(invalid(text, "unclosed '['"));
      std::string_view digits = text.substr(i + 1, close - i - 1);
      if (digits.empty() || digits.size() > 10) return fail(invalid(text, "an index is 1 to 10 digits"));
      uint64_t index = 0;
      for (char c : digits) {
        if (c < '0' || c > '9') return fail(invalid(text, "an index is a decimal number"));
        index = index * 10 + static_cast<uint64_t>(c - '0');
      }
      if (index > UINT32_MAX) return fail(invalid(text, "index above 2^32 - 1"));
      path.steps.push_back({.isIndex = true, .index = static_cast<size_t>(index)});
      i = close + 1;
    }
    if (i == text.size()) return path;
    if (text[i] != '.') {
      return fail(invalid(text, std::string("unexpected '") + text[i] + "' at character " + std::to_string(i + 1)));
    }
    ++i;
  }
}

}  // namespace kinship::pipeline
