// libFuzzer target: the logfmt parser. The input is one line; it is parsed,
// and every pair must lie inside the line, have a key free of spaces, `=`
// and `"`, and be found again by its key; a quoted value never grows when
// unescaped. A failure leaves no fields.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "pipeline/logfmt_parser.h"

using namespace kinship::pipeline;

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

bool inside(std::string_view part, std::string_view whole) {
  return part.empty() || (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  static LogfmtParser parser;  // reused across inputs, as the pipeline does
  if (parser.parse(line)) {
    check(parser.pairs().empty());
    return 0;
  }
  check(!parser.pairs().empty());
  std::string value;
  const auto& pairs = parser.pairs();
  for (size_t i = 0; i < pairs.size(); ++i) {
    const auto& pair = pairs[i];
    check(!pair.key.empty() && inside(pair.key, line) && inside(pair.value, line));
    for (char c : pair.key) check(static_cast<unsigned char>(c) > 0x20 && c != '=' && c != '"');
    auto path = FieldPath::parse(pair.key);
    if (!path) continue;  // keys may hold characters a template cannot name
    value.clear();
    check(parser.appendValue(*path, value));
    // A repeated key gives its first value (checked at the first).
    bool first = true;
    for (size_t j = 0; j < i && first; ++j) first = pairs[j].key != pair.key;
    if (!first) continue;
    if (pair.quoted) check(value.size() <= pair.value.size());
    else check(value == pair.value);
  }
  return 0;
}
