// Building a Pipeline from its options: what the daemon used to do itself.

#include "pipeline/pipeline_builder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>

#include "config/config.h"
#include "pipeline/enrichment_options.h"

namespace kinship::pipeline {
namespace {

using ::testing::HasSubstr;

constexpr size_t kQueueBytes = 64 * 1024;

// A pipeline's options as the loader validates them (inputs and sink are
// required by the schema, so every case carries placeholders).
config::Section pipelineOptions(const std::string& options) {
  const std::string yaml = "inputs: []\nsink: {}\n" + options;
  return config::Section::validate(YAML::Load(yaml), config::pipelineSchema(), "t.yaml", "pipelines.app",
                                   [](std::string_view) { return std::optional<std::string>(); });
}

std::string errorOf(const std::string& options) {
  try {
    pipelineSettingsFrom(pipelineOptions(options));
    return "<ok>";
  } catch (const config::ConfigError& e) {
    return e.what();
  }
}

// Adds `line` to a fresh batch of `p` with the JSON parser; returns its key.
std::string keyOf(Pipeline& p, const std::string& line) {
  BatchPtr batch = p.queue().acquire();
  std::string padded = line + std::string(kParsePadding, ' ');
  p.addLine(std::string_view(padded.data(), line.size()), Parser::kJson, *batch);
  EXPECT_EQ(batch->size(), 1u);
  return batch->size() == 1 ? std::string(batch->key(0)) : std::string();
}

TEST(PipelineSettingsFrom, DefaultsAreTheSchemas) {
  PipelineSettings settings = pipelineSettingsFrom(pipelineOptions(""));
  EXPECT_FALSE(settings.keys.partitionKey.keyTemplate.has_value());
  EXPECT_EQ(settings.keys.partitionKey.fallback, KeyFallback::kRandom);
  EXPECT_FALSE(settings.keys.explicitHashKey.keyTemplate.has_value());
}

TEST(PipelineSettingsFrom, CompilesTheTemplates) {
  PipelineSettings settings = pipelineSettingsFrom(
      pipelineOptions("partition_key: \"{a}-{b}\"\nexplicit_hash_key: \"{h}\"\n"
                      "partition_key_fallback: \"constant:none\"\n"));
  ASSERT_TRUE(settings.keys.partitionKey.keyTemplate.has_value());
  EXPECT_TRUE(settings.keys.partitionKey.keyTemplate->hasFields());
  EXPECT_EQ(settings.keys.partitionKey.fallback, KeyFallback::kConstant);
  EXPECT_EQ(settings.keys.partitionKey.constant, "none");
  EXPECT_TRUE(settings.keys.explicitHashKey.keyTemplate.has_value());
}

TEST(PipelineSettingsFrom, ABadTemplateIsAConfigErrorAtItsOption) {
  EXPECT_THAT(errorOf("partition_key: \"{a\"\n"), HasSubstr("t.yaml:3:"));
  EXPECT_THAT(errorOf("partition_key: \"{a\"\n"), HasSubstr("pipelines.app.partition_key"));
  EXPECT_THAT(errorOf("explicit_hash_key: \"x\"\n"),
              HasSubstr("pipelines.app.explicit_hash_key: 'x' is not a decimal number below 2^128"));
  EXPECT_EQ(errorOf("partition_key: \"{a}\"\n"), "<ok>");
}

TEST(BuildPipeline, KeysRecordsByTheCompiledTemplate) {
  prometheus::Registry registry;
  auto p = buildPipeline("app", pipelineSettingsFrom(pipelineOptions("partition_key: \"{a}-{b}\"\n")), kQueueBytes,
                         registry);
  EXPECT_EQ(p->name(), "app");
  EXPECT_EQ(keyOf(*p, R"({"a":"x","b":1})"), "x-1");
}

TEST(BuildPipeline, BoundsItsQueueAtTheGivenSize) {
  prometheus::Registry registry;
  auto p = buildPipeline("app", pipelineSettingsFrom(pipelineOptions("")), kQueueBytes, registry);
  BatchPtr batch = p->queue().acquire();
  batch->append(std::string(kQueueBytes - 2, 'x'), "k");  // data and key: one byte short
  p->queue().push(std::move(batch));
  EXPECT_FALSE(p->queue().full());
  batch = p->queue().acquire();
  batch->append("x", "k");
  p->queue().push(std::move(batch));
  EXPECT_TRUE(p->queue().full());
}

TEST(BuildPipeline, TheFallbackAppliesWhenTheTemplateFindsNothing) {
  prometheus::Registry registry;
  auto p = buildPipeline(
      "app", pipelineSettingsFrom(pipelineOptions("partition_key: \"{a}\"\npartition_key_fallback: \"constant:k\"\n")),
      kQueueBytes, registry);
  EXPECT_EQ(keyOf(*p, R"({"b":1})"), "k");
}

TEST(BuildPipeline, RegistersItsMetricsUnderItsName) {
  prometheus::Registry registry;
  auto p = buildPipeline("app", pipelineSettingsFrom(pipelineOptions("")), kQueueBytes, registry);
  bool found = false;
  for (const auto& family : registry.Collect()) {
    if (family.name != "kinship_pipeline_records_total") continue;
    for (const auto& metric : family.metric) {
      for (const auto& label : metric.label) found = found || (label.name == "pipeline" && label.value == "app");
    }
  }
  EXPECT_TRUE(found);
}

TEST(PipelineSettingsFrom, ReadsAddedFieldsAndEncoding) {
  PipelineSettings settings = pipelineSettingsFrom(pipelineOptions(
      "add_fields: {cluster: prod}\nadd_metadata: {host: hostname, at: ingest_time}\nencoding: json\n"
      "trailing_newline: true\n"));
  ASSERT_EQ(settings.addedFields.size(), 3u);
  EXPECT_EQ(settings.addedFields[0].text, "prod");
  EXPECT_EQ(settings.addedFields[1].name, "host");
  EXPECT_EQ(settings.addedFields[1].text, hostName());
  EXPECT_EQ(settings.addedFields[2].kind, AddedField::Kind::kIngestTime);
  EXPECT_EQ(settings.encoding.encoding, Encoding::kJson);
  EXPECT_TRUE(settings.encoding.trailingNewline);
  EXPECT_THAT(errorOf("add_metadata: {host: nodename}\n"),
              HasSubstr("t.yaml:3:16: pipelines.app.add_metadata.host: unknown metadata \"nodename\""));
}

TEST(BuildPipeline, AddsFieldsAndEncodes) {
  prometheus::Registry registry;
  auto p = buildPipeline("app",
                         pipelineSettingsFrom(pipelineOptions("partition_key: \"{cluster}-{a}\"\n"
                                                              "add_fields: {cluster: prod}\nencoding: json\n")),
                         kQueueBytes, registry);
  BatchPtr batch = p->queue().acquire();
  const std::string line = R"({"a":1})";
  std::string padded = line + std::string(kParsePadding, ' ');
  p->addLine(std::string_view(padded.data(), line.size()), Parser::kJson, *batch);
  ASSERT_EQ(batch->size(), 1u);
  EXPECT_EQ(batch->key(0), "prod-1");
  EXPECT_EQ(batch->data(0), R"({"a":1,"cluster":"prod"})");
}

}  // namespace
}  // namespace kinship::pipeline
