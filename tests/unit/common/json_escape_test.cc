// The one JSON string escaper: what JSON requires for the Kinesis encoder,
// and the terminal-safe variant for log lines.

#include "common/json_escape.h"

#include <gtest/gtest.h>

#include <string>

namespace kinship {
namespace {

std::string escaped(std::string_view text, JsonEscaping escaping = JsonEscaping::kRequired) {
  std::string out;
  appendJsonEscaped(out, text, escaping);
  return out;
}

constexpr JsonEscaping kBothModes[] = {JsonEscaping::kRequired, JsonEscaping::kTerminalSafe};

TEST(JsonEscape, QuotesBackslashesAndShortEscapesInBothModes) {
  for (JsonEscaping mode : kBothModes) {
    EXPECT_EQ(escaped("", mode), "");
    EXPECT_EQ(escaped("plain text", mode), "plain text");
    EXPECT_EQ(escaped("a\"b\\c", mode), "a\\\"b\\\\c");
    EXPECT_EQ(escaped("a\nb\rc\td", mode), "a\\nb\\rc\\td");
    EXPECT_EQ(escaped("\"\"\"", mode), "\\\"\\\"\\\"");
    EXPECT_EQ(escaped("/", mode), "/");  // JSON allows it unescaped
  }
}

TEST(JsonEscape, OtherC0ControlsAreLowercaseUnicodeEscapesInBothModes) {
  for (JsonEscaping mode : kBothModes) {
    EXPECT_EQ(escaped(std::string_view("\0", 1), mode), "\\u0000");
    EXPECT_EQ(escaped("\x08\x0c\x1b\x1f", mode), "\\u0008\\u000c\\u001b\\u001f");
  }
}

TEST(JsonEscape, RequiredKeepsDelAndC1ControlsAsTheyAre) {
  // Valid JSON either way; the Kinesis body stays as short as it can.
  EXPECT_EQ(escaped(" \x7f"), " \x7f");
  EXPECT_EQ(escaped("a\xc2\x9b" "31m"), "a\xc2\x9b" "31m");
}

TEST(JsonEscape, TerminalSafeEscapesDelAndEveryC1Control) {
  EXPECT_EQ(escaped(" \x7f", JsonEscaping::kTerminalSafe), " \\u007f");
  EXPECT_EQ(escaped("a\xc2\x80" "b", JsonEscaping::kTerminalSafe), "a\\u0080b");
  EXPECT_EQ(escaped("a\xc2\x9b" "31m", JsonEscaping::kTerminalSafe), "a\\u009b31m");
  EXPECT_EQ(escaped("\xc2\x9f", JsonEscaping::kTerminalSafe), "\\u009f");
}

TEST(JsonEscape, TerminalSafeKeepsOtherUtf8) {
  // U+00A0 and U+00A9 share the C1 controls' lead byte C2 but are text.
  EXPECT_EQ(escaped("\xc2\xa0\xc2\xa9 é日😀", JsonEscaping::kTerminalSafe), "\xc2\xa0\xc2\xa9 é日😀");
  // A lead byte C2 at the end, without a second byte, is copied as it is.
  EXPECT_EQ(escaped("a\xc2", JsonEscaping::kTerminalSafe), "a\xc2");
}

TEST(JsonEscape, BytesThatAreNotUtf8AreCopied) {
  for (JsonEscaping mode : kBothModes) {
    EXPECT_EQ(escaped("\xff\x80", mode), "\xff\x80");
  }
}

TEST(JsonEscape, EscapesAtTheStartAndEndOfARun) {
  for (JsonEscaping mode : kBothModes) {
    EXPECT_EQ(escaped("\"start", mode), "\\\"start");
    EXPECT_EQ(escaped("end\"", mode), "end\\\"");
  }
  EXPECT_EQ(escaped("\xc2\x85x\xc2\x85", JsonEscaping::kTerminalSafe), "\\u0085x\\u0085");
}

TEST(JsonEscape, AppendsToWhatIsThere) {
  std::string out = "prefix:";
  appendJsonEscaped(out, "a\"b");
  EXPECT_EQ(out, "prefix:a\\\"b");
}

}  // namespace
}  // namespace kinship
