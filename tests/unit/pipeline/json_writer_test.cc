#include "pipeline/json_writer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "pipeline/added_fields.h"
#include "tests/support/manual_clock.h"

namespace kinship::pipeline {
namespace {

std::string valid(std::string_view text) {
  std::string out;
  appendValidUtf8(text, out);
  return out;
}

TEST(AppendValidUtf8, KeepsUtf8) {
  for (std::string_view ok : {"", "plain", "caf\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "\xEF\xBF\xBF",
                              "\xF4\x8F\xBF\xBF", "\xED\x9F\xBF"}) {
    std::string out;
    EXPECT_FALSE(appendValidUtf8(ok, out)) << ok;
    EXPECT_EQ(out, ok);
  }
}

TEST(AppendValidUtf8, ReplacesEachMaximalSubpart) {
  const std::string r = "\xEF\xBF\xBD";
  std::string out;
  EXPECT_TRUE(appendValidUtf8("a\xFF" "b", out));
  EXPECT_EQ(out, "a" + r + "b");
  EXPECT_EQ(valid("\x80"), r);                      // a lone continuation byte
  EXPECT_EQ(valid("\xC0\xAF"), r + r);              // an overlong form: C0 is never a lead
  EXPECT_EQ(valid("\xE0\x80\x80"), r + r + r);      // overlong three bytes: E0 needs A0..BF next
  EXPECT_EQ(valid("\xED\xA0\x80"), r + r + r);      // a surrogate
  EXPECT_EQ(valid("\xF4\x90\x80\x80"), r + r + r + r);  // above U+10FFFF
  EXPECT_EQ(valid("\xE2\x82"), r);                  // cut short at the end: one replacement
  EXPECT_EQ(valid("\xE2\x82" "x"), r + "x");        // cut short inside
  EXPECT_EQ(valid("\xF0\x9F\x98" "\xF0\x9F\x98\x80"), r + "\xF0\x9F\x98\x80");
  EXPECT_EQ(valid("\xF5\xF8\xFE"), r + r + r);
}

TEST(JsonWriter, PlacesCommasInObjectsAndArrays) {
  std::string out, scratch, value;
  JsonWriter w(out, scratch, value, nullptr);
  w.beginObject();
  w.key("a");
  w.literal("1");
  w.key("b");
  w.beginArray();
  w.string("x");
  w.literal("true");
  w.beginObject();
  w.endObject();
  w.endArray();
  w.key("c");
  w.beginObject();
  w.key("d");
  w.literal("null");
  w.endObject();
  w.escapedMember("\"e\":\"f\"");
  w.escapedKey("\"g\":");
  w.string("h");
  w.endObject();
  EXPECT_EQ(out, R"({"a":1,"b":["x",true,{}],"c":{"d":null},"e":"f","g":"h"})");
  EXPECT_FALSE(w.replacedInvalidUtf8());
}

TEST(JsonWriter, EscapesNamesAndStringsAndMakesThemUtf8) {
  std::string out, scratch, value;
  JsonWriter w(out, scratch, value, nullptr);
  w.beginObject();
  w.key("q\"\\\n");
  w.string("tab\there \x01 \xFF");
  w.endObject();
  EXPECT_EQ(out, "{\"q\\\"\\\\\\n\":\"tab\\there \\u0001 \xEF\xBF\xBD\"}");
  EXPECT_TRUE(w.replacedInvalidUtf8());
}

TEST(JsonWriter, KeepsUtf8AndWritesPlainStringsAsGiven) {
  std::string out, scratch, value;
  JsonWriter w(out, scratch, value, nullptr);
  w.beginArray();
  w.string("caf\xC3\xA9 \xF0\x9F\x98\x80 and a longer ASCII tail");  // valid UTF-8 past the ASCII check
  w.string("all ascii, more than eight bytes");
  w.plainString("2026-05-01T12:34:56.789Z");
  w.endArray();
  EXPECT_EQ(out, "[\"caf\xC3\xA9 \xF0\x9F\x98\x80 and a longer ASCII tail\",\"all ascii, more than eight bytes\","
                 "\"2026-05-01T12:34:56.789Z\"]");
  EXPECT_FALSE(w.replacedInvalidUtf8());
  // Invalid bytes after eight ASCII ones are still found.
  w.string("12345678\xFF");
  EXPECT_TRUE(w.replacedInvalidUtf8());
}

TEST(JsonWriter, ContinuesAnObjectTheCallerOpened) {
  std::string out = R"({"a":1)";
  std::string scratch, value;
  JsonWriter w(out, scratch, value, nullptr);
  w.continueObject(true);
  w.key("b");
  w.literal("2");
  w.endObject();
  EXPECT_EQ(out, R"({"a":1,"b":2})");

  std::string empty = "{";
  JsonWriter e(empty, scratch, value, nullptr);
  e.continueObject(false);
  e.key("b");
  e.literal("2");
  e.endObject();
  EXPECT_EQ(empty, R"({"b":2})");
}

TEST(JsonWriter, HidesTheAddedFieldsNamesAtTheTopOnly) {
  testing::ManualClock clock;
  Enrichment added({{.name = "host", .kind = AddedField::Kind::kText, .text = "h1"},
                    {.name = "source", .kind = AddedField::Kind::kSource, .text = {}}},
                   clock, 1);
  RecordOrigin origin;  // no source: `source` hides nothing
  added.begin("line", origin);
  std::string out, scratch, value;
  JsonWriter w(out, scratch, value, &added);
  w.beginObject();
  EXPECT_FALSE(w.key("host"));
  EXPECT_TRUE(w.key("source"));
  w.string("s");
  EXPECT_TRUE(w.key("inner"));
  w.beginObject();
  EXPECT_TRUE(w.key("host"));  // nested: not the added field's name
  w.string("n");
  w.endObject();
  w.endObject();
  EXPECT_EQ(out, R"({"source":"s","inner":{"host":"n"}})");
}

TEST(MarkRepeats, TheFirstOfEachKeyWins) {
  std::vector<uint32_t> order;
  std::vector<uint8_t> repeated;
  for (size_t n : {size_t{5}, size_t{40}}) {  // the pairwise and the sorting paths
    std::vector<std::string> keys;
    for (size_t i = 0; i < n; ++i) keys.push_back("k" + std::to_string(i % 3 == 2 ? 0 : i));
    markRepeats(keys.size(), [&](size_t i) { return std::string_view(keys[i]); }, order, repeated);
    ASSERT_EQ(repeated.size(), n);
    for (size_t i = 0; i < n; ++i) {
      bool earlier = false;
      for (size_t j = 0; j < i; ++j) earlier = earlier || keys[j] == keys[i];
      EXPECT_EQ(repeated[i] != 0, earlier) << "n " << n << " i " << i;
    }
  }
}

}  // namespace
}  // namespace kinship::pipeline
