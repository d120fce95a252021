#include "pipeline/record_encoder.h"

#include "pipeline/json_writer.h"

namespace kinship::pipeline {

namespace {

bool isJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view trimEnd(std::string_view text) {
  while (!text.empty() && isJsonSpace(text.back())) text.remove_suffix(1);
  return text;
}

// Whether a field of the enrichment would take a top-level name of `object`.
bool hidesAMember(const Enrichment& enrichment, simdjson::dom::element object) {
  if (enrichment.empty()) return false;
  for (auto field : simdjson::dom::object(object)) {
    if (enrichment.hides(field.key)) return true;
  }
  return false;
}

}  // namespace

RecordEncoder::RecordEncoder(EncodingOptions options, const Enrichment& enrichment) : options_(options) {
  for (const AddedField& field : enrichment.fields()) {
    std::string member;
    std::string unused;
    std::string value;
    JsonWriter writer(member, unused, value, nullptr);
    writer.continueObject(false);
    writer.key(field.name);
    if (field.kind == AddedField::Kind::kText) writer.string(field.text);
    members_.push_back(std::move(member));
  }
}

bool RecordEncoder::encode(std::string_view line, const RecordFields* fields, const JsonFields* jsonObject,
                           Enrichment& enrichment, std::string& out) {
  bool replaced = false;
  if (options_.encoding == Encoding::kJson) {
    replaced = encodeJson(line, fields, jsonObject, enrichment, out);
  } else {
    out += line;
  }
  if (options_.trailingNewline) out += '\n';
  return replaced;
}

bool RecordEncoder::encodeJson(std::string_view line, const RecordFields* fields, const JsonFields* jsonObject,
                               Enrichment& enrichment, std::string& out) {
  // Spliced only when the object is all the record's fields (not the
  // inner line of a container format, whose fields wrap it).
  if (jsonObject != nullptr && fields == jsonObject && !hidesAMember(enrichment, jsonObject->root())) {
    // The line as written, which simdjson has checked (valid JSON, valid
    // UTF-8, an object, so its last byte but spaces is its `}`): the added
    // fields go before that brace.
    std::string_view body = trimEnd(line);
    body.remove_suffix(1);
    out += body;
    JsonWriter writer(out, scratch_, value_, nullptr);
    writer.continueObject(trimEnd(body).back() != '{');
    writeAdded(writer, enrichment, false);
    writer.endObject();
    return writer.replacedInvalidUtf8();
  }
  JsonWriter writer(out, scratch_, value_, &enrichment);
  writer.beginObject();
  const bool listed = fields != nullptr && fields->writeJson(writer);
  if (!listed) {
    writer.escapedKey("\"message\":");
    writer.string(line);
  }
  writeAdded(writer, enrichment, !listed);
  writer.endObject();
  return writer.replacedInvalidUtf8();
}

void RecordEncoder::writeAdded(JsonWriter& writer, Enrichment& enrichment, bool lineIsMessage) {
  const auto& added = enrichment.fields();
  for (size_t i = 0; i < added.size(); ++i) {
    if (!enrichment.hasValue(i) || (lineIsMessage && added[i].name == "message")) continue;
    if (added[i].kind == AddedField::Kind::kText) {
      writer.escapedMember(members_[i]);
      continue;
    }
    writer.escapedKey(members_[i]);
    std::string& value = writer.valueBuffer();
    enrichment.appendValue(i, value);
    // A time and hex digits need no escaping; a source (a path) may.
    if (added[i].kind == AddedField::Kind::kSource) writer.string(value);
    else writer.plainString(value);
  }
}

}  // namespace kinship::pipeline
