// libFuzzer target: the json encoding (RecordEncoder, JsonWriter and each
// parser's writeJson). The first byte picks the parser (json, logfmt,
// syslog, or none: the line did not parse) and whether the added fields'
// source is the rest of the input too; the rest is the line. The encoding
// must always be one JSON object in valid UTF-8 (simdjson parses and checks
// both), hold every added field once with its value, and, for a line that
// was not parsed, hold the line (made UTF-8) as its first member,
// "message"; for logfmt and syslog, no top-level name comes twice.

#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "pipeline/json_writer.h"
#include "pipeline/logfmt_parser.h"
#include "pipeline/record_encoder.h"
#include "pipeline/syslog_parser.h"

using namespace kinship::pipeline;

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

class FixedClock final : public kinship::Clock {
 public:
  TimePoint now() const override { return TimePoint(); }
  std::chrono::system_clock::time_point wallNow() const override {
    return std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
  }
};

const std::vector<AddedField>& addedFields() {
  // Names a parser gives too (`message`, `host`, `level`, `sd`), to be hidden.
  static const std::vector<AddedField> fields = {
      {.name = "host", .kind = AddedField::Kind::kText, .text = "node-\"1\"\n"},
      {.name = "message", .kind = AddedField::Kind::kText, .text = "added"},
      {.name = "level", .kind = AddedField::Kind::kSource, .text = {}},
      {.name = "sd", .kind = AddedField::Kind::kRecordId, .text = {}},
  };
  return fields;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  // The line with simdjson's padding after it, as the pipeline gives it.
  std::string padded(reinterpret_cast<const char*>(data + 1), size - 1);
  const size_t lineSize = padded.size();
  padded.append(simdjson::SIMDJSON_PADDING, ' ');
  const std::string_view line(padded.data(), lineSize);

  static FixedClock clock;
  static Enrichment enrichment(addedFields(), clock, 1);
  static RecordEncoder encoder({.encoding = Encoding::kJson, .trailingNewline = false}, enrichment);
  static simdjson::dom::parser json;
  static LogfmtParser logfmt;
  static SyslogParser syslog;

  const RecordFields* fields = nullptr;
  std::optional<JsonFields> object;
  std::string_view parser;
  switch (mode % 4) {
    case 0: {
      simdjson::dom::element root;
      if (json.parse(line.data(), line.size(), false).get(root) == simdjson::SUCCESS && root.is_object()) {
        fields = &object.emplace(root);
      }
      parser = "json";
      break;
    }
    case 1:
      if (!logfmt.parse(line)) fields = &logfmt;
      parser = "logfmt";
      break;
    case 2:
      if (!syslog.parse(line)) fields = &syslog;
      parser = "syslog";
      break;
    default:
      break;
  }
  const RecordOrigin origin{.source = (mode & 4) ? line : std::string_view()};
  enrichment.begin(line, origin);
  static std::string out;
  out.clear();
  out.append("prior record");  // encoding appends to what the batch holds
  const bool replaced = encoder.encode(line, fields, object ? &*object : nullptr, enrichment, out);
  const std::string_view encoded = std::string_view(out).substr(12);

  // One JSON object, valid UTF-8 (simdjson checks both).
  static simdjson::dom::parser checker;
  simdjson::dom::element root;
  check(checker.parse(encoded.data(), encoded.size()).get(root) == simdjson::SUCCESS);
  check(root.is_object());
  check(!replaced || fields == nullptr || parser != "json" || (mode & 4));

  // Every added field with a value, once, with that value.
  std::string expected;
  std::string id(enrichment.recordId());
  for (const AddedField& field : addedFields()) {
    const bool lineIsMessage = fields == nullptr;
    size_t count = 0;
    std::string_view value;
    for (auto member : simdjson::dom::object(root)) {
      if (member.key != field.name) continue;
      ++count;
      if (member.value.is_string()) value = std::string_view(member.value);
    }
    if (field.name == "message" && lineIsMessage) {
      expected.clear();
      appendValidUtf8(line, expected);
      check(count == 1 && value == expected);
      continue;
    }
    if (field.kind == AddedField::Kind::kSource && origin.source.empty()) continue;  // absent, hides nothing
    check(count == 1);
    expected.clear();
    if (field.kind == AddedField::Kind::kText) expected = field.text;
    else if (field.kind == AddedField::Kind::kSource) appendValidUtf8(origin.source, expected);
    else expected = id;
    check(value == expected);
  }
  if (fields == nullptr) {
    // The line is the first member.
    auto first = simdjson::dom::object(root).begin();
    check(first.key() == "message");
  }
  if (parser == "logfmt" || parser == "syslog") {
    std::set<std::string_view> names;
    for (auto member : simdjson::dom::object(root)) check(names.insert(member.key).second);
  }
  return 0;
}
