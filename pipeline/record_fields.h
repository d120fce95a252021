#pragma once
// RecordFields: the fields a parser found in one record, as a key template
// sees them. Each parser has its own implementation over its own parse
// result (a JSON document, logfmt pairs, regex groups); nothing is copied
// out of the record until a template asks for a value. Valid only while the
// parse result it wraps is; used on the pipeline's thread.
//
// The json encoding (record_encoder.h) also asks a record for all its
// fields at once (writeJson()); a parser that cannot list them leaves the
// default, and its records are encoded as {"message": line} like lines that
// did not parse.

#include <string>

#include "pipeline/field_path.h"

namespace kinship::pipeline {

class JsonWriter;

class RecordFields {
 public:
  virtual ~RecordFields() = default;
  // Appends the value at `path` to `out` and returns true; returns false,
  // leaving `out` as it was, when the record has no usable value there
  // (absent, null, an object or an array: none names one key).
  virtual bool appendValue(const FieldPath& path, std::string& out) const = 0;
  // Writes every field as a member of the object `out` is writing (the
  // caller opened it), each name once, in an order that depends only on
  // the line; returns false, writing nothing, when this kind of record
  // cannot list its fields.
  virtual bool writeJson(JsonWriter& /*out*/) const { return false; }
};

// A record that was not parsed, or failed to: it has no fields.
class NoFields final : public RecordFields {
 public:
  bool appendValue(const FieldPath&, std::string&) const override { return false; }
};

}  // namespace kinship::pipeline
