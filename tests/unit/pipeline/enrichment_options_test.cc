#include "pipeline/enrichment_options.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>

#include "config/config.h"

namespace kinship::pipeline {
namespace {

using ::testing::HasSubstr;

config::Section pipelineOptions(const std::string& options) {
  const std::string yaml = "inputs: []\nsink: {}\n" + options;
  return config::Section::validate(YAML::Load(yaml), config::pipelineSchema(), "t.yaml", "pipelines.app",
                                   [](std::string_view name) -> std::optional<std::string> {
                                     if (name == "POD_NAME") return "web-7d4f";
                                     return std::nullopt;
                                   });
}

std::string errorOf(const std::string& options) {
  try {
    addedFieldsFrom(pipelineOptions(options), "h");
    return "<ok>";
  } catch (const config::ConfigError& e) {
    return e.what();
  }
}

TEST(AddedFieldsFrom, NoneByDefault) { EXPECT_TRUE(addedFieldsFrom(pipelineOptions(""), "h").empty()); }

TEST(AddedFieldsFrom, TextsThenMetadataInTheirOrder) {
  auto fields = addedFieldsFrom(pipelineOptions("add_fields:\n"
                                                "  zone: eu\n"
                                                "  pod: \"${POD_NAME}\"\n"
                                                "  node: \"${NODE_NAME:-unknown}\"\n"
                                                "add_metadata:\n"
                                                "  host: hostname\n"
                                                "  file: source\n"
                                                "  at: ingest_time\n"
                                                "  id: record_id\n"
                                                "  sum: line_hash\n"),
                                "node-1.example");
  ASSERT_EQ(fields.size(), 8u);
  const std::pair<std::string, std::string> texts[] = {
      {"zone", "eu"}, {"pod", "web-7d4f"}, {"node", "unknown"}, {"host", "node-1.example"}};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(fields[i].name, texts[i].first);
    EXPECT_EQ(fields[i].kind, AddedField::Kind::kText);
    EXPECT_EQ(fields[i].text, texts[i].second);
  }
  EXPECT_EQ(fields[4].name, "file");
  EXPECT_EQ(fields[4].kind, AddedField::Kind::kSource);
  EXPECT_EQ(fields[5].kind, AddedField::Kind::kIngestTime);
  EXPECT_EQ(fields[6].kind, AddedField::Kind::kRecordId);
  EXPECT_EQ(fields[7].kind, AddedField::Kind::kLineHash);
}

TEST(AddedFieldsFrom, ErrorsNameTheEntryAndItsLine) {
  EXPECT_EQ(errorOf("add_metadata:\n  host: hostnam\n"),
            "t.yaml:4:3: pipelines.app.add_metadata.host: unknown metadata \"hostnam\": expected one of hostname, "
            "source, ingest_time, record_id, line_hash");
  EXPECT_THAT(errorOf("add_fields:\n  a: x\n  k8s.pod: y\n"),
              HasSubstr("t.yaml:5:3: pipelines.app.add_fields.k8s.pod: \"k8s.pod\" cannot name an added field"));
  EXPECT_THAT(errorOf("add_fields:\n  host: x\nadd_metadata:\n  host: hostname\n"),
              HasSubstr("t.yaml:6:3: pipelines.app.add_metadata.host: the field \"host\" is added twice"));
  // What the schema checks: a map of strings, the environment.
  EXPECT_THAT(errorOf("add_fields: [a]\n"), HasSubstr("pipelines.app.add_fields: expected a map of strings"));
  EXPECT_THAT(errorOf("add_fields:\n  pod: \"${MISSING}\"\n"),
              HasSubstr("t.yaml:4:8: pipelines.app.add_fields.pod: environment variable 'MISSING' is not set"));
}

TEST(EncodingOptionsFrom, RawWithoutNewlineByDefault) {
  EncodingOptions options = encodingOptionsFrom(pipelineOptions(""));
  EXPECT_EQ(options.encoding, Encoding::kRaw);
  EXPECT_FALSE(options.trailingNewline);
  options = encodingOptionsFrom(pipelineOptions("encoding: json\ntrailing_newline: true\n"));
  EXPECT_EQ(options.encoding, Encoding::kJson);
  EXPECT_TRUE(options.trailingNewline);
}

TEST(EncodingOptionsFrom, SchemaRefusesOtherEncodings) {
  try {
    pipelineOptions("encoding: jsno\n");
    FAIL() << "accepted";
  } catch (const config::ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("t.yaml:3:11: pipelines.app.encoding: invalid value 'jsno'"));
    EXPECT_THAT(e.what(), HasSubstr("did you mean 'json'?"));
  }
}

TEST(HostName, IsTheKernels) { EXPECT_FALSE(hostName().empty()); }

}  // namespace
}  // namespace kinship::pipeline
