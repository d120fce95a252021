// libFuzzer target: the pipeline's filters over records the fuzzer writes.
// The input is a logfmt line (so the fuzzer controls the fields) tested by
// filters on fields and on the line: the answer must name a filter that
// exists, agree with each condition evaluated on its own, and not depend on
// what an earlier record left in the scratch string; a level's rank, when
// there is one, is in 1..9.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <re2/re2.h>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/logfmt_parser.h"
#include "pipeline/record_filter.h"

using namespace kinship::pipeline;

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

RecordFilter filter(std::string name, bool keep, const char* field, RecordFilter::Condition condition) {
  RecordFilter f;
  f.name = std::move(name);
  f.keep = keep;
  if (field != nullptr) f.field = *FieldPath::parse(field);
  f.condition = condition;
  return f;
}

const RecordFilters& filters() {
  static const RecordFilters built = [] {
    std::vector<RecordFilter> list;
    list.push_back(filter("path", false, "path", RecordFilter::Condition::kEquals));
    list.back().equals = "/health";
    list.push_back(filter("level", true, "level", RecordFilter::Condition::kLevelAtLeast));
    list.back().level = 5;  // warn
    list.push_back(filter("line", false, nullptr, RecordFilter::Condition::kMatches));
    list.back().pattern = std::make_shared<const re2::RE2>("bot|crawl(er)?");
    return RecordFilters(std::move(list));
  }();
  return built;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  static LogfmtParser parser;
  static std::string scratch = "left over from an earlier record";
  const bool parsed = !parser.parse(line).has_value();
  NoFields none;
  const RecordFields& fields = parsed ? static_cast<const RecordFields&>(parser) : none;
  const auto dropped = filters().dropping(line, fields, scratch);
  check(!dropped || *dropped < filters().size());

  // Each condition on its own, in the filters' order.
  std::string value;
  auto fieldValue = [&](const char* name) {
    value.clear();
    return fields.appendValue(*FieldPath::parse(name), value);
  };
  const bool health = fieldValue("path") && value == "/health";
  const bool hasLevel = fieldValue("level");
  const auto rank = hasLevel ? logLevelRank(value) : std::nullopt;
  if (rank) check(*rank >= 1 && *rank <= 9);
  const bool loud = rank && *rank >= 5;
  // Compiled once: a pattern compiled per input fills ASan's quarantine
  // with freed programs until the run passes the fuzzer's memory limit.
  static const re2::RE2 botPattern("bot|crawl(er)?");
  const bool bot = re2::RE2::PartialMatch(line, botPattern);
  std::optional<size_t> expected;
  if (health) expected = 0;
  else if (!loud) expected = 1;
  else if (bot) expected = 2;
  check(dropped == expected);
  // The same answer again: nothing carried over in the scratch string.
  check(filters().dropping(line, fields, scratch) == dropped);
  return 0;
}
