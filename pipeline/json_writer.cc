#include "pipeline/json_writer.h"

#include <simdjson.h>

#include <cstring>

#include "common/json_escape.h"
#include "pipeline/added_fields.h"

namespace kinship::pipeline {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Whether every byte is below 0x80, eight at a time: most values are
// short and ASCII, and simdjson's validator costs more to start than that.
bool isAscii(std::string_view text) {
  uint64_t high = 0;
  size_t i = 0;
  for (; i + 8 <= text.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, text.data() + i, 8);
    high |= word;
  }
  for (; i < text.size(); ++i) high |= static_cast<unsigned char>(text[i]);
  return (high & 0x8080808080808080ull) == 0;
}

bool inRange(unsigned char c, unsigned char low, unsigned char high) { return c >= low && c <= high; }

// The length of the well-formed sequence at the start of `text` (Unicode's
// table 3-7), or, when there is none, of its maximal subpart (at least 1):
// the bytes one U+FFFD replaces. `valid` tells which.
size_t sequenceAt(std::string_view text, bool& valid) {
  const auto lead = static_cast<unsigned char>(text[0]);
  valid = false;
  if (lead < 0x80) {
    valid = true;
    return 1;
  }
  size_t length = 0;
  unsigned char low = 0x80, high = 0xBF;  // the second byte's range
  if (inRange(lead, 0xC2, 0xDF)) {
    length = 2;
  } else if (inRange(lead, 0xE0, 0xEF)) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;  // no surrogates
  } else if (inRange(lead, 0xF0, 0xF4)) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;  // nothing above U+10FFFF
  } else {
    return 1;  // a continuation byte, C0, C1 or F5..FF: never a lead
  }
  for (size_t i = 1; i < length; ++i) {
    if (i >= text.size()) return i;
    const auto c = static_cast<unsigned char>(text[i]);
    if (i == 1 ? !inRange(c, low, high) : !inRange(c, 0x80, 0xBF)) return i;
  }
  valid = true;
  return length;
}

}  // namespace

bool appendValidUtf8(std::string_view text, std::string& out) {
  bool replaced = false;
  size_t run = 0;  // start of the valid bytes not yet copied
  size_t i = 0;
  while (i < text.size()) {
    bool valid = false;
    const size_t length = sequenceAt(text.substr(i), valid);
    if (!valid) {
      out.append(text.data() + run, i - run);
      out += kReplacement;
      replaced = true;
      run = i + length;
    }
    i += length;
  }
  out.append(text.data() + run, text.size() - run);
  return replaced;
}

void WrittenKeys::append(std::string_view key) {
  if (isAscii(key) || simdjson::validate_utf8(key.data(), key.size())) {
    text_ += key;
  } else {
    appendValidUtf8(key, text_);
  }
}

void JsonWriter::separate() {
  if (needComma_) out_ += ',';
  needComma_ = true;
}

void JsonWriter::beginObject() {
  separate();
  out_ += '{';
  ++depth_;
  needComma_ = false;
}

void JsonWriter::continueObject(bool hasMembers) {
  ++depth_;
  needComma_ = hasMembers;
}

void JsonWriter::endObject() {
  out_ += '}';
  --depth_;
  needComma_ = true;
}

void JsonWriter::beginArray() {
  separate();
  out_ += '[';
  ++depth_;
  needComma_ = false;
}

void JsonWriter::endArray() {
  out_ += ']';
  --depth_;
  needComma_ = true;
}

bool JsonWriter::key(std::string_view name) {
  if (depth_ == 1 && hidden_ != nullptr && hidden_->hides(name)) return false;
  string(name);
  out_ += ':';
  needComma_ = false;
  return true;
}

void JsonWriter::escapedKey(std::string_view nameAndColon) {
  separate();
  out_ += nameAndColon;
  needComma_ = false;
}

void JsonWriter::escapedMember(std::string_view member) {
  separate();
  out_ += member;
}

void JsonWriter::string(std::string_view text) {
  separate();
  out_ += '"';
  if (isAscii(text) || simdjson::validate_utf8(text.data(), text.size())) {
    appendJsonEscaped(out_, text);
  } else {
    scratch_.clear();
    appendValidUtf8(text, scratch_);
    appendJsonEscaped(out_, scratch_);
    replaced_ = true;
  }
  out_ += '"';
}

void JsonWriter::plainString(std::string_view text) {
  separate();
  out_ += '"';
  out_ += text;
  out_ += '"';
}

void JsonWriter::literal(std::string_view json) {
  separate();
  out_ += json;
}

}  // namespace kinship::pipeline
