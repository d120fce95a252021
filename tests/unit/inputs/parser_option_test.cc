#include "inputs/parser_option.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <string>

#include "inputs/file/file_input_config.h"
#include "inputs/udp/udp_input_config.h"
#include "inputs/unix/unix_input_config.h"

using kinship::config::ConfigError;
using kinship::config::Schema;
using kinship::config::Section;
using kinship::inputs::fileParserFrom;
using kinship::inputs::parserFrom;
using kinship::pipeline::Parser;
using kinship::pipeline::ParserKind;
using ::testing::HasSubstr;

namespace {

constexpr kinship::config::Option kOptions[] = {kinship::inputs::kParserOption, kinship::inputs::kPatternOption};

Section section(const std::string& yaml, Schema schema = kOptions) {
  return Section::validate(YAML::Load(yaml), schema, "t.yaml", "pipelines.app.inputs[0]",
                           [](std::string_view) { return std::optional<std::string>(); });
}

std::string errorOf(const std::string& yaml) {
  try {
    parserFrom(section(yaml));
    return "<ok>";
  } catch (const ConfigError& e) {
    return e.what();
  }
}

}  // namespace

TEST(ParserOption, Kinds) {
  EXPECT_EQ(parserFrom(section("{}")), Parser::kRaw);
  EXPECT_EQ(parserFrom(section("parser: raw")), Parser::kRaw);
  EXPECT_EQ(parserFrom(section("parser: json")), Parser::kJson);
  EXPECT_EQ(parserFrom(section("parser: logfmt")), Parser::kLogfmt);
  EXPECT_EQ(parserFrom(section("parser: syslog")), Parser::kSyslog);
  Parser regex = parserFrom(section(R"(
parser: regex
pattern: '^(?P<level>\w+) (?P<msg>.*)$'
)"));
  EXPECT_EQ(regex.kind(), ParserKind::kRegex);
  ASSERT_NE(regex.pattern(), nullptr);
  EXPECT_EQ(regex.pattern()->re2().pattern(), R"(^(?P<level>\w+) (?P<msg>.*)$)");
}

TEST(ParserOption, Errors) {
  EXPECT_THAT(errorOf("parser: regex"), HasSubstr("parser: regex needs a `pattern`"));
  EXPECT_THAT(errorOf("parser: regex\npattern: '(?P<a>x'"), HasSubstr("pattern: invalid pattern: missing )"));
  EXPECT_THAT(errorOf("parser: regex\npattern: '(x)'"), HasSubstr("no named group"));
  EXPECT_THAT(errorOf("parser: regex\npattern: ''"), HasSubstr("pattern"));
  EXPECT_THAT(errorOf("parser: json\npattern: '(?P<a>x)'"), HasSubstr("`pattern` applies to parser: regex only"));
  EXPECT_THAT(errorOf("pattern: '(?P<a>x)'"), HasSubstr("`pattern` applies to parser: regex only"));
  EXPECT_THAT(errorOf("parser: xml"), HasSubstr("parser"));
}

TEST(ParserOption, EveryInputTakesBoth) {
  for (Schema schema : {kinship::inputs::fileInputSchema(), kinship::inputs::udpInputSchema(),
                        kinship::inputs::unixInputSchema()}) {
    bool parser = false, pattern = false;
    for (const auto& option : schema) {
      parser |= option.name == "parser";
      pattern |= option.name == "pattern";
    }
    EXPECT_TRUE(parser && pattern);
  }
}

namespace {

constexpr kinship::config::Option kFileOptions[] = {kinship::inputs::kFileParserOption,
                                                    kinship::inputs::kInnerParserOption,
                                                    kinship::inputs::kPatternOption};

std::string fileErrorOf(const std::string& yaml) {
  try {
    fileParserFrom(section(yaml, kFileOptions));
    return "<ok>";
  } catch (const ConfigError& e) {
    return e.what();
  }
}

}  // namespace

TEST(ParserOption, ContainerFormatsWithTheirInnerParser) {
  using kinship::pipeline::ParserKind;
  EXPECT_EQ(fileParserFrom(section("parser: cri", kFileOptions)), Parser::container(ParserKind::kCri, Parser::kRaw));
  EXPECT_EQ(fileParserFrom(section("parser: docker", kFileOptions)),
            Parser::container(ParserKind::kDocker, Parser::kRaw));
  EXPECT_EQ(fileParserFrom(section("parser: cri\ninner_parser: json", kFileOptions)),
            Parser::container(ParserKind::kCri, Parser::kJson));
  EXPECT_EQ(fileParserFrom(section("parser: docker\ninner_parser: logfmt", kFileOptions)),
            Parser::container(ParserKind::kDocker, Parser::kLogfmt));
  EXPECT_EQ(fileParserFrom(section("parser: cri\ninner_parser: syslog", kFileOptions)),
            Parser::container(ParserKind::kCri, Parser::kSyslog));
  Parser regex = fileParserFrom(section("parser: cri\ninner_parser: regex\npattern: '^(?P<level>\\w+) '", kFileOptions));
  EXPECT_EQ(regex.kind(), ParserKind::kCri);
  EXPECT_EQ(regex.inner().kind(), ParserKind::kRegex);
  ASSERT_NE(regex.inner().pattern(), nullptr);
  // The plain parsers read the same in the file input's variant.
  EXPECT_EQ(fileParserFrom(section("parser: json", kFileOptions)), Parser::kJson);
}

TEST(ParserOption, ContainerErrors) {
  EXPECT_THAT(fileErrorOf("parser: json\ninner_parser: json"),
              HasSubstr("`inner_parser` applies to parser: cri and docker only"));
  EXPECT_THAT(fileErrorOf("inner_parser: raw"), HasSubstr("`inner_parser` applies to parser: cri and docker only"));
  EXPECT_THAT(fileErrorOf("parser: cri\ninner_parser: regex"), HasSubstr("inner_parser: regex needs a `pattern`"));
  EXPECT_THAT(fileErrorOf("parser: docker\npattern: '(?P<a>x)'"),
              HasSubstr("`pattern` applies to inner_parser: regex only"));
  EXPECT_THAT(fileErrorOf("parser: cri\ninner_parser: cri"), HasSubstr("inner_parser"));
  // The socket inputs do not read container log files.
  EXPECT_THAT(errorOf("parser: cri"), HasSubstr("parser"));
  EXPECT_THAT(errorOf("parser: docker"), HasSubstr("parser"));
}
