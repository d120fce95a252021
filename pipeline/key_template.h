#pragma once
// KeyTemplate: a partition-key template such as "{service}-{host}",
// "{kubernetes.pod}" or "{tenant|org|'unknown'}:{items[0].id}", compiled once
// at startup. Rendering looks the fields up in a parsed record and writes
// the key into a caller-owned buffer, so nothing is allocated per record
// once the buffer has grown.
// Immutable after compile(); many threads may share one template.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "pipeline/field_path.h"
#include "pipeline/record_fields.h"

namespace kinship::pipeline {

// Kinesis allows partition keys of 1..256 Unicode characters, counted as
// the service (Java) and the AWS SDKs' validators (JavaScript) count string
// length: in UTF-16 code units, so a character outside the Basic
// Multilingual Plane (an emoji, a 4-byte UTF-8 sequence) counts twice.
// kinesalite counts the same way.
inline constexpr size_t kMaxPartitionKeyUtf16Units = 256;

class KeyTemplate {
 public:
  enum class Outcome {
    kRendered,      // `out` holds a non-empty key
    kMissingField,  // a reference had no alternative with a value
    kEmpty,         // every reference had a value, but the key came out empty
  };

  // Syntax: literal text with references in braces; `{{` and `}}` are
  // literal braces. A reference is one or more alternatives separated by
  // `|`, tried left to right: the first that names a field with a value
  // wins (one whose value is the empty string gives way to a later one
  // that has a value). An alternative is a field path (see FieldPath: `a.b`, `a[0].c`)
  // or, last only, a literal in single quotes (`'unknown'`, `''`), which
  // always applies; a literal cannot hold a `'`.
  static Result<KeyTemplate> compile(std::string_view text);

  // True when the template names at least one field, so records must be
  // parsed before rendering.
  bool hasFields() const { return fieldCount_ > 0; }
  const std::string& text() const { return text_; }

  // Renders over `fields` into `out` (cleared first), uncut: the caller
  // applies the length limit. On kMissingField, `out` is unspecified.
  Outcome render(const RecordFields& fields, std::string& out) const;

 private:
  struct Segment {
    std::string literal{};                     // literal text, when alternatives is empty
    std::vector<FieldPath> alternatives{};     // a reference's fields, in order
    std::optional<std::string> lastLiteral{};  // a reference's quoted default
  };
  std::string text_;
  std::vector<Segment> segments_;
  size_t fieldCount_ = 0;
};

// Cuts `key` to at most kMaxPartitionKeyUtf16Units UTF-16 code units
// without splitting a UTF-8 sequence. Counting fewer (code points) let keys
// of 129+ emoji through that the server refuses.
void truncateToKeyLimit(std::string& key);

// True when `key` is longer than kMaxPartitionKeyUtf16Units UTF-16 units.
bool exceedsKeyLimit(std::string_view key);

}  // namespace kinship::pipeline
