#include "pipeline/pipeline.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <optional>
#include <regex>
#include <set>
#include <string>

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
  BatchPtr addOne(Pipeline& p, const std::string& line, Parser parser) {
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
