// libFuzzer target: the regex parser. The input's first line is an RE2
// pattern (at most 256 bytes, so that compiling stays quick), the rest the
// line to match. Every named group's value must be a part of the line; a
// failed match leaves no fields.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "pipeline/regex_parser.h"

using namespace kinship::pipeline;

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

// Every input compiles an RE2 whose program and DFA cache (megabytes at
// most) are freed at once; ASan's default 256 MiB quarantine of freed
// memory then pushed the run past fuzz.sh's 512 MiB RSS limit within
// seconds, with no leak. A small quarantine keeps use-after-free detection.
extern "C" const char* __asan_default_options() { return "quarantine_size_mb=16"; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t newline = input.find('\n');
  const std::string_view pattern = input.substr(0, newline);
  if (pattern.size() > 256) return 0;
  const std::string_view line = newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);
  auto compiled = RegexPattern::compile(pattern);
  if (!compiled) return 0;
  check(!(*compiled)->groups().empty());
  static RegexMatcher matcher;  // reused across patterns, as the pipeline does
  const bool matched = !matcher.match(**compiled, line).has_value();
  std::string value;
  for (const auto& [name, group] : (*compiled)->groups()) {
    check(group >= 1);
    auto path = FieldPath::parse(name);
    if (!path) continue;
    value.clear();
    const bool found = matcher.appendValue(*path, value);
    if (!matched) check(!found);
    if (found) check(line.find(value) != std::string_view::npos);
  }
  return 0;
}
