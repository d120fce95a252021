#pragma once
// KeyTemplate: a partition-key template such as "{service}-{host}" or
// "{kubernetes.pod}", compiled once at startup. Rendering looks the fields up
// in a parsed JSON record and writes the key into a caller-owned buffer, so
// nothing is allocated per record once the buffer has grown.
// Immutable after compile(); render() is not thread-safe (it uses the
// caller's parser) but many threads may share one template.

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace simdjson::dom {
class element;
}

namespace kinship::pipeline {

// Kinesis allows partition keys of 1..256 Unicode characters, counted as
// the service (Java) and the AWS SDKs' validators (JavaScript) count string
// length: in UTF-16 code units, so a character outside the Basic
// Multilingual Plane (an emoji, a 4-byte UTF-8 sequence) counts twice.
// kinesalite counts the same way.
inline constexpr size_t kMaxPartitionKeyUtf16Units = 256;

class KeyTemplate {
 public:
  // Syntax: literal text with `{field}` or `{dotted.field.path}` references;
  // `{{` and `}}` are literal braces.
  static Result<KeyTemplate> compile(std::string_view text);

  bool hasFields() const { return fieldCount_ > 0; }
  const std::string& text() const { return text_; }

  // Renders into `out` (cleared first). Returns false when a field is
  // missing, null, an object or an array: the caller then uses a random key.
  // Strings are used unescaped, numbers in their shortest form, booleans as
  // true or false.
  bool render(const simdjson::dom::element& doc, std::string& out) const;
  // For records that were not parsed: only a template without fields renders.
  bool renderLiteral(std::string& out) const;

 private:
  struct Segment {
    bool isField;
    std::string text;  // the literal, or the field's JSON pointer ("/kubernetes/pod")
  };
  std::string text_;
  std::vector<Segment> segments_;
  size_t fieldCount_ = 0;
};

// Cuts `key` to at most kMaxPartitionKeyUtf16Units UTF-16 code units
// without splitting a UTF-8 sequence. Counting fewer (code points) let keys
// of 129+ emoji through that the server refuses.
void truncateToKeyLimit(std::string& key);

}  // namespace kinship::pipeline
