#include "pipeline/key_template.h"

namespace kinship::pipeline {

namespace {

bool isContinuationByte(unsigned char c) { return (c & 0xC0) == 0x80; }

// Bytes of `key` that fit in the limit, never splitting a UTF-8 sequence.
size_t bytesWithinKeyLimit(std::string_view key) {
  // Every UTF-16 code unit takes at least one UTF-8 byte.
  if (key.size() <= kMaxPartitionKeyUtf16Units) return key.size();
  size_t units = 0;
  for (size_t i = 0; i < key.size(); ++i) {
    const auto byte = static_cast<unsigned char>(key[i]);
    if (isContinuationByte(byte)) continue;
    // A 4-byte sequence (lead byte 0xF0..0xF4) is a surrogate pair in UTF-16.
    const size_t width = byte >= 0xF0 ? 2 : 1;
    if (units + width > kMaxPartitionKeyUtf16Units) return i;
    units += width;
  }
  return key.size();
}

std::string at(size_t i) { return " at character " + std::to_string(i + 1); }

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
      const size_t open = i;
      Segment reference;
      for (++i;; ++i) {  // one alternative per turn; `i` is its first character
        if (i >= text.size()) return fail(Status::invalidArgument("unclosed '{'" + at(open)));
        if (text[i] == '\'') {
          size_t close = text.find('\'', i + 1);
          if (close == std::string_view::npos) return fail(Status::invalidArgument("unclosed quote" + at(i)));
          reference.lastLiteral = std::string(text.substr(i + 1, close - i - 1));
          i = close + 1;
          if (i >= text.size()) return fail(Status::invalidArgument("unclosed '{'" + at(open)));
          if (text[i] != '}') {
            return fail(Status::invalidArgument("a quoted literal must be the last alternative" + at(i)));
          }
          break;
        }
        size_t end = text.find_first_of("|}", i);
        if (end == std::string_view::npos) return fail(Status::invalidArgument("unclosed '{'" + at(open)));
        std::string_view path = text.substr(i, end - i);
        if (path.empty()) {
          return fail(Status::invalidArgument(text[end] == '}' && end == open + 1 ? "empty field name '{}'"
                                                                                   : "empty alternative" + at(end)));
        }
        auto parsed = FieldPath::parse(path);
        if (!parsed) return fail(parsed.error());
        reference.alternatives.push_back(std::move(*parsed));
        i = end;
        if (text[i] == '}') break;
      }
      if (!literal.empty()) {
        t.segments_.push_back({.literal = std::move(literal)});
        literal.clear();
      }
      if (reference.alternatives.empty()) {
        // `{'x'}` is the literal x: allowed, though plain text says it better.
        t.segments_.push_back({.literal = std::move(*reference.lastLiteral)});
      } else {
        t.fieldCount_ += reference.alternatives.size();
        t.segments_.push_back(std::move(reference));
      }
    } else if (c == '}') {
      return fail(Status::invalidArgument("unmatched '}'" + at(i) + " (write '}}' for a literal brace)"));
    } else {
      literal.push_back(c);
    }
  }
  if (!literal.empty()) t.segments_.push_back({.literal = std::move(literal)});
  if (t.segments_.empty()) return fail(Status::invalidArgument("the template is empty"));
  return t;
}

KeyTemplate::Outcome KeyTemplate::render(const RecordFields& fields, std::string& out) const {
  out.clear();
  for (const Segment& s : segments_) {
    if (s.alternatives.empty()) {
      out += s.literal;
      continue;
    }
    // An empty value gives way to a later alternative that has one; when
    // none has, it stands (so "x{s}" over s="" is "x").
    bool found = false;
    bool foundEmpty = false;
    for (const FieldPath& path : s.alternatives) {
      const size_t before = out.size();
      if (!fields.appendValue(path, out)) continue;
      if ((found = out.size() > before)) break;
      foundEmpty = true;
    }
    if (!found) {
      if (s.lastLiteral) out += *s.lastLiteral;
      else if (!foundEmpty) return Outcome::kMissingField;
    }
  }
  return out.empty() ? Outcome::kEmpty : Outcome::kRendered;
}

void truncateToKeyLimit(std::string& key) { key.resize(bytesWithinKeyLimit(key)); }

bool exceedsKeyLimit(std::string_view key) { return bytesWithinKeyLimit(key) < key.size(); }

}  // namespace kinship::pipeline
