// The pipeline's filters: levels, conditions on fields and on the line,
// keep and drop, records lacking the field, and the config checks that
// name the offending option.

#include "pipeline/record_filter.h"
#include "pipeline/record_filter_options.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <map>
#include <string>

#include "config/config.h"
#include "config/schema.h"

namespace kinship::pipeline {
namespace {

using config::ConfigError;
using config::Section;
using ::testing::HasSubstr;

Section pipelineOptions(const std::string& filters) {
  const std::string yaml = "inputs: []\nsink: {}\n" + filters;
  return Section::validate(YAML::Load(yaml), config::pipelineSchema(), "t.yaml", "pipelines.app",
                           [](std::string_view) { return std::optional<std::string>(); });
}

std::string errorOf(const std::string& filters) {
  try {
    recordFiltersFrom(pipelineOptions(filters));
    return "<ok>";
  } catch (const ConfigError& e) {
    return e.what();
  }
}

// A record's fields, flat.
class MapFields final : public RecordFields {
 public:
  explicit MapFields(std::map<std::string, std::string> values) : values_(std::move(values)) {}
  bool appendValue(const FieldPath& path, std::string& out) const override {
    auto it = values_.find(path.text);
    if (it == values_.end()) return false;
    out += it->second;
    return true;
  }

 private:
  std::map<std::string, std::string> values_;
};

TEST(LogLevelRank, OrdersTheNamesLoggersWrite) {
  EXPECT_EQ(logLevelRank("TRACE"), 1);
  EXPECT_EQ(logLevelRank("debug"), 2);
  EXPECT_EQ(logLevelRank("Info"), 3);
  EXPECT_EQ(logLevelRank("notice"), 4);
  EXPECT_EQ(logLevelRank("warn"), logLevelRank("WARNING"));
  EXPECT_EQ(logLevelRank("err"), logLevelRank("error"));
  EXPECT_LT(logLevelRank("error"), logLevelRank("critical"));
  EXPECT_LT(logLevelRank("crit"), logLevelRank("alert"));
  EXPECT_LT(logLevelRank("alert"), logLevelRank("fatal"));
  EXPECT_EQ(logLevelRank("emerg"), logLevelRank("panic"));
  EXPECT_EQ(logLevelRank("30"), logLevelRank("info"));   // pino, bunyan
  EXPECT_EQ(logLevelRank("50"), logLevelRank("error"));
  EXPECT_EQ(logLevelRank("60"), logLevelRank("fatal"));
  EXPECT_FALSE(logLevelRank(""));
  EXPECT_FALSE(logLevelRank("informational"));
  EXPECT_FALSE(logLevelRank("3"));  // a syslog severity: use severity_name
}

TEST(RecordFilters, DropKeepAndTheFirstThatDropsIsNamed) {
  auto filters = recordFiltersFrom(pipelineOptions(R"(filters:
  - name: no-health
    field: path
    equals: /health
  - name: errors-only
    action: keep
    level_at_least: warn
  - name: no-bots
    matches: 'bot|crawler'
)"));
  ASSERT_EQ(filters.size(), 3u);
  EXPECT_TRUE(filters.needsFields());
  std::string scratch;
  struct Case {
    std::string line;
    std::map<std::string, std::string> fields;
    std::optional<size_t> dropped;
  };
  const Case cases[] = {
      {"GET /health", {{"path", "/health"}, {"level", "error"}}, 0},
      {"GET /healthz", {{"path", "/healthz"}, {"level", "error"}}, std::nullopt},
      {"GET /x", {{"path", "/x"}, {"level", "info"}}, 1},
      {"GET /x", {{"path", "/x"}}, 1},  // no level: not at least warn, so not kept
      {"GET /x", {{"path", "/x"}, {"level", "WARNING"}}, std::nullopt},
      {"GET /x by Googlebot", {{"level", "fatal"}}, 2},  // the line, not a field
      {"GET /x", {{"level", "verbose"}}, 1},  // not a level
  };
  for (const Case& c : cases) {
    EXPECT_EQ(filters.dropping(c.line, MapFields(c.fields), scratch), c.dropped) << c.line;
  }
}

TEST(RecordFilters, OnTheLineOnlyNeedNoFields) {
  auto filters = recordFiltersFrom(pipelineOptions(R"(filters:
  - name: no-debug
    matches: '^\S+ DEBUG '
  - name: exact
    equals: "-- MARK --"
)"));
  EXPECT_FALSE(filters.needsFields());
  std::string scratch;
  MapFields none({});
  EXPECT_EQ(filters.dropping("2026-12-07 DEBUG x", none, scratch), 0u);
  EXPECT_EQ(filters.dropping("-- MARK --", none, scratch), 1u);
  EXPECT_EQ(filters.dropping("2026-12-07 INFO x", none, scratch), std::nullopt);
  EXPECT_TRUE(recordFiltersFrom(pipelineOptions("")).empty());
}

TEST(RecordFilters, ConfigErrorsNameTheOption) {
  EXPECT_THAT(errorOf("filters: {name: x}\n"), HasSubstr("pipelines.app.filters: expected a list of maps"));
  EXPECT_THAT(errorOf("filters:\n  - name: x\n"), HasSubstr("exactly one condition"));
  EXPECT_THAT(errorOf("filters:\n  - name: x\n    equals: a\n    matches: b\n"), HasSubstr("exactly one condition"));
  EXPECT_THAT(errorOf("filters:\n  - equals: a\n"), HasSubstr("pipelines.app.filters[0].name"));
  EXPECT_THAT(errorOf("filters:\n  - name: x\n    matches: '('\n"),
              HasSubstr("pipelines.app.filters[0].matches: not an RE2 expression"));
  EXPECT_THAT(errorOf("filters:\n  - name: x\n    equals: a\n  - name: x\n    equals: b\n"),
              HasSubstr("pipelines.app.filters[1].name: another filter of this pipeline is named \"x\""));
  EXPECT_THAT(errorOf("filters:\n  - name: x\n    level_at_least: loud\n"), HasSubstr("filters[0].level_at_least"));
  EXPECT_THAT(errorOf("filters:\n  - name: x\n    action: maybe\n    equals: a\n"), HasSubstr("filters[0].action"));
  EXPECT_THAT(errorOf("filters:\n  - name: x\n    field: 'a..b'\n    equals: a\n"), HasSubstr("filters[0].field"));
  EXPECT_THAT(errorOf("filters:\n  - name: x\n    equals: a\n    colour: red\n"), HasSubstr("colour"));
  EXPECT_EQ(errorOf("filters:\n  - name: x\n    field: http.status\n    equals: '500'\n"), "<ok>");
}

}  // namespace
}  // namespace kinship::pipeline
