#include "pipeline/key_template.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>

#include "pipeline/json_fields.h"

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

std::string outcomeText(KeyTemplate::Outcome outcome, const std::string& out) {
  switch (outcome) {
    case KeyTemplate::Outcome::kRendered: return out;
    case KeyTemplate::Outcome::kMissingField: return "<missing>";
    case KeyTemplate::Outcome::kEmpty: return out.empty() ? "<empty>" : "<empty but '" + out + "'>";
  }
  return "<?>";
}

// Renders `tmpl` over `json`: the key, "<missing>" or "<empty>".
std::string renderOver(std::string_view tmpl, const std::string& json) {
  KeyTemplate t = compiled(tmpl);
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::element doc;
  EXPECT_EQ(parser.parse(padded).get(doc), simdjson::SUCCESS) << json;
  std::string out = "garbage from before";
  return outcomeText(t.render(JsonFields(doc), out), out);
}

// Renders `tmpl` over a record without fields (not parsed).
std::string renderUnparsed(std::string_view tmpl) {
  std::string out = "garbage from before";
  return outcomeText(compiled(tmpl).render(NoFields(), out), out);
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

struct RenderCase {
  std::string_view tmpl;
  std::string json;
  std::string expected;
};

void expectRenders(const std::vector<RenderCase>& cases) {
  for (const RenderCase& c : cases) EXPECT_EQ(renderOver(c.tmpl, c.json), c.expected) << c.tmpl << " over " << c.json;
}

}  // namespace

// --- compile ---------------------------------------------------------------

TEST(KeyTemplateCompile, Errors) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"svc-{service", "unclosed '{' at character 5"},
      {"{", "unclosed '{' at character 1"},
      {"{a|b", "unclosed '{' at character 1"},
      {"{a|'x'", "unclosed '{' at character 1"},
      {"a{}b", "empty field name '{}'"},
      {"a}b", "unmatched '}' at character 2"},
      {"{{a}", "unmatched '}' at character 4"},  // "{{" is a literal, so the "}" is stray
      {"{a}}", "unmatched '}' at character 4"},
      {"{a..b}", "invalid field path 'a..b'"},
      {"{.a}", "invalid field path '.a'"},
      {"{a.}", "invalid field path 'a.'"},
      {"{.}", "invalid field path '.'"},
      {"x{a{b}", "invalid field path 'a{b'"},
      {"{a[}", "invalid field path 'a['"},
      {"{a[]}", "invalid field path 'a[]'"},
      {"{a[x]}", "invalid field path 'a[x]'"},
      {"{a[-1]}", "invalid field path 'a[-1]'"},
      {"{a[4294967296]}", "index above 2^32 - 1"},
      {"{a[0]b}", "invalid field path 'a[0]b'"},
      {"{[0]}", "invalid field path '[0]'"},
      {"{a]}", "invalid field path 'a]'"},
      {"{a|}", "empty alternative at character 4"},
      {"{|a}", "empty alternative at character 2"},
      {"{a||b}", "empty alternative at character 4"},
      {"{'x'|a}", "a quoted literal must be the last alternative at character 5"},
      {"{a|'x'b}", "a quoted literal must be the last alternative at character 7"},
      {"{a|'x}", "unclosed quote at character 4"},
      {"{a|b'c'}", "invalid field path 'b'c''"},
      {"", "the template is empty"},
  };
  for (const auto& [tmpl, error] : cases) EXPECT_THAT(compileError(tmpl), HasSubstr(error)) << tmpl;
}

TEST(KeyTemplateCompile, KeepsTextAndCountsFields) {
  KeyTemplate t = compiled("{service}-{host}");
  EXPECT_EQ(t.text(), "{service}-{host}");
  EXPECT_TRUE(t.hasFields());
  EXPECT_TRUE(compiled("{a|'x'}").hasFields());
  EXPECT_FALSE(compiled("plain").hasFields());
  EXPECT_FALSE(compiled("{{not-a-field}}").hasFields());
  EXPECT_FALSE(compiled("{'only a literal'}").hasFields());
}

// --- render without fields ---------------------------------------------------

TEST(KeyTemplateRender, LiteralsWithoutFields) {
  EXPECT_EQ(renderUnparsed("fixed-key"), "fixed-key");
  EXPECT_EQ(renderUnparsed("{{x}}"), "{x}");
  EXPECT_EQ(renderUnparsed("a}}b{{c"), "a}b{c");
  EXPECT_EQ(renderUnparsed("{{{{"), "{{");
  EXPECT_EQ(renderUnparsed("{'lit'}"), "lit");
  EXPECT_EQ(renderUnparsed("x-{service}"), "<missing>");
  // A record that is not parsed has no fields: literal defaults still apply.
  EXPECT_EQ(renderUnparsed("{service|'none'}-{host|'?'}"), "none-?");
  EXPECT_EQ(renderUnparsed("{service|''}"), "<empty>");
  // render() does not cut: the caller applies partition_key_overflow.
  EXPECT_EQ(renderUnparsed(repeat("k", 300)), repeat("k", 300));
}

// --- render ------------------------------------------------------------------

TEST(KeyTemplateRender, Fields) {
  const std::string flat = R"({"service":"api","host":"h1"})";
  const std::string nested = R"({"kubernetes":{"pod":"web-7f9c","labels":{"app":"shop"}},"pod":"top"})";
  expectRenders({
      {"{service}", flat, "api"},
      {"{service}-{host}", flat, "api-h1"},
      {"pre/{host}/post", flat, "pre/h1/post"},
      {"{{{service}}}", flat, "{api}"},
      {"{host}", R"({"service":"api"})", "<missing>"},
      {"{service}-{host}", R"({"service":"api"})", "<missing>"},
      {"{kubernetes.pod}", nested, "web-7f9c"},
      {"{kubernetes.labels.app}/{pod}", nested, "shop/top"},
      {"{kubernetes.missing}", nested, "<missing>"},
      {"{pod.deeper}", nested, "<missing>"},
      // "/" and "~" are plain characters of a name.
      {"{a/b}", R"({"a/b":"slash","a":{"b":"wrong"}})", "slash"},
      {"{t~x}", R"({"t~x":"tilde"})", "tilde"},
      {"{svc}", R"({"svc":"пример-日本-😀"})", "пример-日本-😀"},
      {"{m}", R"({"m":"a\"b\\c\/d\u00e9\n"})", "a\"b\\c/d\xc3\xa9\n"},
      {"{m}", R"({"m":"\ud83d\ude00"})", "\xf0\x9f\x98\x80"},
  });
}

TEST(KeyTemplateRender, ArrayIndexes) {
  const std::string json = R"({"items":[{"id":"a"},{"id":"b","tags":["x","y"]}],"m":[[1,2],[3]],"o":{"0":"key0"}})";
  expectRenders({
      {"{items[0].id}", json, "a"},
      {"{items[1].id}", json, "b"},
      {"{items[1].tags[1]}", json, "y"},
      {"{m[1][0]}", json, "3"},
      {"{m[0][1]}-{items[0].id}", json, "2-a"},
      {"{items[2].id}", json, "<missing>"},     // past the end
      {"{items[0]}", json, "<missing>"},        // an object
      {"{items.id}", json, "<missing>"},        // a name step into an array
      {"{o[0]}", json, "<missing>"},            // an index step into an object
      {"{o.0}", json, "key0"},                  // a name that looks like a number
      {"{items[4294967295]}", json, "<missing>"},
  });
}

TEST(KeyTemplateRender, NumbersAndBooleans) {
  const std::string json = R"({"i":42,"neg":-7,"big":18446744073709551615,"d":1.5,"t":true,"f":false,"z":0})";
  expectRenders({
      {"{i}", json, "42"},
      {"{neg}", json, "-7"},
      {"{big}", json, "18446744073709551615"},
      {"{d}", json, "1.5"},
      {"{t}", json, "true"},
      {"{f}", json, "false"},
      {"{z}", json, "0"},
      {"{i}:{t}:{d}", json, "42:true:1.5"},
  });
}

TEST(KeyTemplateRender, NullObjectArrayAreMissing) {
  const std::string json = R"({"n":null,"o":{"a":1},"a":[1,2],"s":"ok"})";
  expectRenders({
      {"{n}", json, "<missing>"},
      {"{o}", json, "<missing>"},
      {"{a}", json, "<missing>"},
      {"{s}-{n}", json, "<missing>"},
      {"{s}", json, "ok"},
  });
}

TEST(KeyTemplateRender, Fallbacks) {
  const std::string json = R"({"org":"acme","service":"api","n":null,"e":"","zero":0,"o":{"x":1}})";
  expectRenders({
      {"{tenant|org|'unknown'}:{service}", json, "acme:api"},
      {"{tenant|'unknown'}:{service}", json, "unknown:api"},
      {"{tenant|missing|'unknown'}", json, "unknown"},
      {"{service|org}", json, "api"},           // the first with a value wins
      {"{tenant|org}", json, "acme"},
      {"{tenant|other}", json, "<missing>"},    // no alternative, no literal
      {"{n|o|org}", json, "acme"},              // null and objects give way
      {"{zero|org}", json, "0"},                // 0 is a value
      {"{e|org}", json, "acme"},                // an empty string gives way...
      {"x{e|tenant}", json, "x"},               // ...but stands when nothing else has a value
      {"{e|''}", json, "<empty>"},
      {"{tenant|''}-{service}", json, "-api"},  // an empty literal makes a field optional
      {"{tenant|'a|b}c'}", json, "a|b}c"},       // a quoted literal may hold | and }
      {"{tenant|'日本'}", json, "日本"},
      {"{'lit'}{service}", json, "litapi"},
  });
}

TEST(KeyTemplateRender, EmptyResults) {
  // A partition key must be at least one character: an empty rendering is
  // told apart so the caller can apply the fallback.
  expectRenders({
      {"{s}", R"({"s":""})", "<empty>"},
      {"{s}{t}", R"({"s":"","t":""})", "<empty>"},
      {"x{s}", R"({"s":""})", "x"},
      {"{s|'fallback'}", R"({"s":""})", "fallback"},
  });
}

TEST(KeyTemplateRender, DoesNotCut) {
  std::string json = R"({"v":")" + repeat("x", 300) + R"("})";
  EXPECT_EQ(renderOver("{v}", json), repeat("x", 300));
}

TEST(KeyTemplateRender, OutputIsClearedFirst) {
  KeyTemplate t = compiled("{a}");
  simdjson::dom::parser parser;
  simdjson::padded_string padded(std::string(R"({"a":"v"})"));
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(padded).get(doc), simdjson::SUCCESS);
  std::string out = "previous-key";
  ASSERT_EQ(t.render(JsonFields(doc), out), KeyTemplate::Outcome::kRendered);
  EXPECT_EQ(out, "v");
  ASSERT_EQ(t.render(JsonFields(doc), out), KeyTemplate::Outcome::kRendered);
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

TEST(ExceedsKeyLimit, CountsUtf16Units) {
  const std::pair<std::string, bool> cases[] = {
      {"", false},
      {repeat("a", 256), false},
      {repeat("a", 257), true},
      {repeat("é", 256), false},  // 512 bytes, 256 units
      {repeat("é", 257), true},
      {repeat("😀", 128), false},  // 512 bytes, 256 units
      {repeat("😀", 128) + "a", true},
      {repeat("a", 255) + "😀", true},
      {repeat("a", 254) + "😀", false},
  };
  for (const auto& [key, exceeds] : cases) EXPECT_EQ(exceedsKeyLimit(key), exceeds) << key.size() << " bytes";
}
