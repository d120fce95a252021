// JsonFields::writeJson, apart from json_fields.cc: in one file with
// appendValue, which every record of a json pipeline runs through, GCC
// stopped inlining simdjson's element accessors into it (they became out of
// line functions shared with the writer), and a json pipeline cost about 5%
// more CPU per GB with encoding raw (bench/RESULTS.md, issue 18).

#include <charconv>
#include <type_traits>

#include "pipeline/json_fields.h"
#include "pipeline/json_writer.h"

namespace kinship::pipeline {

namespace {

template <typename T>
void writeNumber(JsonWriter& out, T value) {
  char text[32];
  auto end = std::to_chars(text, text + sizeof(text), value).ptr;
  if constexpr (std::is_floating_point_v<T>) {
    // 1.0 stays a double for the consumer, not the integer 1.
    if (std::string_view(text, static_cast<size_t>(end - text)).find_first_of(".e") == std::string_view::npos) {
      *end++ = '.';
      *end++ = '0';
    }
  }
  out.literal(std::string_view(text, static_cast<size_t>(end - text)));
}

void writeElement(JsonWriter& out, simdjson::dom::element value) {
  switch (value.type()) {
    case simdjson::dom::element_type::OBJECT:
      out.beginObject();
      for (auto field : simdjson::dom::object(value)) {
        if (out.key(field.key)) writeElement(out, field.value);
      }
      out.endObject();
      return;
    case simdjson::dom::element_type::ARRAY:
      out.beginArray();
      for (simdjson::dom::element item : simdjson::dom::array(value)) writeElement(out, item);
      out.endArray();
      return;
    case simdjson::dom::element_type::STRING: out.string(std::string_view(value)); return;
    case simdjson::dom::element_type::INT64: writeNumber(out, int64_t(value)); return;
    case simdjson::dom::element_type::UINT64: writeNumber(out, uint64_t(value)); return;
    case simdjson::dom::element_type::DOUBLE: writeNumber(out, double(value)); return;
    case simdjson::dom::element_type::BOOL: out.literal(bool(value) ? "true" : "false"); return;
    case simdjson::dom::element_type::NULL_VALUE: out.literal("null"); return;
  }
}

}  // namespace

bool JsonFields::writeJson(JsonWriter& out) const {
  // The members of the root, which the caller's object replaces.
  for (auto field : simdjson::dom::object(root_)) {
    if (out.key(field.key)) writeElement(out, field.value);
  }
  return true;
}

}  // namespace kinship::pipeline
