#pragma once
// LogfmtParser: reads a logfmt line (`level=info msg="a \"b\"" dur=5ms`)
// into key/value pairs that point into the line, so parsing copies nothing;
// a quoted value is unescaped only when a template asks for it. One per
// pipeline, used on its thread; the pairs are valid until the next parse()
// and while the line's bytes are.
//
// The grammar: pairs separated by spaces (any byte up to 0x20); a key is a
// run of bytes above 0x20 other than `=` and `"`; it is followed by `=` and a
// value, or stands alone (a flag: an empty value). A value is bare (bytes
// above 0x20 other than `"`; `=` is allowed, as in `q=a=b`) or quoted, with
// backslash escapes (`\"`, `\\`, `\n`, `\t`, `\r`; another escaped byte is
// kept with its backslash). A line needs one key=value pair to count as
// logfmt, so free text is a failure rather than a row of flags.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/json_writer.h"
#include "pipeline/parser.h"
#include "pipeline/record_fields.h"

namespace kinship::pipeline {

class LogfmtParser final : public RecordFields {
 public:
  // Returns the failure, or nothing when `line` parsed; after a failure the
  // parser has no fields.
  std::optional<ParseFailure> parse(std::string_view line);

  // The value of the first pair whose key is `path.text` (logfmt keys are
  // flat: "http.status" is one key).
  bool appendValue(const FieldPath& path, std::string& out) const override;
  // The pairs in the line's order, each key once (the first, as in
  // templates); values are strings, unescaped (a flag's is "").
  bool writeJson(JsonWriter& out) const override;

  struct Pair {
    std::string_view key;
    std::string_view value;  // as written, between the quotes when quoted
    bool quoted;
  };
  const std::vector<Pair>& pairs() const { return pairs_; }

 private:
  std::vector<Pair> pairs_;
  // writeJson()'s buffers, kept for the next line.
  mutable WrittenKeys keys_;
  mutable std::vector<uint32_t> order_;
  mutable std::vector<uint8_t> repeated_;
};

// Appends a quoted logfmt value's text (between its quotes) unescaped.
void appendLogfmtUnescaped(std::string_view quoted, std::string& out);

}  // namespace kinship::pipeline
