#pragma once
// The one JSON string escaper: the inside of a JSON string (quotes not
// included), appended to a buffer the caller reuses, so the Kinesis encoder
// can escape every partition key without allocating.
//
// Threading: a pure function; concurrent calls on different buffers are safe.

#include <string>
#include <string_view>

namespace kinship {

enum class JsonEscaping {
  // What JSON requires and nothing more: '"', '\\' and U+0000..U+001F.
  // Everything else is copied byte for byte, so a request body stays as
  // short as the text allows (the Kinesis encoder's partition keys and
  // stream names).
  kRequired,
  // Also DEL (U+007F) and the C1 controls U+0080..U+009F (UTF-8 C2 80..C2 9F),
  // which some terminals obey (U+009B is CSI): for log lines, which an
  // operator reads in a terminal and which carry strings from outside. The
  // result is still the same JSON string, only longer.
  kTerminalSafe,
};

// Appends `text` escaped as the inside of a JSON string. \n, \r, \t, '"' and
// '\\' get their short escapes, other escaped characters \u00xx (lowercase).
// Bytes are not checked for UTF-8: text that is not UTF-8 stays not UTF-8.
void appendJsonEscaped(std::string& out, std::string_view text, JsonEscaping escaping = JsonEscaping::kRequired);

}  // namespace kinship
