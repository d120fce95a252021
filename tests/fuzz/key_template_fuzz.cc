// libFuzzer target: partition-key templates. The input's first line is the
// template, the rest a JSON record; the template is compiled, rendered over
// the record (or as a literal) and the key cut to Kinesis' limit.

#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "pipeline/key_template.h"

using kinship::pipeline::KeyTemplate;

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
  kinship::pipeline::truncateToKeyLimit(key);
  check(key.size() <= original.size() && original.starts_with(key));
  if (validUtf8(original)) check(validUtf8(key));
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
  std::string key;
  if (compiled->renderLiteral(key)) check(!compiled->hasFields());
  static simdjson::dom::parser parser;
  simdjson::dom::element doc;
  const simdjson::padded_string padded(record);
  if (parser.parse(padded).get(doc) != simdjson::SUCCESS) return 0;
  if (compiled->render(doc, key)) {
    check(!key.empty());
    std::string again = key;
    kinship::pipeline::truncateToKeyLimit(again);
    check(again == key);  // a rendered key is already within the limit
  }
  return 0;
}
