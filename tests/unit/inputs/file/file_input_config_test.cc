#include "inputs/file/file_input_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <re2/re2.h>
#include <yaml-cpp/yaml.h>

#include <string>

using namespace kinship::inputs;
using kinship::config::ConfigError;
using kinship::config::EnvLookup;
using kinship::config::Section;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

namespace {

const EnvLookup kNoEnv = [](std::string_view) -> std::optional<std::string> { return std::nullopt; };

FileInputConfig configOf(const std::string& yaml, const EnvLookup& env = kNoEnv) {
  Section s = Section::validate(YAML::Load(yaml), fileInputSchema(), "kinship.yaml", "pipelines.app.inputs.0", env);
  return fileInputConfigFrom(s);
}

std::string errorOf(const std::string& yaml) {
  try {
    configOf(yaml);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "<no error>";
}

}  // namespace

TEST(FileInputConfig, Defaults) {
  FileInputConfig c = configOf(R"(paths: ["/var/log/app/*.log"])");
  EXPECT_EQ(c.paths, std::vector<std::string>{"/var/log/app/*.log"});
  EXPECT_TRUE(c.startAtEnd);
  EXPECT_EQ(c.parser, kinship::pipeline::Parser::kRaw);
  EXPECT_EQ(c.pollInterval, 1000ms);
  EXPECT_EQ(c.readBufferSize, 256u * 1024u);
  EXPECT_EQ(c.maxLineSize, 1024u * 1024u - 1024u);
}

TEST(FileInputConfig, SchemaDefaultsMatchStructDefaults) {
  FileInputConfig fromSchema = configOf(R"(paths: ["x"])");
  FileInputConfig plain;
  EXPECT_EQ(fromSchema.startAtEnd, plain.startAtEnd);
  EXPECT_EQ(fromSchema.parser, plain.parser);
  EXPECT_EQ(fromSchema.pollInterval, plain.pollInterval);
  EXPECT_EQ(fromSchema.readBufferSize, plain.readBufferSize);
  EXPECT_EQ(fromSchema.maxLineSize, plain.maxLineSize);
}

TEST(FileInputConfig, StartAtAndParserMapping) {
  FileInputConfig c = configOf("paths: [a, b]\nstart_at: beginning\nparser: json\n");
  EXPECT_EQ(c.paths, (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(c.startAtEnd);
  EXPECT_EQ(c.parser, kinship::pipeline::Parser::kJson);

  FileInputConfig d = configOf("paths: [a]\nstart_at: end\nparser: raw\n");
  EXPECT_TRUE(d.startAtEnd);
  EXPECT_EQ(d.parser, kinship::pipeline::Parser::kRaw);
}

TEST(FileInputConfig, SizesAndDurations) {
  FileInputConfig c = configOf("paths: [a]\npoll_interval: 250ms\nread_buffer_size: 64KiB\nmax_line_size: 1000\n");
  EXPECT_EQ(c.pollInterval, 250ms);
  EXPECT_EQ(c.readBufferSize, 64u * 1024u);
  EXPECT_EQ(c.maxLineSize, 1000u);
}

TEST(FileInputConfig, EnvironmentSubstitutionInPaths) {
  EnvLookup env = [](std::string_view name) -> std::optional<std::string> {
    if (name == "LOG_DIR") return "/srv/logs";
    return std::nullopt;
  };
  FileInputConfig c = configOf(R"(paths: ["${LOG_DIR}/*.log"])", env);
  EXPECT_EQ(c.paths, std::vector<std::string>{"/srv/logs/*.log"});
}

TEST(FileInputConfig, EmptyPathsListRejected) {
  std::string e = errorOf("paths: []");
  EXPECT_THAT(e, HasSubstr("pipelines.app.inputs.0.paths"));
  EXPECT_THAT(e, HasSubstr("at least one path is needed"));
  EXPECT_THAT(e, HasSubstr("kinship.yaml"));
}

TEST(FileInputConfig, EmptyPathRejected) {
  std::string e = errorOf(R"(paths: ["/a", ""])");
  EXPECT_THAT(e, HasSubstr("pipelines.app.inputs.0.paths"));
  EXPECT_THAT(e, HasSubstr("a path is empty"));
}

TEST(FileInputConfig, MissingPathsRejected) {
  std::string e = errorOf("start_at: end");
  EXPECT_THAT(e, HasSubstr("pipelines.app.inputs.0.paths"));
  EXPECT_THAT(e, HasSubstr("missing required option 'paths'"));
}

TEST(FileInputConfig, SchemaChecksValues) {
  EXPECT_THAT(errorOf("paths: [a]\nstart_at: middle\n"), HasSubstr("pipelines.app.inputs.0.start_at"));
  EXPECT_THAT(errorOf("paths: [a]\nparser: xml\n"), HasSubstr("pipelines.app.inputs.0.parser"));
  EXPECT_THAT(errorOf("paths: [a]\nread_buffer_size: 1KiB\n"), HasSubstr("pipelines.app.inputs.0.read_buffer_size"));
  EXPECT_THAT(errorOf("paths: [a]\nmax_line_size: 0\n"), HasSubstr("pipelines.app.inputs.0.max_line_size"));
  EXPECT_THAT(errorOf("paths: [a]\npoll_interval: 5ms\n"), HasSubstr("pipelines.app.inputs.0.poll_interval"));
  EXPECT_THAT(errorOf("paths: /var/log/x.log\n"), HasSubstr("pipelines.app.inputs.0.paths"));
  EXPECT_THAT(errorOf("paths: [a]\nbogus: 1\n"), HasSubstr("pipelines.app.inputs.0.bogus"));
}

TEST(FileInputConfig, NewOptionsDefaults) {
  FileInputConfig c = configOf(R"(paths: ["x"])");
  FileInputConfig plain;
  EXPECT_EQ(c.longLines, LongLines::kDrop);
  EXPECT_EQ(c.longLines, plain.longLines);
  EXPECT_EQ(c.partialLineTimeout, 5s);
  EXPECT_EQ(c.partialLineTimeout, plain.partialLineTimeout);
  EXPECT_FALSE(c.multiline.has_value());
  EXPECT_TRUE(c.exclude.empty());
}

TEST(FileInputConfig, LongLinesPartialLineTimeoutAndExclude) {
  FileInputConfig c = configOf(
      "paths: [a]\nlong_lines: split\npartial_line_timeout: 250ms\nexclude: [\"*.gz\", \"/var/log/x-*\"]\n");
  EXPECT_EQ(c.longLines, LongLines::kSplit);
  EXPECT_EQ(c.partialLineTimeout, 250ms);
  EXPECT_EQ(c.exclude, (std::vector<std::string>{"*.gz", "/var/log/x-*"}));
  EXPECT_THAT(errorOf("paths: [a]\nlong_lines: truncate\n"), HasSubstr("pipelines.app.inputs.0.long_lines"));
  EXPECT_THAT(errorOf("paths: [a]\npartial_line_timeout: 1ms\n"),
              HasSubstr("pipelines.app.inputs.0.partial_line_timeout"));
  EXPECT_THAT(errorOf("paths: [a]\nexclude: [\"\"]\n"), HasSubstr("a pattern is empty"));
  EXPECT_THAT(errorOf("paths: [a]\nexclude: \"*.gz\"\n"), HasSubstr("pipelines.app.inputs.0.exclude"));
}

TEST(FileInputConfig, Multiline) {
  FileInputConfig c = configOf("paths: [a]\nmultiline:\n  start: '^\\d{4}-'\n");
  ASSERT_TRUE(c.multiline.has_value());
  ASSERT_NE(c.multiline->start, nullptr);
  EXPECT_EQ(c.multiline->start->pattern(), "^\\d{4}-");
  EXPECT_EQ(c.multiline->timeout, 1s);
  EXPECT_EQ(c.multiline->maxSize, 1023u * 1024u);

  FileInputConfig d = configOf("paths: [a]\nmultiline: { start: '^\\S', timeout: 300ms, max_size: 64KiB }\n");
  EXPECT_EQ(d.multiline->timeout, 300ms);
  EXPECT_EQ(d.multiline->maxSize, 64u * 1024u);
}

TEST(FileInputConfig, MultilineEnvironmentSubstitution) {
  EnvLookup env = [](std::string_view name) -> std::optional<std::string> {
    if (name == "START") return "^BEGIN";
    return std::nullopt;
  };
  FileInputConfig c = configOf("paths: [a]\nmultiline: { start: '${START}' }\n", env);
  EXPECT_EQ(c.multiline->start->pattern(), "^BEGIN");
}

TEST(FileInputConfig, MultilineErrorsNameTheLine) {
  // A bad regular expression: the error points at the `start` line.
  std::string e = errorOf("paths: [a]\nmultiline:\n  timeout: 2s\n  start: '^(unclosed'\n");
  EXPECT_THAT(e, HasSubstr("kinship.yaml:4:"));
  EXPECT_THAT(e, HasSubstr("pipelines.app.inputs.0.multiline.start"));
  EXPECT_THAT(e, HasSubstr("not a valid RE2 regular expression"));
  EXPECT_THAT(e, HasSubstr("missing )"));

  EXPECT_THAT(errorOf("paths: [a]\nmultiline: { timeout: 2s }\n"), HasSubstr("missing required option 'start'"));
  EXPECT_THAT(errorOf("paths: [a]\nmultiline: { start: x, bogus: 1 }\n"),
              HasSubstr("pipelines.app.inputs.0.multiline.bogus"));
  EXPECT_THAT(errorOf("paths: [a]\nmultiline: { start: x, max_size: 10 }\n"),
              HasSubstr("pipelines.app.inputs.0.multiline.max_size"));
  EXPECT_THAT(errorOf("paths: [a]\nmultiline: '^x'\n"), HasSubstr("expected a map"));
}
