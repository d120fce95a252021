#include "pipeline/key_template.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <iterator>

namespace kinship::pipeline {

namespace {

// RFC 6901: "~" and "/" inside a name are escaped in a JSON pointer.
std::string toJsonPointer(std::string_view dottedPath) {
  std::string pointer;
  pointer.push_back('/');
  for (char c : dottedPath) {
    if (c == '.') pointer.push_back('/');
    else if (c == '~') pointer += "~0";
    else if (c == '/') pointer += "~1";
    else pointer.push_back(c);
  }
  return pointer;
}

bool isContinuationByte(unsigned char c) { return (c & 0xC0) == 0x80; }

}  // namespace

Result<KeyTemplate> KeyTemplate::compile(std::string_view text) {
  KeyTemplate t;
  t.text_ = std::string(text);
  std::string literal;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '{' && i + 1 < text.size() && text[i + 1] == '{') {
      literal.push_back('{');
      ++i;
    } else if (c == '}' && i + 1 < text.size() && text[i + 1] == '}') {
      literal.push_back('}');
      ++i;
    } else if (c == '{') {
      size_t close = text.find('}', i + 1);
      if (close == std::string_view::npos) {
        return fail(Status::invalidArgument("unclosed '{' at character " + std::to_string(i + 1)));
      }
      std::string_view field = text.substr(i + 1, close - i - 1);
      if (field.empty()) return fail(Status::invalidArgument("empty field name '{}'"));
      if (field.find('{') != std::string_view::npos) {
        return fail(Status::invalidArgument("'{' inside a field reference at character " + std::to_string(i + 1)));
      }
      if (field.front() == '.' || field.back() == '.' || field.find("..") != std::string_view::npos) {
        return fail(Status::invalidArgument("invalid field path '" + std::string(field) + "'"));
      }
      if (!literal.empty()) {
        t.segments_.push_back({false, std::move(literal)});
        literal.clear();
      }
      t.segments_.push_back({true, toJsonPointer(field)});
      ++t.fieldCount_;
      i = close;
    } else if (c == '}') {
      return fail(Status::invalidArgument("unmatched '}' at character " + std::to_string(i + 1) +
                                          " (write '}}' for a literal brace)"));
    } else {
      literal.push_back(c);
    }
  }
  if (!literal.empty()) t.segments_.push_back({false, std::move(literal)});
  if (t.segments_.empty()) return fail(Status::invalidArgument("the template is empty"));
  return t;
}

bool KeyTemplate::render(const simdjson::dom::element& doc, std::string& out) const {
  out.clear();
  for (const Segment& s : segments_) {
    if (!s.isField) {
      out += s.text;
      continue;
    }
    simdjson::dom::element value;
    if (doc.at_pointer(s.text).get(value) != simdjson::SUCCESS) return false;
    switch (value.type()) {
      case simdjson::dom::element_type::STRING:
        out += std::string_view(value);
        break;
      case simdjson::dom::element_type::INT64:
        fmt::format_to(std::back_inserter(out), "{}", int64_t(value));
        break;
      case simdjson::dom::element_type::UINT64:
        fmt::format_to(std::back_inserter(out), "{}", uint64_t(value));
        break;
      case simdjson::dom::element_type::DOUBLE:
        fmt::format_to(std::back_inserter(out), "{}", double(value));
        break;
      case simdjson::dom::element_type::BOOL:
        out += bool(value) ? "true" : "false";
        break;
      default:  // null, object, array
        return false;
    }
  }
  truncateToKeyLimit(out);
  return !out.empty();
}

bool KeyTemplate::renderLiteral(std::string& out) const {
  if (fieldCount_ != 0) return false;
  out.clear();
  for (const Segment& s : segments_) out += s.text;
  truncateToKeyLimit(out);
  return !out.empty();
}

void truncateToKeyLimit(std::string& key) {
  // Every UTF-16 code unit takes at least one UTF-8 byte.
  if (key.size() <= kMaxPartitionKeyUtf16Units) return;
  size_t units = 0;
  for (size_t i = 0; i < key.size(); ++i) {
    const auto byte = static_cast<unsigned char>(key[i]);
    if (isContinuationByte(byte)) continue;
    // A 4-byte sequence (lead byte 0xF0..0xF4) is a surrogate pair in UTF-16.
    const size_t width = byte >= 0xF0 ? 2 : 1;
    if (units + width > kMaxPartitionKeyUtf16Units) {
      key.resize(i);
      return;
    }
    units += width;
  }
}

}  // namespace kinship::pipeline
