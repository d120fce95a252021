#pragma once
// JsonWriter: writes one JSON value (the json encoding's record object)
// straight into a caller's buffer (the batch's), placing the commas, and
// escaping every string with common/json_escape.h. Strings come from
// untrusted lines: bytes that are not UTF-8 are replaced with U+FFFD, so the
// result is always valid JSON in valid UTF-8 (the replacement is reported,
// for a count).
//
// At the top level of the outermost object, key() refuses the names that
// the added fields take for this record (they are written after the
// record's own), so no name comes twice from that.
//
// Used on the pipeline's thread for one record; allocates nothing once the
// buffers it is given have grown.

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kinship::pipeline {

class Enrichment;

class JsonWriter {
 public:
  // `out` gets the JSON; `scratch` and `value` are buffers of the
  // caller's, reused from record to record (see valueBuffer()). `hidden`:
  // whose fields take top-level names (none when null).
  JsonWriter(std::string& out, std::string& scratch, std::string& value, const Enrichment* hidden)
      : out_(out), scratch_(scratch), value_(value), hidden_(hidden) {}

  void beginObject();
  // Goes on with an object whose `{` (and members, when `hasMembers`) the
  // caller has already put in the buffer, as if this writer had.
  void continueObject(bool hasMembers);
  void endObject();
  void beginArray();
  void endArray();
  // Writes a member's name; returns false, writing nothing, when the name is
  // hidden (the caller then skips its value).
  bool key(std::string_view name);
  // Writes a name the caller has already escaped, with its colon
  // (`"name":`); never hidden.
  void escapedKey(std::string_view nameAndColon);
  // Writes a whole member the caller has already escaped (`"name":value`).
  void escapedMember(std::string_view member);
  // A string value (escaped; not UTF-8 made UTF-8).
  void string(std::string_view text);
  // A string value the caller vouches needs no escaping (hex digits, a
  // timestamp).
  void plainString(std::string_view text);
  // A value already written as JSON (a number, true, false, null, or what
  // the caller vouches for).
  void literal(std::string_view json);
  // A buffer for callers that must build a value before writing it
  // (unescaping); its contents are theirs between their calls to string().
  std::string& valueBuffer() {
    value_.clear();
    return value_;
  }

  // Some string held bytes that are not UTF-8 (replaced with U+FFFD).
  bool replacedInvalidUtf8() const { return replaced_; }

 private:
  void separate();

  std::string& out_;
  std::string& scratch_;
  std::string& value_;
  const Enrichment* hidden_;
  int depth_ = 0;
  bool needComma_ = false;
  bool replaced_ = false;
};

// Appends `text` to `out` with every byte sequence that is not UTF-8
// replaced with U+FFFD (EF BF BD), one per maximal invalid subpart as the
// Unicode standard recommends (WHATWG's decoder does the same). Returns
// false when nothing needed replacing.
bool appendValidUtf8(std::string_view text, std::string& out);

// Keys as a JsonWriter writes them (bytes that are not UTF-8 replaced with
// U+FFFD), for telling repeated keys apart: two keys that differ only in
// such bytes are written the same. Reused from line to line: no allocation
// once grown.
class WrittenKeys {
 public:
  template <typename KeyOf>
  void assign(size_t n, KeyOf keyOf) {
    text_.clear();
    ends_.clear();
    for (size_t i = 0; i < n; ++i) {
      append(keyOf(i));
      ends_.push_back(static_cast<uint32_t>(text_.size()));
    }
  }
  // Valid until the next assign().
  std::string_view operator[](size_t i) const {
    const size_t begin = i == 0 ? 0 : ends_[i - 1];
    return std::string_view(text_).substr(begin, ends_[i] - begin);
  }

 private:
  void append(std::string_view key);

  std::string text_;
  std::vector<uint32_t> ends_;
};

// For parsers whose lines may name a field twice (logfmt `a=1 a=2`): sets
// repeated[i] (resized to n) when keyOf(i) equals keyOf(j) for some j < i,
// so the first one wins, as in templates. O(n log n) however many pairs a
// line holds; allocates nothing once `order` and `repeated` have grown.
template <typename KeyOf>
void markRepeats(size_t n, KeyOf keyOf, std::vector<uint32_t>& order, std::vector<uint8_t>& repeated) {
  repeated.assign(n, 0);
  constexpr size_t kSmall = 8;  // below this, comparing pairs beats sorting
  if (n <= kSmall) {
    for (size_t i = 1; i < n; ++i) {
      for (size_t j = 0; j < i; ++j) {
        if (keyOf(i) == keyOf(j)) {
          repeated[i] = 1;
          break;
        }
      }
    }
    return;
  }
  order.resize(n);
  for (size_t i = 0; i < n; ++i) order[i] = static_cast<uint32_t>(i);
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    auto ka = keyOf(a);
    auto kb = keyOf(b);
    return ka < kb || (ka == kb && a < b);
  });
  for (size_t k = 1; k < n; ++k) {
    if (keyOf(order[k]) == keyOf(order[k - 1])) repeated[order[k]] = 1;
  }
}

}  // namespace kinship::pipeline
