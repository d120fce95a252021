#include "pipeline/json_fields.h"

#include <fmt/format.h>

#include <iterator>

namespace kinship::pipeline {

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
