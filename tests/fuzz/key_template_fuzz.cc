// libFuzzer target: partition-key templates. The input's first line is the
// template, the rest a JSON record; the template is compiled, rendered over
// the record and over no fields, and the keys that RecordKeys derives with
// each fallback and overflow rule are checked against what Kinesis accepts.

#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/explicit_hash_key.h"
#include "pipeline/json_fields.h"
#include "pipeline/key_template.h"
#include "pipeline/record_keys.h"

using namespace kinship::pipeline;

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

bool validUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    const size_t width = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (width == 0 || i + width > s.size()) return false;
    for (size_t k = 1; k < width; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return false;
    }
    i += width;
  }
  return true;
}

// truncateToKeyLimit only ever cuts, and never inside a UTF-8 sequence.
void checkTruncation(std::string_view original) {
  std::string key(original);
  truncateToKeyLimit(key);
  check(key.size() <= original.size() && original.starts_with(key));
  if (validUtf8(original)) check(validUtf8(key));
}

// Every rule set RecordKeys supports, built once per template.
std::vector<KeyRules> allRules(const KeyTemplate& compiled) {
  std::vector<KeyRules> rules;
  for (KeyFallback fallback : {KeyFallback::kRandom, KeyFallback::kHash, KeyFallback::kConstant}) {
    for (KeyOverflow overflow : {KeyOverflow::kCut, KeyOverflow::kHash}) {
      KeyRules r;
      r.partitionKey = {.keyTemplate = compiled, .fallback = fallback, .constant = "c", .overflow = overflow};
      r.explicitHashKey = {.keyTemplate = compiled, .fallback = fallback, .constant = "12"};
      rules.push_back(std::move(r));
    }
  }
  KeyRules none;
  none.explicitHashKey = {.keyTemplate = compiled, .fallback = KeyFallback::kNone, .constant = ""};
  rules.push_back(std::move(none));
  return rules;
}

// What RecordKeys gives is always something Kinesis accepts.
void checkKeys(RecordKeys& keys, const RecordFields& fields, std::string_view data, bool hashKeyMayBeAbsent) {
  const std::string_view key = keys.partitionKey(fields, KeyMiss::kMissingField, data);
  check(!key.empty() && !exceedsKeyLimit(key));
  const std::string_view hashKey = keys.explicitHashKey(fields, KeyMiss::kMissingField, data);
  if (hashKey.empty()) check(hashKeyMayBeAbsent);
  else check(canonicalExplicitHashKey(hashKey) == hashKey);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t newline = input.find('\n');
  const std::string_view templateText = input.substr(0, newline);
  const std::string_view record = newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);
  checkTruncation(input);

  auto compiled = KeyTemplate::compile(templateText);
  if (!compiled) return 0;
  std::string key = "previous";
  const auto unparsed = compiled->render(NoFields(), key);
  if (unparsed == KeyTemplate::Outcome::kRendered) check(!key.empty());
  if (unparsed == KeyTemplate::Outcome::kEmpty) check(key.empty());
  if (!compiled->hasFields()) check(unparsed != KeyTemplate::Outcome::kMissingField);

  static simdjson::dom::parser parser;
  simdjson::dom::element doc;
  const simdjson::padded_string padded(record);
  const bool parsed = parser.parse(padded).get(doc) == simdjson::SUCCESS;
  const JsonFields json(doc);
  const NoFields none;
  const RecordFields& fields = parsed ? static_cast<const RecordFields&>(json) : none;
  const auto outcome = compiled->render(fields, key);
  if (outcome == KeyTemplate::Outcome::kRendered) check(!key.empty());
  if (outcome == KeyTemplate::Outcome::kEmpty) check(key.empty());
  // Fields can only add values: what renders without them renders with them.
  if (unparsed == KeyTemplate::Outcome::kRendered) check(outcome == KeyTemplate::Outcome::kRendered);

  for (KeyRules& rules : allRules(*compiled)) {
    const bool hashKeyMayBeAbsent = rules.explicitHashKey.fallback == KeyFallback::kNone;
    RecordKeys keys(std::move(rules), 1);
    checkKeys(keys, fields, record, hashKeyMayBeAbsent);
  }
  return 0;
}
