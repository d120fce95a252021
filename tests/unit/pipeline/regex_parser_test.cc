#include "pipeline/regex_parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace kinship::pipeline;
using ::testing::HasSubstr;

namespace {

std::shared_ptr<const RegexPattern> compiled(std::string_view pattern) {
  auto p = RegexPattern::compile(pattern);
  EXPECT_TRUE(p.has_value()) << pattern << ": " << (p ? "" : p.error().message());
  return p ? *p : nullptr;
}

// The named fields' values, in the order asked, after matching `line`;
// "<no_match>" when it does not match, "<missing>" for a group without text.
std::vector<std::string> fieldsOf(std::string_view pattern, std::string_view line,
                                  const std::vector<std::string_view>& names) {
  auto p = compiled(pattern);
  if (!p) return {"<bad pattern>"};
  RegexMatcher matcher;
  if (auto failure = matcher.match(*p, line)) return {"<" + std::string(parseFailureName(*failure)) + ">"};
  std::vector<std::string> out;
  for (std::string_view name : names) {
    std::string value;
    out.push_back(matcher.appendValue(FieldPath::parse(name).value(), value) ? value : "<missing>");
  }
  return out;
}

using Values = std::vector<std::string>;

}  // namespace

TEST(RegexPattern, CompileErrors) {
  EXPECT_THAT(RegexPattern::compile("(?P<a>x").error().message(), HasSubstr("invalid pattern: missing )"));
  EXPECT_THAT(RegexPattern::compile("(x)(y)").error().message(), HasSubstr("no named group"));
  EXPECT_THAT(RegexPattern::compile("").error().message(), HasSubstr("no named group"));
  EXPECT_THAT(RegexPattern::compile("(?P<a>x)\\1").error().message(), HasSubstr("invalid pattern"));  // no backrefs in RE2
}

TEST(RegexPattern, GroupsInOrder) {
  auto p = compiled("(?P<b>x)(y)(?P<a>z)");
  ASSERT_TRUE(p);
  const std::vector<std::pair<std::string, int>> expected = {{"b", 1}, {"a", 3}};
  EXPECT_EQ(p->groups(), expected);
}

TEST(RegexMatcher, RealLines) {
  struct Case {
    std::string_view pattern;
    std::string_view line;
    std::vector<std::string_view> names;
    Values values;
  };
  // Apache/nginx combined log format.
  constexpr std::string_view kCombined =
      R"(^(?P<client>\S+) \S+ (?P<user>\S+) \[(?P<time>[^\]]+)\] "(?P<method>[A-Z]+) (?P<path>\S+) [^"]*" (?P<status>\d{3}) (?P<bytes>\d+|-))";
  const Case cases[] = {
      {kCombined,
       R"(203.0.113.9 - frank [10/Oct/2023:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08")",
       {"client", "user", "time", "method", "path", "status", "bytes"},
       {"203.0.113.9", "frank", "10/Oct/2023:13:55:36 -0700", "GET", "/apache_pb.gif", "200", "2326"}},
      {kCombined, R"(::1 - - [05/Mar/2024:10:00:00 +0000] "POST /api/v1/items HTTP/1.1" 503 - "-" "curl/8.5.0")",
       {"client", "status", "bytes"},
       {"::1", "503", "-"}},
      // A Java / log4j pattern layout line.
      {R"(^(?P<date>\S+ \S+) (?P<level>[A-Z]+)\s+\[(?P<thread>[^\]]+)\] (?P<logger>\S+) - (?P<msg>.*)$)",
       "2024-03-05 10:11:12,345 ERROR [http-nio-8080-exec-3] com.example.OrderService - Order 42 failed: timeout",
       {"level", "thread", "logger", "msg"},
       {"ERROR", "http-nio-8080-exec-3", "com.example.OrderService", "Order 42 failed: timeout"}},
      // Unanchored: the pattern may match anywhere.
      {R"(user=(?P<user>\w+))", "2024 login ok user=alice from 10.0.0.1", {"user"}, {"alice"}},
      // An optional group that took no part is missing; an empty one is "".
      {R"(^(?P<a>x)?(?P<b>y*)z$)", "z", {"a", "b"}, {"<missing>", ""}},
      {R"((?P<word>\p{L}+))", "-- привет --", {"word"}, {"привет"}},
      // Groups may share a name: the one that took part gives the value.
      {R"(took (?:(?P<v>\d+)s|(?P<v>\d+)ms))", "took 250ms", {"v"}, {"250"}},
      {R"(took (?:(?P<v>\d+)s|(?P<v>\d+)ms))", "took 3s", {"v"}, {"3"}},
      {kCombined, "not an access log line", {"client"}, {"<no_match>"}},
      {R"(^(?P<a>\d+)$)", "12a", {"a"}, {"<no_match>"}},
  };
  for (const Case& c : cases) EXPECT_EQ(fieldsOf(c.pattern, c.line, c.names), c.values) << c.line;
}

TEST(RegexMatcher, UnknownGroupAndFailedMatchHaveNoFields) {
  auto p = compiled("(?P<a>a+)");
  ASSERT_TRUE(p);
  RegexMatcher matcher;
  std::string out;
  ASSERT_FALSE(matcher.match(*p, "xaay").has_value());
  EXPECT_FALSE(matcher.appendValue(FieldPath::parse("b").value(), out));
  EXPECT_TRUE(matcher.appendValue(FieldPath::parse("a").value(), out));
  EXPECT_EQ(out, "aa");
  ASSERT_TRUE(matcher.match(*p, "xyz").has_value());
  EXPECT_FALSE(matcher.appendValue(FieldPath::parse("a").value(), out));
}

TEST(RegexMatcher, PatternsOfDifferentSizesShareAMatcher) {
  auto small = compiled("(?P<a>a)");
  auto large = compiled("(?P<a>a)(?P<b>b)(?P<c>c)(?P<d>d)");
  RegexMatcher matcher;
  std::string out;
  ASSERT_FALSE(matcher.match(*small, "a").has_value());
  ASSERT_FALSE(matcher.match(*large, "abcd").has_value());
  EXPECT_TRUE(matcher.appendValue(FieldPath::parse("d").value(), out));
  ASSERT_FALSE(matcher.match(*small, "a").has_value());
  out.clear();
  EXPECT_FALSE(matcher.appendValue(FieldPath::parse("d").value(), out));
  EXPECT_TRUE(matcher.appendValue(FieldPath::parse("a").value(), out));
  EXPECT_EQ(out, "a");
}
