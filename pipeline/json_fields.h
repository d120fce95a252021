#pragma once
// JsonFields: the fields of a JSON object parsed by simdjson's DOM parser.
// Strings are used unescaped, numbers in their shortest form, booleans as
// `true`/`false`; a path steps into objects by name and into arrays by index.

#include <simdjson.h>

#include "pipeline/record_fields.h"

namespace kinship::pipeline {

class JsonFields final : public RecordFields {
 public:
  // `root` must outlive this object (it lives in the parser that made it).
  explicit JsonFields(simdjson::dom::element root) : root_(root) {}
  bool appendValue(const FieldPath& path, std::string& out) const override;
  // The object's members in the line's order, values as parsed (numbers in
  // their shortest form, a double always with a point or an exponent);
  // hidden names left out.
  bool writeJson(JsonWriter& out) const override;
  simdjson::dom::element root() const { return root_; }

 private:
  simdjson::dom::element root_;
};

}  // namespace kinship::pipeline
