#include "common/json_escape.h"

namespace kinship {

namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

bool isC1SecondByte(unsigned char c) { return c >= 0x80 && c <= 0x9f; }

void appendUnicodeEscape(std::string& out, unsigned char c) {
  out += "\\u00";
  out.push_back(kHexDigits[c >> 4]);
  out.push_back(kHexDigits[c & 0xf]);
}

// Copies runs of plain bytes in one append each: most text has nothing to
// escape, and the Kinesis encoder calls this for every record. The mode is a
// template parameter so the required-only loop carries no extra test.
template <JsonEscaping kEscaping>
void appendEscaped(std::string& out, std::string_view text) {
  size_t runStart = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') {
      if constexpr (kEscaping == JsonEscaping::kRequired) continue;
      const bool c1 = c == 0xc2 && i + 1 < text.size() && isC1SecondByte(static_cast<unsigned char>(text[i + 1]));
      if (c != 0x7f && !c1) continue;
    }
    out.append(text.data() + runStart, i - runStart);
    runStart = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case 0xc2:  // only reached for a C1 control: its code point is the second byte
        appendUnicodeEscape(out, static_cast<unsigned char>(text[i + 1]));
        runStart = ++i + 1;
        break;
      default: appendUnicodeEscape(out, c);
    }
  }
  out.append(text.data() + runStart, text.size() - runStart);
}

}  // namespace

void appendJsonEscaped(std::string& out, std::string_view text, JsonEscaping escaping) {
  if (escaping == JsonEscaping::kTerminalSafe) {
    appendEscaped<JsonEscaping::kTerminalSafe>(out, text);
  } else {
    appendEscaped<JsonEscaping::kRequired>(out, text);
  }
}

}  // namespace kinship
