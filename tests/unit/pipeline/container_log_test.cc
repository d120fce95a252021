// The container log readers on real lines: containerd's and CRI-O's CRI
// lines (full, partial, empty, with an offset time zone), Docker json-file
// lines (escapes, \u sequences, raw UTF-8, CRLF, a piece without its
// newline, attrs); what is not of the format, and why; and how the
// pipeline ships and keys such lines.

#include "pipeline/container_log.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <optional>
#include <string>
#include <vector>

#include "pipeline/pipeline.h"
#include "tests/support/metrics_reader.h"

namespace kinship::pipeline {
namespace {

// A line with the readable padding after it that the readers may use.
struct Padded {
  explicit Padded(std::string text) : size(text.size()), bytes(std::move(text)) { bytes.append(kParsePadding, '\0'); }
  std::string_view view() const { return {bytes.data(), size}; }
  size_t size;
  std::string bytes;
};

struct Sample {
  const char* what;
  std::string line;
  std::string time;
  std::string stream;
  std::string log;
  bool partial;
};

struct Failure {
  const char* what;
  std::string line;
  ParseFailure failure;
};

void expectReads(ParserKind format, const std::vector<Sample>& samples) {
  ContainerLogReader reader(format);
  for (const Sample& s : samples) {
    Padded line(s.line);
    ContainerLogEntry entry;
    auto failure = reader.read(line.view(), entry);
    ASSERT_FALSE(failure) << s.what << ": " << parseFailureName(*failure);
    EXPECT_EQ(entry.time, s.time) << s.what;
    EXPECT_EQ(entry.stream, s.stream) << s.what;
    EXPECT_EQ(entry.log, s.log) << s.what;
    EXPECT_EQ(entry.partial, s.partial) << s.what;
  }
}

void expectFailures(ParserKind format, const std::vector<Failure>& failures) {
  ContainerLogReader reader(format);
  for (const Failure& f : failures) {
    Padded line(f.line);
    ContainerLogEntry entry;
    auto failure = reader.read(line.view(), entry);
    ASSERT_TRUE(failure) << f.what;
    EXPECT_EQ(parseFailureName(*failure), parseFailureName(f.failure)) << f.what;
  }
}

TEST(ContainerLogReader, ReadsCriLines) {
  const std::string piece(16384, 'x');
  expectReads(ParserKind::kCri, {
      {"containerd, nginx on stderr",
       "2023-10-06T00:17:09.669794202Z stderr F 2023/10/06 00:17:09 [notice] 1#1: start worker processes",
       "2023-10-06T00:17:09.669794202Z", "stderr", "2023/10/06 00:17:09 [notice] 1#1: start worker processes", false},
      {"containerd, a JSON application line",
       R"(2023-10-06T00:17:10.113242941Z stdout F {"level":"info","ts":1696551430.1132,"msg":"reconciling"})",
       "2023-10-06T00:17:10.113242941Z", "stdout", R"({"level":"info","ts":1696551430.1132,"msg":"reconciling"})",
       false},
      {"CRI-O writes an offset", "2023-10-06T02:17:10.113242941+02:00 stdout F I1006 main.go:227] handling node",
       "2023-10-06T02:17:10.113242941+02:00", "stdout", "I1006 main.go:227] handling node", false},
      {"a 16 KiB piece the runtime cut", "2023-10-06T00:17:09.669794202Z stdout P " + piece,
       "2023-10-06T00:17:09.669794202Z", "stdout", piece, true},
      {"an empty line", "2023-10-06T00:17:09.669794202Z stdout F ", "2023-10-06T00:17:09.669794202Z", "stdout", "",
       false},
      {"an empty line without the space after the tag", "2023-10-06T00:17:09.669794202Z stdout F",
       "2023-10-06T00:17:09.669794202Z", "stdout", "", false},
      {"spaces in the log are kept", "2023-10-06T00:17:09Z stdout F   indented  ", "2023-10-06T00:17:09Z", "stdout",
       "  indented  ", false},
      {"further tags after a colon", "2023-10-06T00:17:09.1Z stdout P:x part", "2023-10-06T00:17:09.1Z", "stdout",
       "part", true},
      {"an unknown first tag is full, as the kubelet reads it", "2023-10-06T00:17:09.1Z stdout Q x",
       "2023-10-06T00:17:09.1Z", "stdout", "x", false},
      {"UTF-8 and tabs as written", "2023-10-06T00:17:09.1Z stdout F caf\xc3\xa9\t\xe6\x97\xa5\xe6\x9c\xac",
       "2023-10-06T00:17:09.1Z", "stdout", "caf\xc3\xa9\t\xe6\x97\xa5\xe6\x9c\xac", false},
  });
}

TEST(ContainerLogReader, TellsWhyALineIsNotCri) {
  expectFailures(ParserKind::kCri, {
      {"free text", "just some text", ParseFailure::kBadTime},
      {"an empty line", "", ParseFailure::kBadTime},
      {"a date without a time", "2023-10-06 stdout F x", ParseFailure::kBadTime},
      {"a time without a zone", "2023-10-06T00:17:09.669794202 stdout F x", ParseFailure::kBadTime},
      {"a fraction without digits", "2023-10-06T00:17:09.Z stdout F x", ParseFailure::kBadTime},
      {"a docker line", R"({"log":"x\n","stream":"stdout","time":"2023-10-06T00:17:09Z"})", ParseFailure::kBadTime},
      {"another stream", "2023-10-06T00:17:09Z stdin F x", ParseFailure::kBadStream},
      {"the line ends after the time", "2023-10-06T00:17:09Z ", ParseFailure::kBadStream},
      {"the line ends after the stream", "2023-10-06T00:17:09Z stdout", ParseFailure::kBadStream},
      {"no tag", "2023-10-06T00:17:09Z stdout  x", ParseFailure::kBadTag},
      {"an empty first tag", "2023-10-06T00:17:09Z stdout :P x", ParseFailure::kBadTag},
  });
}

TEST(ContainerLogReader, ReadsDockerJsonFileLines) {
  expectReads(ParserKind::kDocker, {
      {"nginx on stderr, quotes escaped",
       R"({"log":"2023/10/06 00:17:09 [notice] 1#1: using the \"epoll\" event method\n","stream":"stderr","time":"2023-10-06T00:17:09.669794202Z"})",
       "2023-10-06T00:17:09.669794202Z", "stderr", "2023/10/06 00:17:09 [notice] 1#1: using the \"epoll\" event method",
       false},
      {"a JSON application line, with docker's \\u escapes of < > &",
       R"({"log":"{\"level\":\"info\",\"msg\":\"caf\u00e9 \u003cok\u003e \u0026 more\"}\n","stream":"stdout","time":"2023-10-06T00:17:10.1Z"})",
       "2023-10-06T00:17:10.1Z", "stdout", "{\"level\":\"info\",\"msg\":\"caf\xc3\xa9 <ok> & more\"}", false},
      {"raw UTF-8 and an emoji as a surrogate pair",
       "{\"log\":\"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \\ud83d\\ude00\\n\",\"stream\":\"stdout\",\"time\":\"2023-10-06T00:17:10.1Z\"}",
       "2023-10-06T00:17:10.1Z", "stdout", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\x98\x80", false},
      {"a stack trace line with a tab and CRLF",
       R"({"log":"\tat com.example.Foo.bar(Foo.java:42)\r\n","stream":"stderr","time":"2023-10-06T00:17:10.1Z"})",
       "2023-10-06T00:17:10.1Z", "stderr", "\tat com.example.Foo.bar(Foo.java:42)", false},
      {"a piece the daemon cut", R"({"log":"first 16 KiB","stream":"stdout","time":"2023-10-06T00:17:10.1Z"})",
       "2023-10-06T00:17:10.1Z", "stdout", "first 16 KiB", true},
      {"an empty line", R"({"log":"\n","stream":"stdout","time":"2023-10-06T00:17:10.1Z"})", "2023-10-06T00:17:10.1Z",
       "stdout", "", false},
      {"only the last newline goes", R"({"log":"a\n\n","stream":"stdout","time":"t"})", "t", "stdout", "a\n", false},
      {"attrs (log-opt labels) and another order",
       R"({"time":"2023-10-06T00:17:10.1Z","attrs":{"tag":"web","env":{"a":[1,2]}},"stream":"stdout","log":"x\n"})",
       "2023-10-06T00:17:10.1Z", "stdout", "x", false},
      {"no stream or time", R"({"log":"x\n"})", "", "", "x", false},
      {"a stream that is not a string", R"({"log":"x\n","stream":1,"time":null})", "", "", "x", false},
  });
}

TEST(ContainerLogReader, TellsWhyALineIsNotDocker) {
  expectFailures(ParserKind::kDocker, {
      {"free text", "just some text", ParseFailure::kInvalidJson},
      {"a CRI line", "2023-10-06T00:17:09Z stdout F x", ParseFailure::kInvalidJson},
      {"cut short", R"({"log":"x\n","stream":"std)", ParseFailure::kInvalidJson},
      {"invalid UTF-8", "{\"log\":\"\xff\\n\"}", ParseFailure::kInvalidJson},
      {"an array", R"(["log","x"])", ParseFailure::kNotAnObject},
      {"a string", R"("log")", ParseFailure::kNotAnObject},
      {"no log", R"({"msg":"x\n","stream":"stdout"})", ParseFailure::kNoLog},
      {"a log that is not a string", R"({"log":5,"stream":"stdout"})", ParseFailure::kNoLog},
  });
}

// The time and stream of the runtime, then the inner parser's fields; an
// application field of the same name is behind the runtime's.
TEST(ContainerFields, RuntimeFieldsThenTheInnerOnes) {
  struct Inner final : RecordFields {
    bool appendValue(const FieldPath& path, std::string& out) const override {
      if (path.text != "level" && path.text != "time") return false;
      out += path.text == "level" ? "warn" : "app-time";
      return true;
    }
  } inner;
  ContainerFields fields;
  auto value = [&](const char* name) -> std::optional<std::string> {
    std::string out;
    if (!fields.appendValue(*FieldPath::parse(name), out)) return std::nullopt;
    return out;
  };
  fields.reset(ContainerLine{"2023-10-06T00:17:09Z", "stderr", std::nullopt}, "line", inner, true);
  EXPECT_EQ(value("time"), "2023-10-06T00:17:09Z");
  EXPECT_EQ(value("stream"), "stderr");
  EXPECT_EQ(value("level"), "warn");
  EXPECT_EQ(value("msg"), std::nullopt);
  EXPECT_EQ(value("time.x"), std::nullopt);
  fields.reset(ContainerLine{}, "line", inner, true);  // a docker line without time or stream
  EXPECT_EQ(value("time"), "app-time");
  EXPECT_EQ(value("stream"), std::nullopt);
}

class ContainerPipelineTest : public ::testing::Test {
 protected:
  std::unique_ptr<Pipeline> pipelineWithKey(const std::string& key) {
    KeyRules rules;
    rules.partitionKey.keyTemplate = *KeyTemplate::compile(key);
    rules.partitionKey.fallback = KeyFallback::kConstant;
    rules.partitionKey.constant = "fallback";
    return std::make_unique<Pipeline>("app", std::move(rules), 1 << 20, registry_);
  }
  double failures(const std::string& parser, const std::string& reason) {
    return testing::metricValue(registry_, "kinship_pipeline_parse_failures_total",
                                {{"pipeline", "app"}, {"parser", parser}, {"reason", reason}});
  }
  prometheus::Registry registry_;
};

TEST_F(ContainerPipelineTest, KeysComeFromTheRuntimeAndTheInnerParser) {
  auto p = pipelineWithKey("{stream}/{level|'none'}");
  const Parser cri = Parser::container(ParserKind::kCri, Parser::kJson);
  BatchPtr batch = p->queue().acquire();
  const ContainerLine stderrLine{"2023-10-06T00:17:09Z", "stderr", std::nullopt};
  Padded json(R"({"level":"error","msg":"x"})");
  Padded text("not json");
  p->addLine(json.view(), cri, *batch, &stderrLine);
  p->addLine(text.view(), cri, *batch, &stderrLine);  // the inner parser fails: the runtime's fields stay
  ASSERT_EQ(batch->size(), 2u);
  EXPECT_EQ(batch->data(0), R"({"level":"error","msg":"x"})");
  EXPECT_EQ(batch->key(0), "stderr/error");
  EXPECT_EQ(batch->data(1), "not json");
  EXPECT_EQ(batch->key(1), "stderr/none");
  p->submit(std::move(batch));
  EXPECT_EQ(failures("json", "invalid_json"), 1);
}

TEST_F(ContainerPipelineTest, ARawInnerParserStillHasTheRuntimesFields) {
  auto p = pipelineWithKey("{stream}-{missing}");
  const Parser docker = Parser::container(ParserKind::kDocker, Parser::kRaw);
  BatchPtr batch = p->queue().acquire();
  const ContainerLine line{"t", "stdout", std::nullopt};
  Padded text("hello");
  p->addLine(text.view(), docker, *batch, &line);
  ASSERT_EQ(batch->size(), 1u);
  EXPECT_EQ(batch->key(0), "fallback");
  p->submit(std::move(batch));
  EXPECT_EQ(testing::metricValue(registry_, "kinship_pipeline_key_fallbacks_total",
                                 {{"pipeline", "app"}, {"key", "partition_key"}, {"reason", "missing_field"}}),
            1);
}

// A line that is not of the format is shipped whole, has no fields, and is
// counted even when nothing reads fields.
TEST_F(ContainerPipelineTest, ALineNotOfTheFormatIsCountedAndShippedAsRead) {
  for (bool withKey : {true, false}) {
    SCOPED_TRACE(withKey);
    std::unique_ptr<Pipeline> p;
    if (withKey) {
      p = pipelineWithKey("{stream}");
    } else {
      p = std::make_unique<Pipeline>("app", std::nullopt, 1 << 20, registry_);
    }
    const Parser cri = Parser::container(ParserKind::kCri, Parser::kJson);
    BatchPtr batch = p->queue().acquire();
    const ContainerLine bad{{}, {}, ParseFailure::kBadTime};
    Padded text("free text");
    p->addLine(text.view(), cri, *batch, &bad);
    ASSERT_EQ(batch->size(), 1u);
    EXPECT_EQ(batch->data(0), "free text");
    if (withKey) {
      EXPECT_EQ(batch->key(0), "fallback");
    }
    p->submit(std::move(batch));
  }
  EXPECT_EQ(failures("cri", "bad_time"), 2);
  EXPECT_EQ(testing::metricValue(registry_, "kinship_pipeline_key_fallbacks_total",
                                 {{"pipeline", "app"}, {"key", "partition_key"}, {"reason", "not_parsed"}}),
            1);
}

// The json encoding keeps the runtime's shape: the application's fields
// under `log` (so an application `time` does not clash with the runtime's),
// or its line when the inner parser read none; a line not of the format is
// a message, as any line that did not parse.
TEST_F(ContainerPipelineTest, TheJsonEncodingKeepsTheRuntimesShape) {
  Pipeline p("app", KeyRules{}, 1 << 20, registry_, RecordFilters{},
             {{.name = "node", .kind = AddedField::Kind::kText, .text = "n1"}},
             EncodingOptions{.encoding = Encoding::kJson});
  const ContainerLine line{"2023-10-06T00:17:09Z", "stdout", std::nullopt};
  const ContainerLine bad{{}, {}, ParseFailure::kBadTime};
  BatchPtr batch = p.queue().acquire();
  Padded json(R"({"time":"app time","level":"info","n":5})");
  Padded text("plain text");
  p.addLine(json.view(), Parser::container(ParserKind::kCri, Parser::kJson), *batch, &line);
  p.addLine(text.view(), Parser::container(ParserKind::kCri, Parser::kJson), *batch, &line);
  p.addLine(text.view(), Parser::container(ParserKind::kCri, Parser::kRaw), *batch, &line);
  p.addLine(text.view(), Parser::container(ParserKind::kCri, Parser::kLogfmt), *batch, &bad);
  ASSERT_EQ(batch->size(), 4u);
  EXPECT_EQ(batch->data(0),
            R"({"time":"2023-10-06T00:17:09Z","stream":"stdout","log":{"time":"app time","level":"info","n":5},"node":"n1"})");
  EXPECT_EQ(batch->data(1), R"({"time":"2023-10-06T00:17:09Z","stream":"stdout","log":"plain text","node":"n1"})");
  EXPECT_EQ(batch->data(2), R"({"time":"2023-10-06T00:17:09Z","stream":"stdout","log":"plain text","node":"n1"})");
  EXPECT_EQ(batch->data(3), R"({"message":"plain text","node":"n1"})");
}

TEST(ParserFailures, EveryParserAndReasonOnce) {
  EXPECT_EQ(parserFailuresText(),
            "json: invalid_json, not_an_object; logfmt: no_pairs, unterminated_quote, malformed; regex: no_match; "
            "syslog: no_header, bad_priority, bad_structured_data; cri: bad_time, bad_stream, bad_tag; docker: "
            "invalid_json, not_an_object, no_log");
  const Parser cri = Parser::container(ParserKind::kCri, Parser::kLogfmt);
  EXPECT_TRUE(cri.isContainer());
  EXPECT_EQ(cri.inner(), Parser::kLogfmt);
  EXPECT_EQ(Parser::kJson.inner(), Parser::kJson);
  EXPECT_FALSE(cri == Parser::container(ParserKind::kCri, Parser::kJson));
  EXPECT_FALSE(cri == Parser::container(ParserKind::kDocker, Parser::kLogfmt));
}

}  // namespace
}  // namespace kinship::pipeline
