#include "pipeline/pipeline.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <optional>
#include <regex>
#include <set>
#include <string>

#include "tests/support/manual_clock.h"

using namespace kinship::pipeline;

namespace {

// A line with kParsePadding readable bytes after it, as addLine() requires.
class PaddedLine {
 public:
  explicit PaddedLine(std::string line) : size_(line.size()), buf_(std::move(line)) {
    buf_.append(kParsePadding, ' ');
  }
  std::string_view view() const { return {buf_.data(), size_}; }
  std::string text() const { return buf_.substr(0, size_); }

 private:
  size_t size_;
  std::string buf_;
};

// Value of the counter `name` whose labels include all of `labels`; -1 when
// there is no such counter.
double counterValue(const prometheus::Registry& registry, const std::string& name,
                    const std::map<std::string, std::string>& labels) {
  for (const auto& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const auto& metric : family.metric) {
      size_t matched = 0;
      for (const auto& label : metric.label) {
        auto it = labels.find(label.name);
        if (it != labels.end() && it->second == label.value) ++matched;
      }
      if (matched == labels.size()) return metric.counter.value;
    }
  }
  return -1;
}

double randomKeys(const prometheus::Registry& registry, const std::string& pipeline, const std::string& reason) {
  return counterValue(registry, "kinship_pipeline_random_keys_total", {{"pipeline", pipeline}, {"reason", reason}});
}

double invalidHashKeys(const prometheus::Registry& registry, const std::string& pipeline) {
  return counterValue(registry, "kinship_pipeline_explicit_hash_key_invalid_total", {{"pipeline", pipeline}});
}

constexpr std::string_view kMaxHashKey = "340282366920938463463374607431768211455";  // 2^128 - 1
constexpr std::string_view kTwoTo128 = "340282366920938463463374607431768211456";

std::optional<KeyTemplate> templateOf(std::string_view text) {
  auto t = KeyTemplate::compile(text);
  EXPECT_TRUE(t.has_value()) << text;
  if (!t) return std::nullopt;
  return std::move(*t);
}

bool isRandomKey(std::string_view key) {
  static const std::regex kHex32("^[0-9a-f]{32}$");
  return std::regex_match(key.begin(), key.end(), kHex32);
}

struct Fixture : ::testing::Test {
  prometheus::Registry registry;

  // Adds one line to a fresh batch; returns the batch.
  BatchPtr addOne(Pipeline& p, const std::string& line, const Parser& parser) {
    BatchPtr batch = p.queue().acquire();
    PaddedLine padded(line);
    p.addLine(padded.view(), parser, *batch);
    return batch;
  }
};

using PipelineTest = Fixture;

}  // namespace

TEST_F(PipelineTest, JsonFieldTemplateGivesKey) {
  Pipeline p("app", templateOf("{service}-{kubernetes.pod}"), 1 << 20, registry);
  EXPECT_EQ(p.name(), "app");
  const std::string line = R"({"service":"api","kubernetes":{"pod":"web-1"},"msg":"hello"})";
  BatchPtr batch = addOne(p, line, Parser::kJson);
  ASSERT_EQ(batch->size(), 1u);
  EXPECT_EQ(batch->key(0), "api-web-1");
  EXPECT_EQ(batch->data(0), line);
  size_t bytes = batch->bytes();
  EXPECT_EQ(bytes, line.size() + 9);
  p.submit(std::move(batch));
  EXPECT_EQ(randomKeys(registry, "app", "not_json"), 0);
  EXPECT_EQ(randomKeys(registry, "app", "missing_field"), 0);
  EXPECT_EQ(randomKeys(registry, "app", "no_template"), 0);
  EXPECT_EQ(counterValue(registry, "kinship_pipeline_records_total", {{"pipeline", "app"}}), 1);
  EXPECT_EQ(counterValue(registry, "kinship_pipeline_bytes_total", {{"pipeline", "app"}}), double(bytes));
  EXPECT_EQ(p.queue().queuedBatches(), 1u);
  EXPECT_EQ(p.queue().queuedBytes(), bytes);
}

TEST_F(PipelineTest, NotJsonGetsRandomKeyAndCountsAfterSubmit) {
  Pipeline p("app", templateOf("{service}"), 1 << 20, registry);
  BatchPtr batch = p.queue().acquire();
  PaddedLine plain("this is not json");
  PaddedLine array("[1,2,3]");
  PaddedLine number("42");
  PaddedLine truncated(R"({"service":"api")");
  for (const PaddedLine* l : {&plain, &array, &number, &truncated}) p.addLine(l->view(), Parser::kJson, *batch);
  ASSERT_EQ(batch->size(), 4u);
  for (size_t i = 0; i < 4; ++i) EXPECT_TRUE(isRandomKey(batch->key(i))) << batch->key(i);
  EXPECT_EQ(batch->data(0), "this is not json");
  EXPECT_EQ(batch->data(1), "[1,2,3]");
  EXPECT_EQ(batch->data(2), "42");
  EXPECT_EQ(batch->data(3), R"({"service":"api")");
  // Counted locally until submit().
  EXPECT_EQ(randomKeys(registry, "app", "not_json"), 0);
  p.submit(std::move(batch));
  EXPECT_EQ(randomKeys(registry, "app", "not_json"), 4);
  EXPECT_EQ(randomKeys(registry, "app", "missing_field"), 0);
  EXPECT_EQ(randomKeys(registry, "app", "no_template"), 0);
  EXPECT_EQ(counterValue(registry, "kinship_pipeline_records_total", {{"pipeline", "app"}}), 4);
}

TEST_F(PipelineTest, MissingFieldGetsRandomKey) {
  Pipeline p("app", templateOf("{service}"), 1 << 20, registry);
  BatchPtr batch = p.queue().acquire();
  PaddedLine missing(R"({"other":"x"})");
  PaddedLine null(R"({"service":null})");
  PaddedLine object(R"({"service":{"a":1}})");
  PaddedLine good(R"({"service":"ok"})");
  for (const PaddedLine* l : {&missing, &null, &object, &good}) p.addLine(l->view(), Parser::kJson, *batch);
  ASSERT_EQ(batch->size(), 4u);
  EXPECT_TRUE(isRandomKey(batch->key(0)));
  EXPECT_TRUE(isRandomKey(batch->key(1)));
  EXPECT_TRUE(isRandomKey(batch->key(2)));
  EXPECT_EQ(batch->key(3), "ok");
  p.submit(std::move(batch));
  EXPECT_EQ(randomKeys(registry, "app", "missing_field"), 3);
  EXPECT_EQ(randomKeys(registry, "app", "not_json"), 0);
  EXPECT_EQ(randomKeys(registry, "app", "no_template"), 0);
}

TEST_F(PipelineTest, RawParserWithFieldTemplateIsNoTemplate) {
  Pipeline p("raw", templateOf("{service}"), 1 << 20, registry);
  const std::string line = R"({"service":"api"})";
  BatchPtr batch = addOne(p, line, Parser::kRaw);
  ASSERT_EQ(batch->size(), 1u);
  EXPECT_TRUE(isRandomKey(batch->key(0))) << batch->key(0);
  EXPECT_EQ(batch->data(0), line);
  p.submit(std::move(batch));
  EXPECT_EQ(randomKeys(registry, "raw", "no_template"), 1);
  EXPECT_EQ(randomKeys(registry, "raw", "not_json"), 0);
  EXPECT_EQ(randomKeys(registry, "raw", "missing_field"), 0);
}

TEST_F(PipelineTest, NoTemplateGivesRandomKeys) {
  Pipeline p("none", std::nullopt, 1 << 20, registry);
  for (Parser parser : {Parser::kRaw, Parser::kJson}) {
    BatchPtr batch = addOne(p, R"({"service":"api"})", parser);
    ASSERT_EQ(batch->size(), 1u);
    EXPECT_TRUE(isRandomKey(batch->key(0))) << batch->key(0);
    p.submit(std::move(batch));
  }
  EXPECT_EQ(randomKeys(registry, "none", "no_template"), 2);
  EXPECT_EQ(randomKeys(registry, "none", "not_json"), 0);
}

TEST_F(PipelineTest, LiteralTemplateGivesThatKey) {
  Pipeline p("lit", templateOf("fixed-{{key}}"), 1 << 20, registry);
  for (Parser parser : {Parser::kRaw, Parser::kJson}) {
    BatchPtr batch = addOne(p, "not json at all", parser);
    ASSERT_EQ(batch->size(), 1u);
    EXPECT_EQ(batch->key(0), "fixed-{key}");
    EXPECT_EQ(batch->data(0), "not json at all");
    p.submit(std::move(batch));
  }
  EXPECT_EQ(randomKeys(registry, "lit", "no_template"), 0);
  EXPECT_EQ(randomKeys(registry, "lit", "not_json"), 0);
  EXPECT_EQ(randomKeys(registry, "lit", "missing_field"), 0);
  EXPECT_EQ(counterValue(registry, "kinship_pipeline_records_total", {{"pipeline", "lit"}}), 2);
}

TEST_F(PipelineTest, RandomKeysDifferBetweenLines) {
  Pipeline p("app", std::nullopt, 1 << 20, registry);
  BatchPtr batch = p.queue().acquire();
  PaddedLine line("same line");
  for (int i = 0; i < 200; ++i) p.addLine(line.view(), Parser::kRaw, *batch);
  std::set<std::string> keys;
  for (size_t i = 0; i < batch->size(); ++i) {
    EXPECT_TRUE(isRandomKey(batch->key(i)));
    EXPECT_EQ(batch->data(i), "same line");
    keys.insert(std::string(batch->key(i)));
  }
  EXPECT_EQ(keys.size(), 200u);

  // Another pipeline is seeded differently.
  prometheus::Registry other;
  Pipeline q("app", std::nullopt, 1 << 20, other);
  BatchPtr b2 = q.queue().acquire();
  q.addLine(line.view(), Parser::kRaw, *b2);
  EXPECT_FALSE(keys.contains(std::string(b2->key(0))));
}

TEST_F(PipelineTest, RecordDataIsTheLineExactly) {
  Pipeline p("app", templateOf("{k}"), 1 << 20, registry);
  BatchPtr batch = p.queue().acquire();
  const std::string lines[] = {"", std::string("a\0b", 3), "\xff\xfe invalid utf8", R"({"k":"v"} )",
                               std::string(5000, 'z')};
  for (const auto& l : lines) {
    PaddedLine padded(l);
    p.addLine(padded.view(), Parser::kJson, *batch);
  }
  ASSERT_EQ(batch->size(), std::size(lines));
  for (size_t i = 0; i < std::size(lines); ++i) EXPECT_EQ(batch->data(i), lines[i]) << i;
  EXPECT_EQ(batch->key(3), "v");
  p.submit(std::move(batch));
  EXPECT_EQ(randomKeys(registry, "app", "not_json"), 4);
}

TEST_F(PipelineTest, JsonParserIgnoresPaddingContent) {
  // The bytes after the line must not be taken as part of the document.
  Pipeline p("app", templateOf("{k}"), 1 << 20, registry);
  std::string line = R"({"k":"v"})";
  std::string buf = line + std::string(kParsePadding, '}');
  BatchPtr batch = p.queue().acquire();
  p.addLine(std::string_view(buf.data(), line.size()), Parser::kJson, *batch);
  std::string cut = R"({"k":"v")";  // the closing brace is in the "padding"
  std::string buf2 = cut + "}" + std::string(kParsePadding, ' ');
  p.addLine(std::string_view(buf2.data(), cut.size()), Parser::kJson, *batch);
  ASSERT_EQ(batch->size(), 2u);
  EXPECT_EQ(batch->key(0), "v");
  EXPECT_TRUE(isRandomKey(batch->key(1))) << batch->key(1);
  EXPECT_EQ(batch->data(1), cut);
}

TEST_F(PipelineTest, SubmitOfEmptyBatchPublishesCountersButQueuesNothing) {
  Pipeline p("app", templateOf("{service}"), 1 << 20, registry);
  BatchPtr batch = addOne(p, "not json", Parser::kJson);
  batch->clear();  // e.g. every record went elsewhere
  p.submit(std::move(batch));
  EXPECT_EQ(randomKeys(registry, "app", "not_json"), 1);
  EXPECT_EQ(p.queue().queuedBatches(), 0u);
  EXPECT_EQ(counterValue(registry, "kinship_pipeline_records_total", {{"pipeline", "app"}}), 0);
  // Counts are not published twice.
  p.submit(p.queue().acquire());
  EXPECT_EQ(randomKeys(registry, "app", "not_json"), 1);
}

TEST_F(PipelineTest, TwoPipelinesShareARegistry) {
  Pipeline a("a", std::nullopt, 1 << 20, registry);
  Pipeline b("b", templateOf("{x}"), 1 << 20, registry);
  BatchPtr ba = addOne(a, "line", Parser::kRaw);
  BatchPtr bb = addOne(b, "line", Parser::kJson);
  a.submit(std::move(ba));
  b.submit(std::move(bb));
  EXPECT_EQ(randomKeys(registry, "a", "no_template"), 1);
  EXPECT_EQ(randomKeys(registry, "a", "not_json"), 0);
  EXPECT_EQ(randomKeys(registry, "b", "not_json"), 1);
  EXPECT_EQ(randomKeys(registry, "b", "no_template"), 0);
  EXPECT_EQ(counterValue(registry, "kinship_pipeline_records_total", {{"pipeline", "a"}}), 1);
  EXPECT_EQ(counterValue(registry, "kinship_pipeline_records_total", {{"pipeline", "b"}}), 1);
}

TEST_F(PipelineTest, SubmittedBatchReachesTheQueue) {
  Pipeline p("app", templateOf("{id}"), 1 << 20, registry);
  BatchPtr batch = p.queue().acquire();
  std::vector<PaddedLine> lines;
  for (int i = 0; i < 3; ++i) lines.emplace_back(R"({"id":)" + std::to_string(i) + "}");
  for (const auto& l : lines) p.addLine(l.view(), Parser::kJson, *batch);
  p.submit(std::move(batch));
  BatchPtr popped = p.queue().tryPop();
  ASSERT_NE(popped, nullptr);
  ASSERT_EQ(popped->size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(popped->key(i), std::to_string(i));
    EXPECT_EQ(popped->data(i), lines[i].text());
  }
}

TEST(CanonicalExplicitHashKey, AcceptsDecimalNumbersBelowTwoTo128) {
  EXPECT_EQ(canonicalExplicitHashKey("0"), "0");
  EXPECT_EQ(canonicalExplicitHashKey("7"), "7");
  EXPECT_EQ(canonicalExplicitHashKey("12345"), "12345");
  EXPECT_EQ(canonicalExplicitHashKey("18446744073709551616"), "18446744073709551616");  // 2^64
  EXPECT_EQ(canonicalExplicitHashKey(kMaxHashKey), kMaxHashKey);
  EXPECT_EQ(canonicalExplicitHashKey("339999999999999999999999999999999999999"),
            "339999999999999999999999999999999999999");
  // Kinesis refuses leading zeros (pattern 0|([1-9]\d{0,38})): they are dropped.
  EXPECT_EQ(canonicalExplicitHashKey("007"), "7");
  EXPECT_EQ(canonicalExplicitHashKey("000"), "0");
  EXPECT_EQ(canonicalExplicitHashKey("000000000000000000000000000000000000001"), "1");  // 39 digits
}

TEST(CanonicalExplicitHashKey, RefusesEverythingElse) {
  for (std::string_view bad : {std::string_view(""), kTwoTo128,
                               std::string_view("340282366920938463463374607431768211460"),
                               std::string_view("999999999999999999999999999999999999999"),   // 39 nines
                               std::string_view("1000000000000000000000000000000000000000"),  // 40 digits
                               std::string_view("0000000000000000000000000000000000000001"),  // 40 with zeros
                               std::string_view("-1"), std::string_view("+1"), std::string_view("-0"),
                               std::string_view("1.5"), std::string_view("1e5"), std::string_view(" 1"),
                               std::string_view("1 "), std::string_view("12a"), std::string_view("0x1F"),
                               std::string_view("\xd9\xa3"),  // ARABIC-INDIC DIGIT THREE
                               std::string_view("1\0", 2)}) {
    EXPECT_EQ(canonicalExplicitHashKey(bad), "") << bad;
  }
}

TEST_F(PipelineTest, ExplicitHashKeyFromAField) {
  Pipeline p("app", templateOf("{service}"), 1 << 20, registry, templateOf("{hash}"));
  const std::string line = R"({"service":"api","hash":"12345","msg":"hello"})";
  BatchPtr batch = addOne(p, line, Parser::kJson);
  ASSERT_EQ(batch->size(), 1u);
  EXPECT_EQ(batch->data(0), line);
  EXPECT_EQ(batch->key(0), "api");
  EXPECT_EQ(batch->explicitHashKey(0), "12345");
  EXPECT_EQ(batch->limitBytes(), line.size() + 3);
  EXPECT_EQ(batch->bytes(), line.size() + 3 + 5);
  size_t bytes = batch->bytes();
  p.submit(std::move(batch));
  EXPECT_EQ(invalidHashKeys(registry, "app"), 0);
  EXPECT_EQ(randomKeys(registry, "app", "not_json"), 0);
  EXPECT_EQ(randomKeys(registry, "app", "missing_field"), 0);
  // Kinesis does not count the hash key; the queue holds it all the same.
  EXPECT_EQ(counterValue(registry, "kinship_pipeline_bytes_total", {{"pipeline", "app"}}), double(line.size() + 3));
  EXPECT_EQ(p.queue().queuedBytes(), bytes);
}

TEST_F(PipelineTest, ExplicitHashKeyFromJsonNumbers) {
  Pipeline p("app", std::nullopt, 1 << 20, registry, templateOf("{h}"));
  BatchPtr batch = p.queue().acquire();
  PaddedLine small(R"({"h": 12345})");
  PaddedLine zero(R"({"h":0})");
  PaddedLine uint64Max(R"({"h":18446744073709551615})");
  PaddedLine nested(R"({"h":{"x":1}, "x":7})");
  for (const PaddedLine* l : {&small, &zero, &uint64Max}) p.addLine(l->view(), Parser::kJson, *batch);
  ASSERT_EQ(batch->size(), 3u);
  EXPECT_EQ(batch->explicitHashKey(0), "12345");
  EXPECT_EQ(batch->explicitHashKey(1), "0");
  EXPECT_EQ(batch->explicitHashKey(2), "18446744073709551615");
  for (size_t i = 0; i < 3; ++i) EXPECT_TRUE(isRandomKey(batch->key(i))) << batch->key(i);
  p.submit(std::move(batch));
  EXPECT_EQ(invalidHashKeys(registry, "app"), 0);
  EXPECT_EQ(randomKeys(registry, "app", "no_template"), 3);
}

TEST_F(PipelineTest, ExplicitHashKeyBounds) {
  Pipeline p("app", templateOf("{service}"), 1 << 20, registry, templateOf("{h}"));
  const std::string valid[][2] = {
      {R"({"service":"a","h":")" + std::string(kMaxHashKey) + R"("})", std::string(kMaxHashKey)},
      {R"({"service":"a","h":"0"})", "0"},
      {R"({"service":"a","h":"007"})", "7"},
  };
  const std::string invalid[] = {
      R"({"service":"a","h":")" + std::string(kTwoTo128) + R"("})",
      R"({"service":"a","h":"-1"})",
      R"({"service":"a","h":-1})",
      R"({"service":"a","h":1.5})",
      R"({"service":"a","h":"12ab"})",
      R"({"service":"a","h":" 12"})",
      R"({"service":"a","h":""})",
      R"({"service":"a","h":null})",
      R"({"service":"a","h":true})",
      R"({"service":"a","h":[1]})",
      R"({"service":"a","h":{"v":1}})",
      R"({"service":"a"})",
      R"({"service":"a","h":")" + std::string(300, '1') + R"("})",  // longer than a partition key may be
  };
  BatchPtr batch = p.queue().acquire();
  for (const auto& v : valid) {
    PaddedLine l(v[0]);
    p.addLine(l.view(), Parser::kJson, *batch);
  }
  for (const auto& line : invalid) {
    PaddedLine l(line);
    p.addLine(l.view(), Parser::kJson, *batch);
  }
  ASSERT_EQ(batch->size(), std::size(valid) + std::size(invalid));
  for (size_t i = 0; i < std::size(valid); ++i) EXPECT_EQ(batch->explicitHashKey(i), valid[i][1]) << i;
  for (size_t i = std::size(valid); i < batch->size(); ++i) {
    EXPECT_EQ(batch->explicitHashKey(i), "") << batch->data(i);
    EXPECT_EQ(batch->key(i), "a") << i;  // the partition key does not depend on it
  }
  // Counted locally until submit().
  EXPECT_EQ(invalidHashKeys(registry, "app"), 0);
  p.submit(std::move(batch));
  EXPECT_EQ(invalidHashKeys(registry, "app"), double(std::size(invalid)));
  EXPECT_EQ(randomKeys(registry, "app", "missing_field"), 0);
  // Not published twice.
  p.submit(p.queue().acquire());
  EXPECT_EQ(invalidHashKeys(registry, "app"), double(std::size(invalid)));
}

TEST_F(PipelineTest, ExplicitHashKeyOfLinesThatAreNotJsonObjects) {
  Pipeline p("app", templateOf("{service}"), 1 << 20, registry, templateOf("{h}"));
  BatchPtr batch = p.queue().acquire();
  PaddedLine plain("12345");
  PaddedLine array(R"([{"h":"1"}])");
  PaddedLine truncated(R"({"service":"api","h":"1")");
  // An integer beyond 64 bits makes simdjson refuse the whole document.
  PaddedLine bigNumber(R"({"service":"api","h":340282366920938463463374607431768211455})");
  for (const PaddedLine* l : {&plain, &array, &truncated, &bigNumber}) p.addLine(l->view(), Parser::kJson, *batch);
  ASSERT_EQ(batch->size(), 4u);
  for (size_t i = 0; i < batch->size(); ++i) {
    EXPECT_EQ(batch->explicitHashKey(i), "") << batch->data(i);
    EXPECT_TRUE(isRandomKey(batch->key(i))) << batch->key(i);
  }
  p.submit(std::move(batch));
  EXPECT_EQ(invalidHashKeys(registry, "app"), 4);
  EXPECT_EQ(randomKeys(registry, "app", "not_json"), 4);  // parsed once, counted once each
}

TEST_F(PipelineTest, ExplicitHashKeyWithRawParser) {
  // Field references need JSON; a template without fields applies anyway.
  Pipeline fields("fields", templateOf("{service}"), 1 << 20, registry, templateOf("{h}"));
  Pipeline literal("literal", std::nullopt, 1 << 20, registry, templateOf("0042"));
  const std::string line = R"({"service":"api","h":"5"})";
  BatchPtr b1 = addOne(fields, line, Parser::kRaw);
  ASSERT_EQ(b1->size(), 1u);
  EXPECT_EQ(b1->explicitHashKey(0), "");
  fields.submit(std::move(b1));
  EXPECT_EQ(invalidHashKeys(registry, "fields"), 1);
  EXPECT_EQ(randomKeys(registry, "fields", "no_template"), 1);
  for (Parser parser : {Parser::kRaw, Parser::kJson}) {
    BatchPtr b2 = addOne(literal, "not json", parser);
    ASSERT_EQ(b2->size(), 1u);
    EXPECT_EQ(b2->explicitHashKey(0), "42");
    literal.submit(std::move(b2));
  }
  EXPECT_EQ(invalidHashKeys(registry, "literal"), 0);
}

TEST_F(PipelineTest, ExplicitHashKeyTemplateWithSeveralFields) {
  Pipeline p("app", templateOf("fixed"), 1 << 20, registry, templateOf("{a}{b.c}0"));
  BatchPtr batch = p.queue().acquire();
  PaddedLine both(R"({"a":12,"b":{"c":"34"}})");
  PaddedLine oneMissing(R"({"a":12})");
  for (const PaddedLine* l : {&both, &oneMissing}) p.addLine(l->view(), Parser::kJson, *batch);
  ASSERT_EQ(batch->size(), 2u);
  EXPECT_EQ(batch->key(0), "fixed");
  EXPECT_EQ(batch->explicitHashKey(0), "12340");
  EXPECT_EQ(batch->key(1), "fixed");
  EXPECT_EQ(batch->explicitHashKey(1), "");
  p.submit(std::move(batch));
  EXPECT_EQ(invalidHashKeys(registry, "app"), 1);
}

TEST_F(PipelineTest, NoExplicitHashKeyWhenNotConfigured) {
  Pipeline p("app", templateOf("{service}"), 1 << 20, registry);
  const std::string line = R"({"service":"api","hash":"12345"})";
  for (Parser parser : {Parser::kRaw, Parser::kJson}) {
    BatchPtr batch = addOne(p, line, parser);
    ASSERT_EQ(batch->size(), 1u);
    EXPECT_EQ(batch->explicitHashKey(0), "");
    EXPECT_EQ(batch->bytes(), batch->limitBytes());
    p.submit(std::move(batch));
  }
  EXPECT_EQ(invalidHashKeys(registry, "app"), 0);
}

TEST_F(PipelineTest, ExplicitHashKeyScratchIsReusedAcrossRecords) {
  // A long invalid rendering followed by short valid ones: nothing of the
  // earlier value leaks into the later records.
  Pipeline p("app", std::nullopt, 1 << 20, registry, templateOf("{h}"));
  BatchPtr batch = p.queue().acquire();
  PaddedLine longOne(R"({"h":"123456789012345678901234567890123456789012"})");
  PaddedLine shortOne(R"({"h":"9"})");
  PaddedLine missing(R"({"x":"9"})");
  for (const PaddedLine* l : {&longOne, &shortOne, &missing, &shortOne}) p.addLine(l->view(), Parser::kJson, *batch);
  ASSERT_EQ(batch->size(), 4u);
  EXPECT_EQ(batch->explicitHashKey(0), "");
  EXPECT_EQ(batch->explicitHashKey(1), "9");
  EXPECT_EQ(batch->explicitHashKey(2), "");
  EXPECT_EQ(batch->explicitHashKey(3), "9");
}

TEST_F(PipelineTest, KeyRulesFallbacksAndOverflowAreCounted) {
  KeyRules rules;
  rules.partitionKey.keyTemplate = templateOf("{tenant|org|'unknown'}:{service}");
  rules.partitionKey.fallback = KeyFallback::kConstant;
  rules.partitionKey.constant = "unkeyed";
  rules.partitionKey.overflow = KeyOverflow::kHash;
  rules.explicitHashKey.keyTemplate = templateOf("{h}");
  rules.explicitHashKey.fallback = KeyFallback::kHash;
  Pipeline p("rules", std::move(rules), 1 << 20, registry);
  const std::string longService(300, 's');
  const std::string lines[] = {
      R"({"org":"acme","service":"api","h":"42"})",  // keyed, hash key given
      R"({"service":"api"})",                        // literal default, hash key missing
      R"({"tenant":"t"})",                           // service missing: constant
      "hello",                                       // not JSON: constant, MD5 hash key
      R"({"org":"o","service":")" + longService + R"("})",  // over 256: hashed
  };
  BatchPtr batch = p.queue().acquire();
  for (const auto& line : lines) {
    PaddedLine padded(line);
    p.addLine(padded.view(), Parser::kJson, *batch);
  }
  ASSERT_EQ(batch->size(), std::size(lines));
  EXPECT_EQ(batch->key(0), "acme:api");
  EXPECT_EQ(batch->explicitHashKey(0), "42");
  EXPECT_EQ(batch->key(1), "unknown:api");
  EXPECT_EQ(batch->key(2), "unkeyed");
  EXPECT_EQ(batch->key(3), "unkeyed");
  EXPECT_EQ(batch->explicitHashKey(3), "123957004363873451094272536567338222994");  // MD5("hello")
  EXPECT_EQ(batch->key(4).size(), 32u);
  for (size_t i = 0; i < batch->size(); ++i) {
    EXPECT_EQ(batch->data(i), lines[i]);
    EXPECT_FALSE(batch->explicitHashKey(i).empty()) << i;
  }
  p.submit(std::move(batch));
  auto fallbacks = [&](const std::string& key, const std::string& reason) {
    return counterValue(registry, "kinship_pipeline_key_fallbacks_total",
                        {{"pipeline", "rules"}, {"key", key}, {"reason", reason}});
  };
  EXPECT_EQ(fallbacks("partition_key", "missing_field"), 1);
  EXPECT_EQ(fallbacks("partition_key", "not_json"), 1);
  EXPECT_EQ(fallbacks("explicit_hash_key", "missing_field"), 3);
  EXPECT_EQ(fallbacks("explicit_hash_key", "not_json"), 1);
  EXPECT_EQ(counterValue(registry, "kinship_pipeline_keys_over_limit_total", {{"pipeline", "rules"}}), 1);
  // Neither kind of key was random, and every record had a hash key.
  EXPECT_EQ(randomKeys(registry, "rules", "missing_field"), 0);
  EXPECT_EQ(randomKeys(registry, "rules", "not_json"), 0);
  EXPECT_EQ(invalidHashKeys(registry, "rules"), 0);
}

TEST_F(PipelineTest, LogfmtAndRegexParsersNameFieldsAndCountFailures) {
  auto pattern = RegexPattern::compile(R"(^(?P<level>[A-Z]+) \[(?P<svc>[^\]]+)\])");
  ASSERT_TRUE(pattern.has_value());
  const Parser regex = Parser::regex(*pattern);
  Pipeline p("parsers", templateOf("{svc|service}-{level|'none'}"), 1 << 20, registry);
  struct Case {
    const Parser* parser;
    std::string line;
    std::string key;  // "<random>": a random key
  };
  const Case cases[] = {
      {&Parser::kLogfmt, R"(level=warn service="billing api" msg="card \"declined\"")", "billing api-warn"},
      {&Parser::kLogfmt, R"(service=auth)", "auth-none"},
      {&Parser::kLogfmt, "free text, not logfmt", "<random>"},
      {&Parser::kLogfmt, R"(service="open quote)", "<random>"},
      {&Parser::kLogfmt, R"(ser"vice=x)", "<random>"},
      {&regex, "ERROR [checkout] payment timed out", "checkout-ERROR"},
      {&regex, "error [checkout] lower case does not match", "<random>"},
      {&Parser::kJson, R"({"svc":"s","level":"l"})", "s-l"},
      {&Parser::kJson, "[1,2]", "<random>"},
      {&Parser::kJson, "{broken", "<random>"},
      {&Parser::kRaw, "level=warn service=x", "<random>"},
  };
  BatchPtr batch = p.queue().acquire();
  for (const Case& c : cases) {
    PaddedLine padded(c.line);
    p.addLine(padded.view(), *c.parser, *batch);
  }
  ASSERT_EQ(batch->size(), std::size(cases));
  for (size_t i = 0; i < batch->size(); ++i) {
    EXPECT_EQ(batch->data(i), cases[i].line) << i;  // shipped as read, parsed or not
    if (cases[i].key == "<random>") EXPECT_TRUE(isRandomKey(batch->key(i))) << i << ": " << batch->key(i);
    else EXPECT_EQ(batch->key(i), cases[i].key) << i;
  }
  p.submit(std::move(batch));
  auto failures = [&](const std::string& parser, const std::string& reason) {
    return counterValue(registry, "kinship_pipeline_parse_failures_total",
                        {{"pipeline", "parsers"}, {"parser", parser}, {"reason", reason}});
  };
  EXPECT_EQ(failures("logfmt", "no_pairs"), 1);
  EXPECT_EQ(failures("logfmt", "unterminated_quote"), 1);
  EXPECT_EQ(failures("logfmt", "malformed"), 1);
  EXPECT_EQ(failures("regex", "no_match"), 1);
  EXPECT_EQ(failures("json", "not_an_object"), 1);
  EXPECT_EQ(failures("json", "invalid_json"), 1);
  EXPECT_EQ(randomKeys(registry, "parsers", "not_parsed"), 4);
  EXPECT_EQ(randomKeys(registry, "parsers", "not_json"), 2);
  EXPECT_EQ(randomKeys(registry, "parsers", "no_template"), 1);
  EXPECT_EQ(counterValue(registry, "kinship_pipeline_records_total", {{"pipeline", "parsers"}}), std::size(cases));
}

TEST_F(PipelineTest, TheSyslogParserNamesFieldsAndCountsFailures) {
  Pipeline p("sys", templateOf("{sd.meta@1.tenant|hostname|'local'}:{appname}-{severity_name}"), 1 << 20, registry);
  const std::pair<std::string, std::string> cases[] = {
      {"<86>Dec  7 06:00:01 web-1 sshd[4721]: Accepted publickey", "web-1:sshd-info"},
      {"<30>Dec  7 06:00:00 systemd[1]: Started", "local:systemd-info"},
      {"<165>1 2026-12-07T06:00:00Z web-2 billing - - [meta@1 tenant=\"acme\"] charged", "acme:billing-notice"},
      {"plain text", "<random>"},
      {"<999>Dec  7 06:00:00 web-1 app: x", "<random>"},
      {"<34>1 - - - - - [broken", "<random>"},
  };
  BatchPtr batch = p.queue().acquire();
  for (const auto& [line, key] : cases) {
    PaddedLine padded(line);
    p.addLine(padded.view(), Parser::kSyslog, *batch);
  }
  ASSERT_EQ(batch->size(), std::size(cases));
  for (size_t i = 0; i < batch->size(); ++i) {
    EXPECT_EQ(batch->data(i), cases[i].first) << i;
    if (cases[i].second == "<random>") EXPECT_TRUE(isRandomKey(batch->key(i))) << i << ": " << batch->key(i);
    else EXPECT_EQ(batch->key(i), cases[i].second) << i;
  }
  p.submit(std::move(batch));
  auto failures = [&](const std::string& reason) {
    return counterValue(registry, "kinship_pipeline_parse_failures_total",
                        {{"pipeline", "sys"}, {"parser", "syslog"}, {"reason", reason}});
  };
  EXPECT_EQ(failures("no_header"), 1);
  EXPECT_EQ(failures("bad_priority"), 1);
  EXPECT_EQ(failures("bad_structured_data"), 1);
}

// An input's acknowledgements, counted.
class CountingAcks final : public AckReceiver {
 public:
  void acknowledged(uint64_t, uint64_t endOffset) override { acked.push_back(endOffset); }
  std::vector<uint64_t> acked;
};

TEST_F(PipelineTest, FiltersDropRecordsBeforeKeysAndCountThem) {
  KeyRules keys;
  keys.partitionKey.keyTemplate = *KeyTemplate::compile("{service}");
  std::vector<RecordFilter> list(2);
  list[0].name = "no-health";
  list[0].field = *FieldPath::parse("path");
  list[0].equals = "/health";
  list[1].name = "warn-and-up";
  list[1].keep = true;
  list[1].field = *FieldPath::parse("level");
  list[1].condition = RecordFilter::Condition::kLevelAtLeast;
  list[1].level = *logLevelRank("warn");
  Pipeline p("filtered", std::move(keys), 1 << 20, registry, RecordFilters(std::move(list)));
  BatchPtr batch = p.queue().acquire();
  for (std::string line : {R"({"service":"a","path":"/health","level":"error"})",
                           R"({"service":"b","path":"/x","level":"error"})", R"({"service":"c","level":"info"})",
                           "not json at all", R"({"service":"d","level":"WARN"})"}) {
    PaddedLine padded(line);
    p.addLine(padded.view(), Parser::kJson, *batch);
  }
  ASSERT_EQ(batch->size(), 2u);
  EXPECT_EQ(batch->key(0), "b");
  EXPECT_EQ(batch->key(1), "d");
  p.submit(std::move(batch));
  auto filtered = [&](const std::string& filter) {
    return counterValue(registry, "kinship_pipeline_filtered_total", {{"pipeline", "filtered"}, {"filter", filter}});
  };
  EXPECT_EQ(filtered("no-health"), 1);
  EXPECT_EQ(filtered("warn-and-up"), 2);  // info, and the line without fields
  EXPECT_EQ(counterValue(registry, "kinship_pipeline_records_total", {{"pipeline", "filtered"}}), 2);

  // A batch whose every line is dropped is acknowledged to its source at
  // once (its file's checkpoint must not wait for it forever).
  auto acks = std::make_shared<CountingAcks>();
  BatchPtr empty = p.queue().acquire();
  PaddedLine health(R"({"service":"a","path":"/health","level":"error"})");
  p.addLine(health.view(), Parser::kJson, *empty);
  empty->setSource(acks, 1, 4242);
  p.submit(std::move(empty));
  EXPECT_EQ(acks->acked, std::vector<uint64_t>{4242});
  EXPECT_EQ(filtered("no-health"), 2);
}

TEST_F(PipelineTest, LinesAreNotParsedWhenNoTemplateNamesFields) {
  Pipeline p("lit", templateOf("fixed"), 1 << 20, registry);
  BatchPtr batch = addOne(p, "free text", Parser::kLogfmt);
  EXPECT_EQ(batch->key(0), "fixed");
  p.submit(std::move(batch));
  EXPECT_EQ(counterValue(registry, "kinship_pipeline_parse_failures_total",
                         {{"pipeline", "lit"}, {"parser", "logfmt"}, {"reason", "no_pairs"}}),
            0);
}

// ------------------------------------------------ enrichment and encoding

AddedField addedText(std::string name, std::string value) {
  return {.name = std::move(name), .kind = AddedField::Kind::kText, .text = std::move(value)};
}
AddedField addedOf(std::string name, AddedField::Kind kind) { return {.name = std::move(name), .kind = kind, .text = {}}; }

TEST_F(PipelineTest, AddedFieldsServeKeysAndFilters) {
  KeyRules keys;
  keys.partitionKey.keyTemplate = *KeyTemplate::compile("{cluster}/{file}/{level}");
  std::vector<RecordFilter> list(1);
  list[0].name = "only-prod";
  list[0].keep = true;
  list[0].field = *FieldPath::parse("cluster");
  list[0].equals = "prod";
  Pipeline p("enriched", std::move(keys), 1 << 20, registry, RecordFilters(std::move(list)),
             {addedText("cluster", "prod"), addedOf("file", AddedField::Kind::kSource)});
  BatchPtr batch = p.queue().acquire();
  const RecordOrigin origin{.source = "/var/log/a.log", .hasPosition = true, .device = 1, .inode = 2, .endOffset = 30};
  // The line's own `cluster` is hidden by the added one, in the key and the filter.
  PaddedLine line("level=warn cluster=dev msg=x");
  p.addLine(line.view(), Parser::kLogfmt, *batch, origin);
  ASSERT_EQ(batch->size(), 1u);
  EXPECT_EQ(batch->key(0), "prod//var/log/a.log/warn");
  EXPECT_EQ(batch->data(0), line.text());  // encoding raw: the line as read
}

TEST_F(PipelineTest, AddedFieldsKeyRawLines) {
  // A raw parser has no fields, but the added ones are there.
  KeyRules keys;
  keys.partitionKey.keyTemplate = *KeyTemplate::compile("{id}");
  Pipeline p("ids", std::move(keys), 1 << 20, registry, {}, {addedOf("id", AddedField::Kind::kRecordId)});
  const RecordOrigin origin{.source = "/a", .hasPosition = true, .device = 1, .inode = 2, .endOffset = 30};
  BatchPtr batch = p.queue().acquire();
  PaddedLine line("free text");
  p.addLine(line.view(), Parser::kRaw, *batch, origin);
  p.addLine(line.view(), Parser::kRaw, *batch, origin);
  ASSERT_EQ(batch->size(), 2u);
  EXPECT_EQ(batch->key(0).size(), 32u);
  EXPECT_EQ(batch->key(0), batch->key(1));  // same file, offset and bytes: same id
  p.submit(std::move(batch));
  EXPECT_EQ(randomKeys(registry, "ids", "no_template"), 0);
}

TEST_F(PipelineTest, JsonEncodingWritesParsedAndAddedFieldsIntoTheBatch) {
  kinship::testing::ManualClock clock;
  KeyRules keys;
  keys.partitionKey.keyTemplate = *KeyTemplate::compile("{pod}");
  Pipeline enc("enc", std::move(keys), 1 << 20, registry, {},
               {addedText("pod", "web-1"), addedOf("at", AddedField::Kind::kIngestTime)},
               {.encoding = Encoding::kJson, .trailingNewline = true}, clock);
  BatchPtr batch = enc.queue().acquire();
  for (std::string text : {R"({"service":"api","n":1})", "level=info msg=\"a b\"", "not logfmt"}) {
    PaddedLine line(text);
    enc.addLine(line.view(), text.front() == '{' ? Parser::kJson : Parser::kLogfmt, *batch);
  }
  ASSERT_EQ(batch->size(), 3u);
  EXPECT_EQ(batch->data(0), "{\"service\":\"api\",\"n\":1,\"pod\":\"web-1\",\"at\":\"2023-11-14T22:13:20.000Z\"}\n");
  EXPECT_EQ(batch->data(1),
            "{\"level\":\"info\",\"msg\":\"a b\",\"pod\":\"web-1\",\"at\":\"2023-11-14T22:13:20.000Z\"}\n");
  EXPECT_EQ(batch->data(2), "{\"message\":\"not logfmt\",\"pod\":\"web-1\",\"at\":\"2023-11-14T22:13:20.000Z\"}\n");
  for (size_t i = 0; i < batch->size(); ++i) EXPECT_EQ(batch->key(i), "web-1") << i;
  // What the queue and the sink count is the encoded bytes.
  size_t bytes = 0;
  for (size_t i = 0; i < batch->size(); ++i) bytes += batch->data(i).size() + batch->key(i).size();
  EXPECT_EQ(batch->limitBytes(), bytes);
  enc.submit(std::move(batch));
  EXPECT_EQ(counterValue(registry, "kinship_pipeline_bytes_total", {{"pipeline", "enc"}}), static_cast<double>(bytes));
  EXPECT_EQ(counterValue(registry, "kinship_pipeline_parse_failures_total",
                         {{"pipeline", "enc"}, {"parser", "logfmt"}, {"reason", "no_pairs"}}),
            1);
}

TEST_F(PipelineTest, TheHashFallbackHashesTheLineWhateverTheEncoding) {
  KeyRules keys;
  keys.partitionKey.fallback = KeyFallback::kHash;
  Pipeline p("h", std::move(keys), 1 << 20, registry, {}, {addedOf("at", AddedField::Kind::kIngestTime)},
             {.encoding = Encoding::kJson});
  BatchPtr batch = addOne(p, "hello", Parser::kRaw);
  EXPECT_EQ(batch->key(0), "5d41402abc4b2a76b9719d911017c592");  // MD5("hello")
  EXPECT_NE(batch->data(0), "hello");
}

TEST_F(PipelineTest, InvalidUtf8InJsonEncodingIsCounted) {
  Pipeline p("utf", KeyRules{}, 1 << 20, registry, {}, {}, {.encoding = Encoding::kJson});
  BatchPtr batch = p.queue().acquire();
  for (std::string text : {"ok", "bad \xFF", "bad \xC3 again"}) {
    PaddedLine line(text);
    p.addLine(line.view(), Parser::kRaw, *batch);
  }
  EXPECT_EQ(batch->data(1), "{\"message\":\"bad \xEF\xBF\xBD\"}");
  p.submit(std::move(batch));
  EXPECT_EQ(counterValue(registry, "kinship_pipeline_invalid_utf8_total", {{"pipeline", "utf"}}), 2);
}

TEST_F(PipelineTest, WantsSourceAndOriginOnlyWhenAFieldReadsThem) {
  Pipeline plain("a", KeyRules{}, 1 << 20, registry);
  EXPECT_FALSE(plain.wantsSource());
  Pipeline sourced("b", KeyRules{}, 1 << 20, registry, {}, {addedOf("from", AddedField::Kind::kSource)});
  EXPECT_TRUE(sourced.wantsSource());
  EXPECT_TRUE(sourced.wantsOrigin());
  // An input passes kNoOrigin to pipelines that read none of it.
  EXPECT_FALSE(plain.wantsOrigin());
  Pipeline timed("c", KeyRules{}, 1 << 20, registry, {},
                 {addedText("t", "x"), addedOf("at", AddedField::Kind::kIngestTime),
                  addedOf("h", AddedField::Kind::kLineHash)});
  EXPECT_FALSE(timed.wantsOrigin());
  Pipeline ids("d", KeyRules{}, 1 << 20, registry, {}, {addedOf("id", AddedField::Kind::kRecordId)});
  EXPECT_TRUE(ids.wantsOrigin());
  EXPECT_FALSE(ids.wantsSource());
}

TEST_F(PipelineTest, RawEncodingWithANewline) {
  Pipeline p("nl", KeyRules{}, 1 << 20, registry, {}, {}, {.trailingNewline = true});
  BatchPtr batch = addOne(p, "a line", Parser::kRaw);
  EXPECT_EQ(batch->data(0), "a line\n");
}
