#include "pipeline/json_fields.h"

#include <fmt/format.h>

#include <charconv>
#include <iterator>
#include <type_traits>

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

bool JsonFields::appendValue(const FieldPath& path, std::string& out) const {
  simdjson::dom::element value = root_;
  for (const FieldPath::Step& step : path.steps) {
    simdjson::error_code error;
    if (step.isIndex) {
      simdjson::dom::array array;
      error = value.get_array().get(array);
      if (!error) error = array.at(step.index).get(value);
    } else {
      simdjson::dom::object object;
      error = value.get_object().get(object);
      if (!error) error = object.at_key(step.name).get(value);
    }
    if (error) return false;
  }
  switch (value.type()) {
    case simdjson::dom::element_type::STRING:
      out += std::string_view(value);
      return true;
    case simdjson::dom::element_type::INT64:
      fmt::format_to(std::back_inserter(out), "{}", int64_t(value));
      return true;
    case simdjson::dom::element_type::UINT64:
      fmt::format_to(std::back_inserter(out), "{}", uint64_t(value));
      return true;
    case simdjson::dom::element_type::DOUBLE:
      fmt::format_to(std::back_inserter(out), "{}", double(value));
      return true;
    case simdjson::dom::element_type::BOOL:
      out += bool(value) ? "true" : "false";
      return true;
    default:  // null, object, array
      return false;
  }
}

}  // namespace kinship::pipeline
