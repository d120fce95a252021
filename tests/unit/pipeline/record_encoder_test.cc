#include "pipeline/record_encoder.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <optional>
#include <string>
#include <vector>

#include "pipeline/json_writer.h"
#include "pipeline/logfmt_parser.h"
#include "pipeline/regex_parser.h"
#include "pipeline/syslog_parser.h"
#include "tests/support/manual_clock.h"

namespace kinship::pipeline {
namespace {

AddedField text(std::string name, std::string value) {
  return {.name = std::move(name), .kind = AddedField::Kind::kText, .text = std::move(value)};
}
AddedField of(std::string name, AddedField::Kind kind) { return {.name = std::move(name), .kind = kind, .text = {}}; }

struct RecordEncoderTest : ::testing::Test {
  testing::ManualClock clock;
  simdjson::dom::parser json;
  RecordOrigin origin{.source = "/var/log/a.log"};
  bool replaced = false;

  // Encodes `line` with `fields` (null: not parsed) over what `out` holds.
  std::string encode(EncodingOptions options, std::vector<AddedField> added, std::string_view line,
                     const RecordFields* fields, const JsonFields* object = nullptr, std::string out = {}) {
    Enrichment enrichment(std::move(added), clock, 1);
    RecordEncoder encoder(options, enrichment);
    enrichment.begin(line, origin);
    replaced = encoder.encode(line, fields, object, enrichment, out);
    return out;
  }
  std::string encodeJson(std::vector<AddedField> added, std::string_view line, const RecordFields* fields,
                         const JsonFields* object = nullptr) {
    return encode({.encoding = Encoding::kJson}, std::move(added), line, fields, object);
  }
  // The fields of `line` parsed as a JSON object (kept in `json`).
  JsonFields jsonOf(const std::string& line) {
    simdjson::dom::element root;
    EXPECT_EQ(json.parse(line).get(root), simdjson::SUCCESS) << line;
    return JsonFields(root);
  }
  // Whether `text` is one valid JSON object.
  bool isJsonObject(const std::string& text) {
    simdjson::dom::parser check;
    simdjson::dom::element root;
    return check.parse(text).get(root) == simdjson::SUCCESS && root.is_object();
  }
};

TEST_F(RecordEncoderTest, RawIsTheLineWithAnOptionalNewline) {
  Enrichment none({}, clock, 1);
  EXPECT_TRUE(RecordEncoder({}, none).copiesLine());
  EXPECT_FALSE(RecordEncoder({}, none).needsFields());
  EXPECT_FALSE(RecordEncoder({.trailingNewline = true}, none).copiesLine());
  EXPECT_TRUE(RecordEncoder({.encoding = Encoding::kJson}, none).needsFields());

  EXPECT_EQ(encode({}, {text("a", "b")}, "the line", nullptr), "the line");
  EXPECT_EQ(encode({.trailingNewline = true}, {}, "the line", nullptr), "the line\n");
  // Appended after what the batch already holds.
  EXPECT_EQ(encode({.trailingNewline = true}, {}, "two", nullptr, nullptr, "one\n"), "one\ntwo\n");
}

TEST_F(RecordEncoderTest, AnUnparsedLineIsTheMessage) {
  const std::vector<AddedField> added = {text("cluster", "prod"), text("message", "lost"),
                                         of("source", AddedField::Kind::kSource)};
  EXPECT_EQ(encodeJson(added, "free \"text\"", nullptr),
            R"({"message":"free \"text\"","cluster":"prod","source":"/var/log/a.log"})");
  EXPECT_EQ(encodeJson({}, "", nullptr), R"({"message":""})");
  EXPECT_EQ(encode({.encoding = Encoding::kJson, .trailingNewline = true}, {}, "x", nullptr),
            "{\"message\":\"x\"}\n");
}

TEST_F(RecordEncoderTest, AJsonLineKeepsItsBytesAndTakesTheAddedFieldsBeforeItsBrace) {
  const std::string line = R"({"b":1.50, "a":"x\u0041", "n":{"k":[1,2]}}  )";
  JsonFields fields = jsonOf(line);
  EXPECT_EQ(encodeJson({text("cluster", "prod"), of("source", AddedField::Kind::kSource)}, line, &fields, &fields),
            R"({"b":1.50, "a":"x\u0041", "n":{"k":[1,2]},"cluster":"prod","source":"/var/log/a.log"})");
  // No added fields: the line as written, trailing spaces left out.
  EXPECT_EQ(encodeJson({}, line, &fields, &fields), R"({"b":1.50, "a":"x\u0041", "n":{"k":[1,2]}})");
  // An empty object takes no comma.
  const std::string empty = "{ }";
  JsonFields none = jsonOf(empty);
  EXPECT_EQ(encodeJson({text("c", "d")}, empty, &none, &none), R"({ "c":"d"})");
}

TEST_F(RecordEncoderTest, AJsonLineInsideOtherFieldsIsNotSpliced) {
  // A container format's fields wrap the application's JSON line.
  struct Wrapper final : RecordFields {
    const RecordFields* inner = nullptr;
    bool appendValue(const FieldPath&, std::string&) const override { return false; }
    bool writeJson(JsonWriter& out) const override {
      if (out.key("stream")) out.string("stdout");
      out.escapedKey("\"log\":");
      out.beginObject();
      inner->writeJson(out);
      out.endObject();
      return true;
    }
  };
  const std::string line = R"({"a":1})";
  JsonFields fields = jsonOf(line);
  Wrapper wrapper;
  wrapper.inner = &fields;
  EXPECT_EQ(encodeJson({text("c", "d")}, line, &wrapper, &fields), R"({"stream":"stdout","log":{"a":1},"c":"d"})");
}

TEST_F(RecordEncoderTest, AJsonLineWhoseNameAnAddedFieldTakesIsWrittenAnew) {
  const std::string line = R"({"host":"app-1","b":1.0,"big":18446744073709551615,"neg":-3,"e":1e300,)"
                           R"("s":"caf\u00e9 \"q\"","l":[true,false,null,{"host":"inner"}],"o":{}})";
  JsonFields fields = jsonOf(line);
  const std::string out = encodeJson({text("host", "node-7")}, line, &fields, &fields);
  EXPECT_EQ(out, "{\"b\":1.0,\"big\":18446744073709551615,\"neg\":-3,\"e\":1e+300,"
                 "\"s\":\"caf\xC3\xA9 \\\"q\\\"\",\"l\":[true,false,null,{\"host\":\"inner\"}],\"o\":{},"
                 "\"host\":\"node-7\"}");
  EXPECT_TRUE(isJsonObject(out));
  // A source the input did not give takes no name: the line stays as written.
  origin = RecordOrigin{};
  const std::string sourced = R"({"source":"app"})";
  JsonFields s = jsonOf(sourced);
  EXPECT_EQ(encodeJson({of("source", AddedField::Kind::kSource)}, sourced, &s, &s), sourced);
}

TEST_F(RecordEncoderTest, LogfmtPairsInOrderTheFirstOfARepeatedKey) {
  LogfmtParser logfmt;
  const std::string line = R"(level=info msg="said \"hi\"\n" flag level=warn host=a)";
  ASSERT_FALSE(logfmt.parse(line));
  EXPECT_EQ(encodeJson({text("host", "b")}, line, &logfmt),
            R"({"level":"info","msg":"said \"hi\"\n","flag":"","host":"b"})");
}

TEST_F(RecordEncoderTest, RegexGroupsThatMatched) {
  auto pattern = RegexPattern::compile(R"(^(?P<ip>\S+) (?:(?P<v>\d+)s|(?P<v>\d+)ms)(?P<rest>.*)?$)");
  ASSERT_TRUE(pattern.has_value()) << pattern.error().message();
  RegexMatcher regex;
  ASSERT_FALSE(regex.match(**pattern, "10.0.0.1 25ms"));
  EXPECT_EQ(encodeJson({}, "10.0.0.1 25ms", &regex), R"({"ip":"10.0.0.1","v":"25","rest":""})");
}

TEST_F(RecordEncoderTest, SyslogHeaderThenStructuredDataSorted) {
  SyslogParser syslog;
  const std::string line =
      R"(<165>1 2003-10-11T22:14:15.003Z mymachine evntslog - ID47 [z@1 b="2" a="x\"y"][a@1 k="v"][z@1 b="dup"] An application event)";
  ASSERT_FALSE(syslog.parse(line));
  EXPECT_EQ(encodeJson({}, line, &syslog),
            R"({"pri":165,"facility":20,"severity":5,"facility_name":"local4","severity_name":"notice",)"
            R"("version":"1","timestamp":"2003-10-11T22:14:15.003Z","hostname":"mymachine","appname":"evntslog",)"
            R"("msgid":"ID47","message":"An application event","sd":{"a@1":{"k":"v"},"z@1":{"a":"x\"y","b":"2"}}})");
  ASSERT_FALSE(syslog.parse("<13>Oct 11 22:14:15 host su[12]: hello"));
  EXPECT_EQ(encodeJson({text("hostname", "h")}, "<13>Oct 11 22:14:15 host su[12]: hello", &syslog),
            R"({"pri":13,"facility":1,"severity":5,"facility_name":"user","severity_name":"notice",)"
            R"("timestamp":"Oct 11 22:14:15","appname":"su","procid":"12","message":"hello","hostname":"h"})");
}

TEST_F(RecordEncoderTest, BytesThatAreNotUtf8AreReplacedAndReported) {
  EXPECT_EQ(encodeJson({}, "bad \xC3 byte", nullptr), "{\"message\":\"bad \xEF\xBF\xBD byte\"}");
  EXPECT_TRUE(replaced);
  LogfmtParser logfmt;
  ASSERT_FALSE(logfmt.parse("k\xFF=v\xFE"));
  EXPECT_EQ(encodeJson({}, "k\xFF=v\xFE", &logfmt), "{\"k\xEF\xBF\xBD\":\"v\xEF\xBF\xBD\"}");
  EXPECT_TRUE(replaced);
  EXPECT_EQ(encodeJson({}, "fine", nullptr), R"({"message":"fine"})");
  EXPECT_FALSE(replaced);
  // A source (a file's path) is untrusted too, even after a JSON line.
  origin.source = "/var/log/\xFF.log";
  const std::string line = R"({"a":1})";
  JsonFields fields = jsonOf(line);
  EXPECT_EQ(encodeJson({of("src", AddedField::Kind::kSource)}, line, &fields, &fields),
            "{\"a\":1,\"src\":\"/var/log/\xEF\xBF\xBD.log\"}");
  EXPECT_TRUE(replaced);
}

TEST_F(RecordEncoderTest, KeysThatDifferOnlyInBytesThatAreNotUtf8AreWrittenOnce) {
  // Found by record_encoder_fuzz: both keys are written "k\uFFFD".
  LogfmtParser logfmt;
  const std::string line = "k\xE8=1 k\xE9=2 k\xEF\xBF\xBD=3 j=4";
  ASSERT_FALSE(logfmt.parse(line));
  EXPECT_EQ(encodeJson({}, line, &logfmt), "{\"k\xEF\xBF\xBD\":\"1\",\"j\":\"4\"}");
  // Syslog's SD-IDs and names cannot: the parser takes printable ASCII only.
  SyslogParser syslog;
  EXPECT_TRUE(syslog.parse("<14>1 - - - - - [a\xE8 x=\"1\"] m"));
}

TEST_F(RecordEncoderTest, PerRecordFieldsAreWritten) {
  const std::string out = encodeJson({of("t", AddedField::Kind::kIngestTime), of("id", AddedField::Kind::kRecordId),
                                      of("h", AddedField::Kind::kLineHash)},
                                     "x", nullptr);
  simdjson::dom::parser check;
  simdjson::dom::element root;
  ASSERT_EQ(check.parse(out).get(root), simdjson::SUCCESS) << out;
  EXPECT_EQ(std::string_view(root["t"]), "2023-11-14T22:13:20.000Z");
  EXPECT_EQ(std::string_view(root["id"]).size(), kRecordIdSize);
  EXPECT_EQ(std::string_view(root["h"]).size(), kRecordIdSize);
}

}  // namespace
}  // namespace kinship::pipeline
