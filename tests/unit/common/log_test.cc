// Log lines carry strings from outside (partition keys, endpoint answers):
// they must not forge lines or reach the terminal as escape sequences.

#include "common/log.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace kinship::log {
namespace {

// Writes one warning and returns what reached stderr.
std::string written(Format format, std::string_view message) {
  configure(Level::kDebug, format);
  testing::internal::CaptureStderr();
  write(Level::kWarn, "kinesis", message);
  std::string out = testing::internal::GetCapturedStderr();
  configure(Level::kInfo, Format::kText);
  return out;
}

size_t lines(const std::string& text) { return static_cast<size_t>(std::count(text.begin(), text.end(), '\n')); }

TEST(LogText, NewlinesInAMessageCannotForgeALine) {
  std::string out = written(Format::kText, "key abc\n2026-12-07T00:00:00.000Z error kinesis: forged\r\n");
  EXPECT_EQ(lines(out), 1u) << out;
  EXPECT_NE(out.find("key abc\\n2026-12-07T00:00:00.000Z error kinesis: forged\\r\\n"), std::string::npos) << out;
}

TEST(LogText, TerminalEscapesAreWrittenAsText) {
  std::string out = written(Format::kText, std::string("body \x1b[2J\x1b]0;owned\x07 \x7f end"));
  EXPECT_EQ(out.find('\x1b'), std::string::npos) << out;
  EXPECT_EQ(out.find('\x07'), std::string::npos) << out;
  EXPECT_EQ(out.find('\x7f'), std::string::npos) << out;
  EXPECT_NE(out.find("body \\x1b[2J\\x1b]0;owned\\x07 \\x7f end"), std::string::npos) << out;
}

TEST(LogText, C1ControlsAreEscapedAndOtherUtf8IsKept) {
  // U+009B is CSI for terminals that obey C1 controls; é and 😀 are text.
  std::string out = written(Format::kText, "a\xc2\x9b" "31m é 😀");
  EXPECT_EQ(out.find("\xc2\x9b"), std::string::npos) << out;
  EXPECT_NE(out.find("a\\u009b31m é 😀"), std::string::npos) << out;
}

TEST(LogText, NulAndTabAreEscaped) {
  std::string out = written(Format::kText, std::string_view("a\0b\tc", 5));
  EXPECT_NE(out.find("a\\x00b\\tc"), std::string::npos) << out;
}

TEST(LogJson, ControlCharactersAreJsonEscapes) {
  std::string out = written(Format::kJson, "x\ny\x1bz");
  EXPECT_EQ(lines(out), 1u) << out;
  EXPECT_NE(out.find(R"("message":"x\ny\u001bz")"), std::string::npos) << out;
}

TEST(LogJson, DelAndC1ControlsAreJsonEscapesAndOtherUtf8IsKept) {
  // A JSON log line is read in a terminal too: U+009B is CSI there.
  std::string out = written(Format::kJson, "a\xc2\x9b" "31m\x7f é 😀");
  EXPECT_EQ(out.find("\xc2\x9b"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("message":"a\u009b31m\u007f é 😀")"), std::string::npos) << out;
}

}  // namespace
}  // namespace kinship::log
