#include "inputs/file/file_input_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
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
