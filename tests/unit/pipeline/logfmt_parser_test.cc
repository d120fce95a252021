#include "pipeline/logfmt_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace kinship::pipeline;

namespace {

// "key=value" per pair (values unescaped), or the failure's name.
std::vector<std::string> pairsOf(std::string_view line) {
  LogfmtParser parser;
  if (auto failure = parser.parse(line)) return {"<" + std::string(parseFailureName(*failure)) + ">"};
  std::vector<std::string> out;
  for (const auto& pair : parser.pairs()) {
    std::string value;
    if (pair.quoted) appendLogfmtUnescaped(pair.value, value);
    else value = pair.value;
    out.push_back(std::string(pair.key) + "=" + value);
  }
  return out;
}

std::string valueOf(std::string_view line, std::string_view key) {
  LogfmtParser parser;
  if (parser.parse(line)) return "<failed>";
  auto path = FieldPath::parse(key);
  EXPECT_TRUE(path.has_value()) << key;
  std::string out = "kept|";
  if (!parser.appendValue(*path, out)) return "<missing>";
  return out.substr(5);
}

using Pairs = std::vector<std::string>;

}  // namespace

TEST(LogfmtParser, RealLines) {
  const std::pair<std::string_view, Pairs> cases[] = {
      // Heroku router
      {R"(at=info method=GET path="/" host=myapp.herokuapp.com request_id=8601b555-6a83-4c12-8269-97c8e32cdb22 fwd="204.204.204.204" dyno=web.1 connect=1ms service=18ms status=200 bytes=13 protocol=https)",
       {"at=info", "method=GET", "path=/", "host=myapp.herokuapp.com", "request_id=8601b555-6a83-4c12-8269-97c8e32cdb22",
        "fwd=204.204.204.204", "dyno=web.1", "connect=1ms", "service=18ms", "status=200", "bytes=13",
        "protocol=https"}},
      // Go's log/slog TextHandler
      {R"(time=2024-03-05T10:11:12.345+01:00 level=WARN msg="disk almost full" path=/var/lib used_pct=93.5)",
       {"time=2024-03-05T10:11:12.345+01:00", "level=WARN", "msg=disk almost full", "path=/var/lib",
        "used_pct=93.5"}},
      // Grafana Loki / Prometheus (go-kit log)
      {R"(level=error ts=2024-03-05T09:00:00.000Z caller=scrape.go:1313 component="scrape manager" msg="Scrape failed" err="Get \"http://10.0.0.1:9100/metrics\": context deadline exceeded")",
       {"level=error", "ts=2024-03-05T09:00:00.000Z", "caller=scrape.go:1313", "component=scrape manager",
        "msg=Scrape failed", "err=Get \"http://10.0.0.1:9100/metrics\": context deadline exceeded"}},
      // logrus TextFormatter
      {R"(time="2024-03-05T10:11:12Z" level=info msg="A group of walrus emerges from the ocean" animal=walrus size=10)",
       {"time=2024-03-05T10:11:12Z", "level=info", "msg=A group of walrus emerges from the ocean", "animal=walrus",
        "size=10"}},
  };
  for (const auto& [line, pairs] : cases) EXPECT_EQ(pairsOf(line), pairs) << line;
}

TEST(LogfmtParser, QuotesEscapesAndEdgeCases) {
  const std::pair<std::string_view, Pairs> cases[] = {
      {R"(a=1)", {"a=1"}},
      {"  a=1\t b=2  ", {"a=1", "b=2"}},
      {R"(msg="say \"hi\"")", {"msg=say \"hi\""}},
      {R"(p="C:\\dir\\file")", {"p=C:\\dir\\file"}},
      {R"(m="line1\nline2\ttab\rcr")", {"m=line1\nline2\ttab\rcr"}},
      {R"(m="\u00e9 \x")", {"m=\\u00e9 \\x"}},  // other escapes are kept as written
      {R"(e="" f=)", {"e=", "f="}},
      {R"(flag a=1)", {"flag=", "a=1"}},  // a key alone is a flag
      {R"(q=a=b)", {"q=a=b"}},            // '=' inside a bare value
      {R"(k="a b" k=second)", {"k=a b", "k=second"}},
      {"k=\xc3\xa9t\xc3\xa9 \xe6\x97\xa5=\xf0\x9f\x98\x80", {"k=\xc3\xa9t\xc3\xa9", "\xe6\x97\xa5=\xf0\x9f\x98\x80"}},
      {R"(http.status=200 kubernetes.pod=web-1)", {"http.status=200", "kubernetes.pod=web-1"}},
      // Failures.
      {"", {"<no_pairs>"}},
      {"   ", {"<no_pairs>"}},
      {"just some free text", {"<no_pairs>"}},
      {R"(msg="unterminated)", {"<unterminated_quote>"}},
      {R"(msg="ends in an escape\")", {"<unterminated_quote>"}},
      {R"(=value)", {"<malformed>"}},
      {R"(a=1 =2)", {"<malformed>"}},
      {R"(ke"y=1)", {"<malformed>"}},
      {R"(a="x"y)", {"<malformed>"}},
      {R"(a=x"y")", {"<malformed>"}},
      {R"("quoted"=1)", {"<malformed>"}},
  };
  for (const auto& [line, pairs] : cases) EXPECT_EQ(pairsOf(line), pairs) << line;
}

TEST(LogfmtParser, FieldsForTemplates) {
  const std::string_view line = R"(level=info msg="a \"b\"" http.status=200 flag dup=1 dup=2)";
  EXPECT_EQ(valueOf(line, "level"), "info");
  EXPECT_EQ(valueOf(line, "msg"), "a \"b\"");
  EXPECT_EQ(valueOf(line, "http.status"), "200");  // a dotted key is one name
  EXPECT_EQ(valueOf(line, "flag"), "");
  EXPECT_EQ(valueOf(line, "dup"), "1");  // the first wins
  EXPECT_EQ(valueOf(line, "absent"), "<missing>");
  EXPECT_EQ(valueOf(line, "http"), "<missing>");
}

TEST(LogfmtParser, AFailureLeavesNoFields) {
  LogfmtParser parser;
  ASSERT_FALSE(parser.parse("a=1 b=2").has_value());
  EXPECT_EQ(parser.pairs().size(), 2u);
  ASSERT_TRUE(parser.parse("a=1 b=\"open").has_value());
  EXPECT_TRUE(parser.pairs().empty());
  std::string out;
  EXPECT_FALSE(parser.appendValue(FieldPath::parse("a").value(), out));
}
