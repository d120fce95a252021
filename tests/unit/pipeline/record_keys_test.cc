#include "pipeline/record_keys.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <optional>
#include <regex>
#include <set>
#include <string>

#include "pipeline/explicit_hash_key.h"
#include "pipeline/json_fields.h"

using namespace kinship::pipeline;

namespace {

constexpr std::string_view kHelloMd5Hex = "5d41402abc4b2a76b9719d911017c592";                      // MD5("hello")
constexpr std::string_view kHelloMd5Decimal = "123957004363873451094272536567338222994";          // the same, as a number

std::string repeat(std::string_view piece, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s += piece;
  return s;
}

KeyTemplate compiled(std::string_view text) {
  auto t = KeyTemplate::compile(text);
  EXPECT_TRUE(t.has_value()) << text;
  return t ? std::move(*t) : KeyTemplate::compile("x").value();
}

bool isHex32(std::string_view key) {
  static const std::regex kHex32("^[0-9a-f]{32}$");
  return std::regex_match(key.begin(), key.end(), kHex32);
}

// A parsed JSON record, kept alive for the test.
struct Json {
  simdjson::dom::parser parser;
  simdjson::padded_string padded;
  simdjson::dom::element doc;
  explicit Json(std::string text) : padded(text) { EXPECT_EQ(parser.parse(padded).get(doc), simdjson::SUCCESS); }
  JsonFields fields() const { return JsonFields(doc); }
};

PartitionKeyRule keyRule(std::optional<std::string_view> tmpl, KeyFallback fallback, std::string constant = "",
                         KeyOverflow overflow = KeyOverflow::kCut) {
  PartitionKeyRule rule;
  if (tmpl) rule.keyTemplate = compiled(*tmpl);
  rule.fallback = fallback;
  rule.constant = std::move(constant);
  rule.overflow = overflow;
  return rule;
}

// The partition key of one record with `json` as its data and fields.
std::string partitionKeyOf(PartitionKeyRule rule, const std::string& json, RecordKeys::Counts* counts = nullptr) {
  RecordKeys keys(KeyRules{.partitionKey = std::move(rule)}, 1);
  Json record(json);
  std::string key(keys.partitionKey(record.fields(), KeyMiss::kMissingField, json));
  if (counts) *counts = keys.takeCounts();
  return key;
}

size_t at(KeyMiss miss) { return static_cast<size_t>(miss); }

}  // namespace

TEST(RecordKeysPartitionKey, FallbackStrategies) {
  struct Case {
    std::string_view name;
    PartitionKeyRule rule;
    std::string data;
    std::string expected;  // "<hex32>": 32 hex digits that are not the MD5 of the data
    KeyMiss reason;
  };
  const Case cases[] = {
      {"missing field, random", keyRule("{a}", KeyFallback::kRandom), R"({"b":1})", "<hex32>", KeyMiss::kMissingField},
      {"missing field, hash", keyRule("{a}", KeyFallback::kHash), "hello", "", KeyMiss::kMissingField},
      {"missing field, constant", keyRule("{a}", KeyFallback::kConstant, "unkeyed"), R"({"b":1})", "unkeyed",
       KeyMiss::kMissingField},
      {"empty, constant", keyRule("{a}", KeyFallback::kConstant, "c"), R"({"a":""})", "c", KeyMiss::kEmpty},
      {"empty, random", keyRule("{a}{b}", KeyFallback::kRandom), R"({"a":"","b":""})", "<hex32>", KeyMiss::kEmpty},
      {"no template, hash", keyRule(std::nullopt, KeyFallback::kHash), "hello", "", KeyMiss::kNoTemplate},
      {"no template, constant", keyRule(std::nullopt, KeyFallback::kConstant, "one"), "{}", "one",
       KeyMiss::kNoTemplate},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    RecordKeys keys(KeyRules{.partitionKey = c.rule}, 7);
    // "hello" is not JSON: those cases render over no fields.
    std::optional<Json> record;
    if (c.data != "hello") record.emplace(c.data);
    const NoFields none;
    const JsonFields json = record ? record->fields() : JsonFields(simdjson::dom::element());
    const RecordFields& fields = record ? static_cast<const RecordFields&>(json) : none;
    const std::string key(keys.partitionKey(fields, KeyMiss::kMissingField, c.data));
    if (c.expected == "<hex32>") {
      EXPECT_TRUE(isHex32(key)) << key;
    } else if (c.expected.empty()) {
      EXPECT_EQ(key, kHelloMd5Hex);
    } else {
      EXPECT_EQ(key, c.expected);
    }
    RecordKeys::Counts counts = keys.takeCounts();
    EXPECT_EQ(counts.partitionKeyFallbacks[at(c.reason)], 1u);
    EXPECT_EQ(counts.randomPartitionKeys[at(c.reason)], c.rule.fallback == KeyFallback::kRandom ? 1u : 0u);
    EXPECT_EQ(keys.takeCounts().partitionKeyFallbacks[at(c.reason)], 0u);  // taken
  }
}

TEST(RecordKeysPartitionKey, ReasonIsWhyTheFieldsAreMissing) {
  for (KeyMiss reason : {KeyMiss::kNotJson, KeyMiss::kNotParsed, KeyMiss::kNoTemplate}) {
    RecordKeys keys(KeyRules{.partitionKey = keyRule("{a}", KeyFallback::kRandom)}, 1);
    EXPECT_TRUE(isHex32(keys.partitionKey(NoFields(), reason, "x")));
    RecordKeys::Counts counts = keys.takeCounts();
    EXPECT_EQ(counts.randomPartitionKeys[at(reason)], 1u) << keyMissName(reason);
    EXPECT_EQ(counts.randomPartitionKeys[at(KeyMiss::kMissingField)], 0u);
  }
}

TEST(RecordKeysPartitionKey, LiteralDefaultsNeedNoFallback) {
  RecordKeys keys(KeyRules{.partitionKey = keyRule("{tenant|org|'unknown'}:{svc|'-'}", KeyFallback::kHash)}, 1);
  EXPECT_EQ(keys.partitionKey(NoFields(), KeyMiss::kNotJson, "x"), "unknown:-");
  Json record(R"({"org":"acme","svc":"api"})");
  EXPECT_EQ(keys.partitionKey(record.fields(), KeyMiss::kMissingField, "x"), "acme:api");
  RecordKeys::Counts counts = keys.takeCounts();
  for (uint64_t n : counts.partitionKeyFallbacks) EXPECT_EQ(n, 0u);
}

TEST(RecordKeysPartitionKey, RandomKeysDiffer) {
  RecordKeys keys(KeyRules{}, 42);
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) seen.insert(std::string(keys.partitionKey(NoFields(), KeyMiss::kNoTemplate, "x")));
  EXPECT_EQ(seen.size(), 100u);
}

TEST(RecordKeysPartitionKey, Overflow) {
  struct Case {
    std::string value;
    std::string cut;     // the key with partition_key_overflow: cut
    bool overLimit;      // hashed (and counted) with partition_key_overflow: hash
  };
  const Case cases[] = {
      {repeat("a", 255), repeat("a", 255), false},
      {repeat("a", 256), repeat("a", 256), false},
      {repeat("a", 257), repeat("a", 256), true},
      {repeat("é", 256), repeat("é", 256), false},
      {repeat("é", 300), repeat("é", 256), true},
      {repeat("😀", 128), repeat("😀", 128), false},
      {repeat("😀", 129), repeat("😀", 128), true},
      {repeat("a", 255) + "😀", repeat("a", 255), true},  // never half a surrogate pair
  };
  for (const Case& c : cases) {
    const std::string json = R"({"k":")" + c.value + R"("})";
    RecordKeys::Counts counts;
    EXPECT_EQ(partitionKeyOf(keyRule("{k}", KeyFallback::kRandom), json, &counts), c.cut) << c.value.size();
    EXPECT_EQ(counts.partitionKeysOverLimit, c.overLimit ? 1u : 0u);

    Md5Digest md5;
    std::string hex;
    writeHex(md5.digest(c.value), hex);
    const std::string hashed =
        partitionKeyOf(keyRule("{k}", KeyFallback::kRandom, "", KeyOverflow::kHash), json, &counts);
    EXPECT_EQ(hashed, c.overLimit ? hex : c.value) << c.value.size();
    EXPECT_EQ(counts.partitionKeysOverLimit, c.overLimit ? 1u : 0u);
  }
  // Keys that differ only past the limit: cut alike, hashed apart.
  const std::string a = R"({"k":")" + repeat("x", 256) + R"(a"})";
  const std::string b = R"({"k":")" + repeat("x", 256) + R"(b"})";
  EXPECT_EQ(partitionKeyOf(keyRule("{k}", KeyFallback::kRandom), a),
            partitionKeyOf(keyRule("{k}", KeyFallback::kRandom), b));
  EXPECT_NE(partitionKeyOf(keyRule("{k}", KeyFallback::kRandom, "", KeyOverflow::kHash), a),
            partitionKeyOf(keyRule("{k}", KeyFallback::kRandom, "", KeyOverflow::kHash), b));
  // The known digest of a 257-character key.
  EXPECT_EQ(partitionKeyOf(keyRule("{k}", KeyFallback::kRandom, "", KeyOverflow::kHash),
                           R"({"k":")" + repeat("a", 257) + R"("})"),
            "b7958df91b9413477491e9b6e27f1bac");
}

TEST(RecordKeysExplicitHashKey, FallbackStrategies) {
  struct Case {
    std::string_view name;
    KeyFallback fallback;
    std::string json;
    std::string expected;  // "<number>": a canonical hash key other than MD5(data)
    KeyMiss reason;
  };
  const std::string hello = "hello";
  const Case cases[] = {
      {"none, missing", KeyFallback::kNone, R"({"x":1})", "", KeyMiss::kMissingField},
      {"none, invalid", KeyFallback::kNone, R"({"h":"12a"})", "", KeyMiss::kInvalid},
      {"none, too big", KeyFallback::kNone, R"({"h":"340282366920938463463374607431768211456"})", "",
       KeyMiss::kInvalid},
      {"none, empty", KeyFallback::kNone, R"({"h":""})", "", KeyMiss::kEmpty},
      {"constant, missing", KeyFallback::kConstant, R"({"x":1})", "17", KeyMiss::kMissingField},
      {"random, invalid", KeyFallback::kRandom, R"({"h":"-1"})", "<number>", KeyMiss::kInvalid},
      {"hash, missing", KeyFallback::kHash, R"({"x":1})", "<md5>", KeyMiss::kMissingField},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    KeyRules rules;
    rules.explicitHashKey.keyTemplate = compiled("{h}");
    rules.explicitHashKey.fallback = c.fallback;
    rules.explicitHashKey.constant = "17";
    RecordKeys keys(std::move(rules), 3);
    Json record(c.json);
    const std::string key(keys.explicitHashKey(record.fields(), KeyMiss::kMissingField, c.json));
    if (c.expected == "<number>") {
      EXPECT_EQ(canonicalExplicitHashKey(key), key);
      EXPECT_FALSE(key.empty());
    } else if (c.expected == "<md5>") {
      Md5Digest md5;
      std::string decimal;
      writeDecimal(md5.digest(c.json), decimal);
      EXPECT_EQ(key, decimal);
    } else {
      EXPECT_EQ(key, c.expected);
    }
    RecordKeys::Counts counts = keys.takeCounts();
    EXPECT_EQ(counts.explicitHashKeyFallbacks[at(c.reason)], 1u);
    EXPECT_EQ(counts.withoutExplicitHashKey, c.fallback == KeyFallback::kNone ? 1u : 0u);
  }
}

TEST(RecordKeysExplicitHashKey, ValidRenderingsAreCanonical) {
  KeyRules rules;
  rules.explicitHashKey.keyTemplate = compiled("{h}");
  rules.explicitHashKey.fallback = KeyFallback::kConstant;
  rules.explicitHashKey.constant = "1";
  RecordKeys keys(std::move(rules), 3);
  Json zeros(R"({"h":"007"})");
  EXPECT_EQ(keys.explicitHashKey(zeros.fields(), KeyMiss::kMissingField, ""), "7");
  Json number(R"({"h":18446744073709551615})");
  EXPECT_EQ(keys.explicitHashKey(number.fields(), KeyMiss::kMissingField, ""), "18446744073709551615");
  for (uint64_t n : keys.takeCounts().explicitHashKeyFallbacks) EXPECT_EQ(n, 0u);
  // No template: no hash key, and nothing is counted.
  RecordKeys none(KeyRules{}, 1);
  EXPECT_EQ(none.explicitHashKey(NoFields(), KeyMiss::kNoTemplate, "x"), "");
  EXPECT_EQ(none.takeCounts().withoutExplicitHashKey, 0u);
}

TEST(Md5Digest, HexAndDecimal) {
  Md5Digest md5;
  std::string out = "previous";
  writeHex(md5.digest("hello"), out);
  EXPECT_EQ(out, kHelloMd5Hex);
  writeDecimal(md5.digest("hello"), out);
  EXPECT_EQ(out, kHelloMd5Decimal);
  std::array<uint8_t, 16> zero{};
  writeDecimal(zero, out);
  EXPECT_EQ(out, "0");
  std::array<uint8_t, 16> max;
  max.fill(0xFF);
  writeDecimal(max, out);
  EXPECT_EQ(out, "340282366920938463463374607431768211455");
  writeHex(max, out);
  EXPECT_EQ(out, repeat("f", 32));
}
