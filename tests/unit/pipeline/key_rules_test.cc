#include "pipeline/key_rules.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <string>

#include "config/config.h"

using namespace kinship::pipeline;
using kinship::config::ConfigError;
using kinship::config::Section;
using ::testing::HasSubstr;

namespace {

// A pipeline's options as the loader validates them (inputs and sink are
// required by the schema, so every case carries placeholders).
Section pipelineOptions(const std::string& keys) {
  const std::string yaml = "inputs: []\nsink: {}\n" + keys;
  return Section::validate(YAML::Load(yaml), kinship::config::pipelineSchema(), "t.yaml", "pipelines.app",
                           [](std::string_view) { return std::optional<std::string>(); });
}

// The ConfigError's message for `keys`, or "<ok>".
std::string errorOf(const std::string& keys) {
  try {
    keyRulesFrom(pipelineOptions(keys));
    return "<ok>";
  } catch (const ConfigError& e) {
    return e.what();
  }
}

}  // namespace

TEST(ParseKeyFallback, Values) {
  EXPECT_EQ(parseKeyFallback("random", false).value(), std::pair(KeyFallback::kRandom, std::string()));
  EXPECT_EQ(parseKeyFallback("hash", false).value(), std::pair(KeyFallback::kHash, std::string()));
  EXPECT_EQ(parseKeyFallback("none", true).value(), std::pair(KeyFallback::kNone, std::string()));
  EXPECT_EQ(parseKeyFallback("constant:abc", false).value(), std::pair(KeyFallback::kConstant, std::string("abc")));
  // Everything after the first colon is the text, colons and spaces too.
  EXPECT_EQ(parseKeyFallback("constant:a: b", false).value(), std::pair(KeyFallback::kConstant, std::string("a: b")));
  EXPECT_EQ(parseKeyFallback("constant:", false).value(), std::pair(KeyFallback::kConstant, std::string()));
  for (std::string_view bad : {"", "none", "Random", "constant", "const:x", " hash", "unknown"}) {
    auto parsed = parseKeyFallback(bad, false);
    ASSERT_FALSE(parsed.has_value()) << bad;
    EXPECT_THAT(parsed.error().message(), HasSubstr("is not random, hash or constant:TEXT")) << bad;
  }
  EXPECT_THAT(parseKeyFallback("x", true).error().message(), HasSubstr("is not none, random, hash or constant:TEXT"));
}

TEST(KeyRulesFrom, Defaults) {
  KeyRules rules = keyRulesFrom(pipelineOptions(""));
  EXPECT_FALSE(rules.partitionKey.keyTemplate.has_value());
  EXPECT_EQ(rules.partitionKey.fallback, KeyFallback::kRandom);
  EXPECT_EQ(rules.partitionKey.overflow, KeyOverflow::kCut);
  EXPECT_FALSE(rules.explicitHashKey.keyTemplate.has_value());
  EXPECT_EQ(rules.explicitHashKey.fallback, KeyFallback::kNone);
}

TEST(KeyRulesFrom, AllOptions) {
  KeyRules rules = keyRulesFrom(pipelineOptions(
      "partition_key: \"{tenant|org|'unknown'}:{service}\"\n"
      "partition_key_fallback: \"constant:unkeyed\"\n"
      "partition_key_overflow: hash\n"
      "explicit_hash_key: \"{h}\"\n"
      "explicit_hash_key_fallback: \"constant:007\"\n"));
  ASSERT_TRUE(rules.partitionKey.keyTemplate.has_value());
  EXPECT_EQ(rules.partitionKey.keyTemplate->text(), "{tenant|org|'unknown'}:{service}");
  EXPECT_EQ(rules.partitionKey.fallback, KeyFallback::kConstant);
  EXPECT_EQ(rules.partitionKey.constant, "unkeyed");
  EXPECT_EQ(rules.partitionKey.overflow, KeyOverflow::kHash);
  ASSERT_TRUE(rules.explicitHashKey.keyTemplate.has_value());
  EXPECT_EQ(rules.explicitHashKey.fallback, KeyFallback::kConstant);
  EXPECT_EQ(rules.explicitHashKey.constant, "7");  // canonical: Kinesis refuses leading zeros
}

TEST(KeyRulesFrom, Errors) {
  const std::pair<std::string, std::string> cases[] = {
      {"partition_key: \"{a\"", "pipelines.app.partition_key: unclosed '{'"},
      {"partition_key_fallback: hsah", "partition_key_fallback: 'hsah' is not random, hash or constant:TEXT"},
      {"partition_key_fallback: none", "'none' is not random, hash"},
      {"partition_key_fallback: \"constant:\"", "a constant key is 1 to 256 characters"},
      {"partition_key_fallback: \"constant:" + std::string(257, 'k') + "\"", "a constant key is 1 to 256 characters"},
      {"partition_key_overflow: drop", "partition_key_overflow"},
      {"explicit_hash_key: \"{h\"", "explicit_hash_key: unclosed '{'"},
      {"explicit_hash_key: \"12x\"", "explicit_hash_key: '12x' is not a decimal number below 2^128"},
      {"explicit_hash_key_fallback: \"constant:-1\"", "'-1' is not a decimal number below 2^128"},
      {"explicit_hash_key_fallback: \"constant:340282366920938463463374607431768211456\"",
       "is not a decimal number below 2^128"},
      {"explicit_hash_key_fallback: maybe", "'maybe' is not none, random, hash or constant:TEXT"},
  };
  for (const auto& [keys, error] : cases) EXPECT_THAT(errorOf(keys), HasSubstr(error)) << keys;
  // Limits met exactly are fine.
  EXPECT_EQ(errorOf("partition_key_fallback: \"constant:" + std::string(256, 'k') + "\""), "<ok>");
  EXPECT_EQ(errorOf("explicit_hash_key: \"340282366920938463463374607431768211455\""), "<ok>");
  EXPECT_EQ(errorOf("explicit_hash_key: \"{h|'5'}\""), "<ok>");
}
