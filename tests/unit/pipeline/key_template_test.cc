#include "pipeline/key_template.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>

using namespace kinship::pipeline;
using ::testing::HasSubstr;

namespace {

// The compile error message, or a marker when the template compiled.
std::string compileError(std::string_view text) {
  auto t = KeyTemplate::compile(text);
  if (t) return "<compiled>";
  EXPECT_EQ(t.error().code(), kinship::Status::Code::kInvalidArgument);
  return t.error().message();
}

KeyTemplate compiled(std::string_view text) {
  auto t = KeyTemplate::compile(text);
  EXPECT_TRUE(t.has_value()) << text << ": " << (t ? "" : t.error().message());
  return t ? std::move(*t) : KeyTemplate::compile("x").value();
}

// Renders `tmpl` over `json`; returns "<false>" when render() returns false
// (and then checks the output is not otherwise relied upon).
std::string renderOver(std::string_view tmpl, const std::string& json) {
  KeyTemplate t = compiled(tmpl);
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::element doc;
  EXPECT_EQ(parser.parse(padded).get(doc), simdjson::SUCCESS) << json;
  std::string out = "garbage from before";
  if (!t.render(doc, out)) return "<false>";
  return out;
}

std::string repeat(std::string_view piece, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s += piece;
  return s;
}

// Counts code points (non-continuation bytes).
size_t codePoints(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// Counts UTF-16 code units, as Kinesis and kinesalite do.
size_t utf16Units(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) == 0x80 ? 0 : (c >= 0xF0 ? 2 : 1);
  return n;
}

}  // namespace

// --- compile ---------------------------------------------------------------

TEST(KeyTemplateCompile, UnclosedBrace) {
  EXPECT_EQ(compileError("svc-{service"), "unclosed '{' at character 5");
  EXPECT_EQ(compileError("{"), "unclosed '{' at character 1");
}

TEST(KeyTemplateCompile, EmptyFieldName) { EXPECT_EQ(compileError("a{}b"), "empty field name '{}'"); }

TEST(KeyTemplateCompile, StrayClosingBrace) {
  EXPECT_THAT(compileError("a}b"), HasSubstr("unmatched '}' at character 2"));
  // "{{" is a literal, so the "}" that follows "a" is stray.
  EXPECT_THAT(compileError("{{a}"), HasSubstr("unmatched '}' at character 4"));
  EXPECT_THAT(compileError("{a}}"), HasSubstr("unmatched '}' at character 4"));
}

TEST(KeyTemplateCompile, BadFieldPaths) {
  EXPECT_EQ(compileError("{a..b}"), "invalid field path 'a..b'");
  EXPECT_EQ(compileError("{.a}"), "invalid field path '.a'");
  EXPECT_EQ(compileError("{a.}"), "invalid field path 'a.'");
  EXPECT_EQ(compileError("{.}"), "invalid field path '.'");
}

TEST(KeyTemplateCompile, BraceInsideField) {
  EXPECT_EQ(compileError("x{a{b}"), "'{' inside a field reference at character 2");
}

TEST(KeyTemplateCompile, EmptyTemplate) { EXPECT_EQ(compileError(""), "the template is empty"); }

TEST(KeyTemplateCompile, KeepsTextAndCountsFields) {
  KeyTemplate t = compiled("{service}-{host}");
  EXPECT_EQ(t.text(), "{service}-{host}");
  EXPECT_TRUE(t.hasFields());
  EXPECT_FALSE(compiled("plain").hasFields());
  EXPECT_FALSE(compiled("{{not-a-field}}").hasFields());
}

// --- renderLiteral -----------------------------------------------------------

TEST(KeyTemplateRenderLiteral, LiteralOnly) {
  std::string out = "old";
  EXPECT_TRUE(compiled("fixed-key").renderLiteral(out));
  EXPECT_EQ(out, "fixed-key");
}

TEST(KeyTemplateRenderLiteral, DoubledBracesAreLiteral) {
  std::string out;
  EXPECT_TRUE(compiled("{{x}}").renderLiteral(out));
  EXPECT_EQ(out, "{x}");
  EXPECT_TRUE(compiled("a}}b{{c").renderLiteral(out));
  EXPECT_EQ(out, "a}b{c");
  EXPECT_TRUE(compiled("{{{{").renderLiteral(out));
  EXPECT_EQ(out, "{{");
}

TEST(KeyTemplateRenderLiteral, TemplateWithFieldsDoesNotRender) {
  std::string out = "untouched";
  EXPECT_FALSE(compiled("x-{service}").renderLiteral(out));
}

TEST(KeyTemplateRenderLiteral, LongLiteralIsTruncated) {
  std::string out;
  EXPECT_TRUE(compiled(repeat("k", 300)).renderLiteral(out));
  EXPECT_EQ(out, repeat("k", 256));
}

// --- render ------------------------------------------------------------------

TEST(KeyTemplateRender, TopLevelFields) {
  EXPECT_EQ(renderOver("{service}", R"({"service":"api","host":"h1"})"), "api");
  EXPECT_EQ(renderOver("{service}-{host}", R"({"service":"api","host":"h1"})"), "api-h1");
  EXPECT_EQ(renderOver("pre/{host}/post", R"({"service":"api","host":"h1"})"), "pre/h1/post");
  EXPECT_EQ(renderOver("{{{service}}}", R"({"service":"api"})"), "{api}");
}

TEST(KeyTemplateRender, NestedFields) {
  const std::string json = R"({"kubernetes":{"pod":"web-7f9c","labels":{"app":"shop"}},"pod":"top"})";
  EXPECT_EQ(renderOver("{kubernetes.pod}", json), "web-7f9c");
  EXPECT_EQ(renderOver("{kubernetes.labels.app}/{pod}", json), "shop/top");
  EXPECT_EQ(renderOver("{kubernetes.missing}", json), "<false>");
  EXPECT_EQ(renderOver("{pod.deeper}", json), "<false>");
}

TEST(KeyTemplateRender, FieldNamesWithPointerCharacters) {
  // "/" and "~" in a name must be escaped in the JSON pointer.
  EXPECT_EQ(renderOver("{a/b}", R"({"a/b":"slash","a":{"b":"wrong"}})"), "slash");
  EXPECT_EQ(renderOver("{t~x}", R"({"t~x":"tilde"})"), "tilde");
}

TEST(KeyTemplateRender, NumbersAndBooleans) {
  const std::string json =
      R"({"i":42,"neg":-7,"big":18446744073709551615,"d":1.5,"t":true,"f":false,"z":0})";
  EXPECT_EQ(renderOver("{i}", json), "42");
  EXPECT_EQ(renderOver("{neg}", json), "-7");
  EXPECT_EQ(renderOver("{big}", json), "18446744073709551615");
  EXPECT_EQ(renderOver("{d}", json), "1.5");
  EXPECT_EQ(renderOver("{t}", json), "true");
  EXPECT_EQ(renderOver("{f}", json), "false");
  EXPECT_EQ(renderOver("{z}", json), "0");
  EXPECT_EQ(renderOver("{i}:{t}:{d}", json), "42:true:1.5");
}

TEST(KeyTemplateRender, MissingFieldIsFalse) {
  EXPECT_EQ(renderOver("{host}", R"({"service":"api"})"), "<false>");
  EXPECT_EQ(renderOver("{service}-{host}", R"({"service":"api"})"), "<false>");
}

TEST(KeyTemplateRender, NullObjectArrayAreFalse) {
  const std::string json = R"({"n":null,"o":{"a":1},"a":[1,2],"s":"ok"})";
  EXPECT_EQ(renderOver("{n}", json), "<false>");
  EXPECT_EQ(renderOver("{o}", json), "<false>");
  EXPECT_EQ(renderOver("{a}", json), "<false>");
  EXPECT_EQ(renderOver("{s}-{n}", json), "<false>");
  EXPECT_EQ(renderOver("{s}", json), "ok");
}

TEST(KeyTemplateRender, EmptyStringRendersNothingSoFalse) {
  // A partition key must be at least one character.
  EXPECT_EQ(renderOver("{s}", R"({"s":""})"), "<false>");
  EXPECT_EQ(renderOver("x{s}", R"({"s":""})"), "x");
}

TEST(KeyTemplateRender, NonAsciiKeptIntact) {
  EXPECT_EQ(renderOver("{svc}", R"({"svc":"пример-日本-😀"})"), "пример-日本-😀");
}

TEST(KeyTemplateRender, EscapedStringsAreUnescaped) {
  EXPECT_EQ(renderOver("{m}", R"({"m":"a\"b\\c\/d\u00e9\n"})"), "a\"b\\c/d\xc3\xa9\n");
  EXPECT_EQ(renderOver("{m}", R"({"m":"\ud83d\ude00"})"), "\xf0\x9f\x98\x80");
}

TEST(KeyTemplateRender, LongValueIsTruncated) {
  std::string json = R"({"v":")" + repeat("x", 300) + R"("})";
  EXPECT_EQ(renderOver("{v}", json), repeat("x", 256));
  EXPECT_EQ(renderOver("ab{v}", json), "ab" + repeat("x", 254));
}

TEST(KeyTemplateRender, OutputIsClearedFirst) {
  KeyTemplate t = compiled("{a}");
  simdjson::dom::parser parser;
  simdjson::padded_string padded(std::string(R"({"a":"v"})"));
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(padded).get(doc), simdjson::SUCCESS);
  std::string out = "previous-key";
  ASSERT_TRUE(t.render(doc, out));
  EXPECT_EQ(out, "v");
  ASSERT_TRUE(t.render(doc, out));
  EXPECT_EQ(out, "v");
}

// --- truncateToKeyLimit --------------------------------------------------------

TEST(TruncateToKeyLimit, AsciiCutTo256) {
  std::string key = repeat("a", 300);
  truncateToKeyLimit(key);
  EXPECT_EQ(key, repeat("a", 256));
}

TEST(TruncateToKeyLimit, TwoByteCharactersKeep256CodePoints) {
  std::string key = repeat("é", 300);  // 600 bytes
  truncateToKeyLimit(key);
  EXPECT_EQ(key.size(), 512u);
  EXPECT_EQ(key, repeat("é", 256));
  EXPECT_EQ(codePoints(key), 256u);
}

TEST(TruncateToKeyLimit, FourByteCharactersCountAsTwoUtf16Units) {
  // Kinesis and kinesalite count UTF-16 code units: 129 emoji are 258 units
  // and were refused when this cut counted code points.
  std::string key = repeat("😀", 129);
  truncateToKeyLimit(key);
  EXPECT_EQ(key, repeat("😀", 128));
  EXPECT_EQ(utf16Units(key), 256u);

  std::string longKey = repeat("😀", 300);  // 1200 bytes
  truncateToKeyLimit(longKey);
  EXPECT_EQ(longKey, repeat("😀", 128));

  // 100 emoji are 400 bytes but only 200 UTF-16 units: untouched.
  std::string shortKey = repeat("😀", 100);
  truncateToKeyLimit(shortKey);
  EXPECT_EQ(shortKey, repeat("😀", 100));

  // Three-byte characters (CJK) are one unit each.
  std::string cjk = repeat("中", 300);
  truncateToKeyLimit(cjk);
  EXPECT_EQ(cjk, repeat("中", 256));
}

TEST(TruncateToKeyLimit, NeverSplitsASequence) {
  // 256 ASCII then an emoji: the emoji would be units 257 and 258, cut whole.
  std::string key = repeat("a", 256) + "😀";
  truncateToKeyLimit(key);
  EXPECT_EQ(key, repeat("a", 256));

  // 255 ASCII then "é": 256 units in 257 bytes, kept.
  std::string exact = repeat("a", 255) + "é";
  truncateToKeyLimit(exact);
  EXPECT_EQ(exact, repeat("a", 255) + "é");

  // 255 ASCII, "é", "b": "b" is the 257th unit.
  std::string over = repeat("a", 255) + "éb";
  truncateToKeyLimit(over);
  EXPECT_EQ(over, repeat("a", 255) + "é");

  // 255 ASCII then an emoji: the emoji's second unit would be the 257th.
  std::string straddle = repeat("a", 255) + "😀";
  truncateToKeyLimit(straddle);
  EXPECT_EQ(straddle, repeat("a", 255));

  // 254 ASCII then an emoji: exactly 256 units, kept.
  std::string fits = repeat("a", 254) + "😀";
  truncateToKeyLimit(fits);
  EXPECT_EQ(fits, repeat("a", 254) + "😀");
}

TEST(TruncateToKeyLimit, ShortKeysUntouched) {
  for (size_t n : {0u, 1u, 100u, 255u, 256u}) {
    std::string key = repeat("z", n);
    truncateToKeyLimit(key);
    EXPECT_EQ(key, repeat("z", n)) << n;
  }
  std::string exactBytes = repeat("é", 128);  // 256 bytes
  truncateToKeyLimit(exactBytes);
  EXPECT_EQ(exactBytes, repeat("é", 128));
}
