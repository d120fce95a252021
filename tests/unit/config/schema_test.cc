#include "config/schema.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <map>
#include <stdexcept>
#include <string>

namespace kinship::config {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

constexpr int64_t kMiB = 1024 * 1024;

EnvLookup fakeEnv(std::map<std::string, std::string, std::less<>> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

const EnvLookup kNoEnv = fakeEnv({});

// Shaped like a sink's table: one option of every type, with and without
// defaults and bounds.
constexpr Option kOptions[] = {
    {.name = "stream", .type = ValueType::kString, .required = true, .help = "Stream name."},
    {.name = "region", .type = ValueType::kString},
    {.name = "enabled", .type = ValueType::kBool, .defaultValue = "true"},
    {.name = "verbose", .type = ValueType::kBool},
    {.name = "max_batch_records", .type = ValueType::kInt, .defaultValue = "500", .minValue = 1, .maxValue = 500},
    {.name = "offset", .type = ValueType::kInt},
    {.name = "linger", .type = ValueType::kDuration, .defaultValue = "200ms", .minValue = 1, .maxValue = 60'000},
    {.name = "timeout", .type = ValueType::kDuration},
    {.name = "buffer", .type = ValueType::kSize, .defaultValue = "1MiB", .minValue = 64 * 1024, .maxValue = kMiB * 1024},
    {.name = "limit", .type = ValueType::kSize},
    {.name = "start_at", .type = ValueType::kEnum, .defaultValue = "end", .choices = "beginning|end"},
    {.name = "paths", .type = ValueType::kStringList},
    {.name = "labels", .type = ValueType::kStringMap},
    {.name = "tls", .type = ValueType::kSection},
};

Section check(const std::string& yaml, const EnvLookup& env = kNoEnv, std::span<const std::string_view> ignore = {}) {
  return Section::validate(YAML::Load(yaml), kOptions, "t.yaml", "sink", env, ignore);
}

// The full ConfigError message, or a marker that makes a mismatch obvious.
std::string errorOf(const std::string& yaml, const EnvLookup& env = kNoEnv) {
  try {
    check(yaml, env);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "<no error>";
}

// ---------------------------------------------------------------- parsers

TEST(ParseDurationTest, AcceptsEveryUnit) {
  EXPECT_EQ(parseDuration("200ms"), 200ms);
  EXPECT_EQ(parseDuration("1s"), 1000ms);
  EXPECT_EQ(parseDuration("90s"), 90'000ms);
  EXPECT_EQ(parseDuration("5m"), 300'000ms);
  EXPECT_EQ(parseDuration("1h"), 3'600'000ms);
  EXPECT_EQ(parseDuration("1d"), 86'400'000ms);
  EXPECT_EQ(parseDuration("007s"), 7000ms);
}

TEST(ParseDurationTest, ZeroNeedsNoUnit) {
  EXPECT_EQ(parseDuration("0"), 0ms);
  EXPECT_EQ(parseDuration("0s"), 0ms);
  EXPECT_EQ(parseDuration("0ms"), 0ms);
}

TEST(ParseDurationTest, RejectsBadSyntax) {
  for (const char* bad : {"", "5", "5 sec", "5 s", " 5s", "5s ", "1.5s", "-1s", "+1s", "s", "ms", "1S", "1MS",
                          "1sec", "1y", "1w", "1ms1s", "0x10s", "1e3ms"}) {
    EXPECT_EQ(parseDuration(bad), std::nullopt) << "'" << bad << "'";
  }
}

TEST(ParseDurationTest, RejectsOverflow) {
  EXPECT_EQ(parseDuration("9223372036854775807ms"), std::nullopt);
  EXPECT_EQ(parseDuration("9223372036854775808ms"), std::nullopt);
  EXPECT_EQ(parseDuration("999999999999999999999ms"), std::nullopt);
  EXPECT_EQ(parseDuration("106751991167301d"), std::nullopt);
}

// 106751991167d fits in int64 milliseconds but not in the nanoseconds of a
// clock: the spool's fsync interval wrapped around to negative and fsynced
// on every append. Every duration stays far enough below that a clock can
// add it to its now.
TEST(ParseDurationTest, RejectsWhatAClockCannotHold) {
  EXPECT_EQ(parseDuration("106751991167d"), std::nullopt);
  EXPECT_EQ(parseDuration("106752d"), std::nullopt);
  EXPECT_EQ(parseDuration("36501d"), std::nullopt);
  EXPECT_EQ(parseDuration("36500d"), std::chrono::milliseconds(kMaxDuration));
  EXPECT_EQ(parseDuration("876000h"), std::chrono::milliseconds(kMaxDuration));
  EXPECT_EQ(parseDuration(fmt::format("{}ms", kMaxDuration + 1)), std::nullopt);
  auto longest = std::chrono::steady_clock::now() + *parseDuration("36500d");
  EXPECT_GT(longest, std::chrono::steady_clock::now());
}

TEST(ParseDurationTest, TooLongHasItsOwnMessage) {
  EXPECT_EQ(errorOf("stream: s\ntimeout: 106751991167d\n"),
            "t.yaml:2:10: sink.timeout: duration '106751991167d' is too long: at most 36500d");
  EXPECT_EQ(errorOf("stream: s\nlimit: 17179869184GiB\n"), "t.yaml:2:8: sink.limit: size '17179869184GiB' is too large");
}

TEST(ParseSizeTest, AcceptsEveryUnit) {
  EXPECT_EQ(parseSize("0"), 0u);
  EXPECT_EQ(parseSize("512"), 512u);
  EXPECT_EQ(parseSize("512B"), 512u);
  EXPECT_EQ(parseSize("1KB"), 1000u);
  EXPECT_EQ(parseSize("10MB"), 10'000'000u);
  EXPECT_EQ(parseSize("2GB"), 2'000'000'000u);
  EXPECT_EQ(parseSize("64KiB"), 65'536u);
  EXPECT_EQ(parseSize("8MiB"), 8u * 1024 * 1024);
  EXPECT_EQ(parseSize("1GiB"), 1024u * 1024 * 1024);
}

TEST(ParseSizeTest, RejectsBadSyntax) {
  for (const char* bad : {"", "KiB", "B", "1.5MiB", "1 KiB", "-1", "+1", "1kib", "1kb", "1Kb", "1TB", "1TiB",
                          "1KIB", "1iB", "1 ", " 1", "1KiBs"}) {
    EXPECT_EQ(parseSize(bad), std::nullopt) << "'" << bad << "'";
  }
}

TEST(ParseSizeTest, RejectsOverflow) {
  EXPECT_EQ(parseSize("18446744073709551615"), UINT64_MAX);
  EXPECT_EQ(parseSize("18446744073709551616"), std::nullopt);
  EXPECT_EQ(parseSize("17179869184GiB"), std::nullopt);  // 2^34 GiB = 2^64 bytes
  EXPECT_EQ(parseSize("17179869183GiB"), 17179869183u << 30);
}

TEST(FormatTest, DurationsUseTheLargestExactUnit) {
  EXPECT_EQ(formatDuration(0ms), "0");
  EXPECT_EQ(formatDuration(1ms), "1ms");
  EXPECT_EQ(formatDuration(1500ms), "1500ms");
  EXPECT_EQ(formatDuration(2000ms), "2s");
  EXPECT_EQ(formatDuration(60'000ms), "1m");
  EXPECT_EQ(formatDuration(600'000ms), "10m");
  EXPECT_EQ(formatDuration(7'200'000ms), "2h");
  EXPECT_EQ(formatDuration(86'400'000ms), "1d");
}

TEST(FormatTest, SizesUseTheLargestExactUnit) {
  EXPECT_EQ(formatSize(0), "0");
  EXPECT_EQ(formatSize(512), "512B");
  EXPECT_EQ(formatSize(1000), "1KB");
  EXPECT_EQ(formatSize(65'536), "64KiB");
  EXPECT_EQ(formatSize(8 * kMiB), "8MiB");
  EXPECT_EQ(formatSize(10'000'000), "10MB");
  EXPECT_EQ(formatSize(1024 * kMiB), "1GiB");
  EXPECT_EQ(formatSize(1025), "1025B");
}

TEST(FormatTest, RoundTripsThroughTheParsers) {
  for (uint64_t bytes : {0ull, 1ull, 999ull, 1000ull, 1024ull, 65536ull, 3000000ull, 5ull << 30}) {
    EXPECT_EQ(parseSize(formatSize(bytes)), bytes) << formatSize(bytes);
  }
  for (int64_t ms : {0, 1, 999, 1000, 61'000, 3'600'000, 90'000'000}) {
    EXPECT_EQ(parseDuration(formatDuration(std::chrono::milliseconds(ms))), std::chrono::milliseconds(ms));
  }
}

// ------------------------------------------------------------ substituteEnv

TEST(SubstituteEnvTest, TextWithoutDollarIsUnchanged) {
  EXPECT_EQ(substituteEnv("", kNoEnv), "");
  EXPECT_EQ(substituteEnv("plain {text}", kNoEnv), "plain {text}");
}

TEST(SubstituteEnvTest, ExpandsSetVariables) {
  auto env = fakeEnv({{"POD_NAME", "web-1"}, {"NS", "prod"}});
  EXPECT_EQ(substituteEnv("${POD_NAME}", env), "web-1");
  EXPECT_EQ(substituteEnv("pod=${POD_NAME}.", env), "pod=web-1.");
  EXPECT_EQ(substituteEnv("${NS}/${POD_NAME}", env), "prod/web-1");
  EXPECT_EQ(substituteEnv("${POD_NAME:-x}", env), "web-1");
}

TEST(SubstituteEnvTest, UsesTheDefaultWhenUnset) {
  EXPECT_EQ(substituteEnv("${POD_NAME:-x}", kNoEnv), "x");
  EXPECT_EQ(substituteEnv("${POD_NAME:-}", kNoEnv), "");
  EXPECT_EQ(substituteEnv("a-${POD_NAME:-some default}-b", kNoEnv), "a-some default-b");
  EXPECT_EQ(substituteEnv("${P:-a:-b}", kNoEnv), "a:-b");
}

TEST(SubstituteEnvTest, EmptyButSetFollowsTheShell) {
  auto env = fakeEnv({{"EMPTY", ""}});
  EXPECT_EQ(substituteEnv("[${EMPTY}]", env), "[]");
  EXPECT_EQ(substituteEnv("[${EMPTY:-d}]", env), "[d]");
}

TEST(SubstituteEnvTest, UnsetWithoutDefaultNamesTheVariable) {
  auto result = substituteEnv("pod-${POD_NAME}", kNoEnv);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error(),
            "environment variable 'POD_NAME' is not set (use ${POD_NAME:-default} to give a default)");
}

TEST(SubstituteEnvTest, ReportsTheFirstUnsetVariable) {
  auto result = substituteEnv("${A}${B}", fakeEnv({{"B", "b"}}));
  ASSERT_FALSE(result.has_value());
  EXPECT_THAT(result.error(), HasSubstr("'A'"));
  result = substituteEnv("${A}${B}", fakeEnv({{"A", "a"}}));
  ASSERT_FALSE(result.has_value());
  EXPECT_THAT(result.error(), HasSubstr("'B'"));
}

TEST(SubstituteEnvTest, DoubleDollarIsALiteralDollar) {
  auto env = fakeEnv({{"X", "x"}});
  EXPECT_EQ(substituteEnv("$$", env), "$");
  EXPECT_EQ(substituteEnv("$${X}", env), "${X}");
  EXPECT_EQ(substituteEnv("$$$${X}", env), "$${X}");
  EXPECT_EQ(substituteEnv("$$${X}", env), "$x");
  EXPECT_EQ(substituteEnv("price: 5$$", env), "price: 5$");
}

TEST(SubstituteEnvTest, LoneDollarIsLiteral) {
  auto env = fakeEnv({{"X", "x"}});
  EXPECT_EQ(substituteEnv("$", env), "$");
  EXPECT_EQ(substituteEnv("5$", env), "5$");
  EXPECT_EQ(substituteEnv("$X", env), "$X");
  EXPECT_EQ(substituteEnv("$ {X}", env), "$ {X}");
  EXPECT_EQ(substituteEnv("a$b$", env), "a$b$");
}

TEST(SubstituteEnvTest, ValuesAreNotExpandedAgain) {
  auto env = fakeEnv({{"X", "${Y}"}, {"Y", "y"}});
  EXPECT_EQ(substituteEnv("${X}", env), "${Y}");
}

TEST(SubstituteEnvTest, DefaultsMayHoldBracesAndNestedReferences) {
  auto env = fakeEnv({{"B", "b"}});
  EXPECT_EQ(substituteEnv("${PK:-{service}-{host}}", env), "{service}-{host}");
  EXPECT_EQ(substituteEnv("${A:-${B}}", env), "b");
  EXPECT_EQ(substituteEnv("${A:-${C:-c}}!", env), "c!");
  EXPECT_EQ(substituteEnv("${A:-$$}", env), "$");
  auto nestedUnset = substituteEnv("${A:-${C}}", env);
  ASSERT_FALSE(nestedUnset.has_value());
  EXPECT_THAT(nestedUnset.error(), HasSubstr("'C' is not set"));
}

TEST(SubstituteEnvTest, UnterminatedReferenceIsAnError) {
  for (const char* bad : {"${X", "${", "a ${X:-d", "${X:-{d}"}) {
    auto result = substituteEnv(bad, kNoEnv);
    ASSERT_FALSE(result.has_value()) << bad;
    EXPECT_EQ(result.error(), fmt::format("unterminated '${{' in '{}' (write $$ for a literal $)", bad));
  }
}

TEST(SubstituteEnvTest, MalformedReferencesAreErrors) {
  for (const char* bad : {"${}", "${1X}", "${X-d}", "${X:=d}", "${X Y}", "${:-d}", "${-X}"}) {
    auto result = substituteEnv(bad, fakeEnv({{"X", "x"}}));
    ASSERT_FALSE(result.has_value()) << bad;
    EXPECT_THAT(result.error(), HasSubstr("invalid variable reference")) << bad;
  }
  EXPECT_EQ(substituteEnv("${X-d}", kNoEnv).error(),
            "invalid variable reference '${X-d}': use ${NAME} or ${NAME:-default} (write $$ for a literal $)");
}

std::string nestedDefaults(size_t levels, std::string_view innermost = "x") {
  std::string text;
  for (size_t i = 0; i < levels; ++i) text += "${A:-";
  text += innermost;
  text.append(levels, '}');
  return text;
}

TEST(SubstituteEnvTest, NestsUpToTheLimit) {
  EXPECT_EQ(substituteEnv(nestedDefaults(kMaxEnvNesting), kNoEnv), "x");
  EXPECT_EQ(substituteEnv(nestedDefaults(kMaxEnvNesting), fakeEnv({{"A", "a"}})), "a");
  // Plain braces inside a default do not count as references.
  EXPECT_EQ(substituteEnv(nestedDefaults(kMaxEnvNesting, "{{{{{{{{{{{{{{{{{{x}}}}}}}}}}}}}}}}}}"), kNoEnv),
            "{{{{{{{{{{{{{{{{{{x}}}}}}}}}}}}}}}}}}");
  // Nor do escaped ones.
  EXPECT_EQ(substituteEnv(nestedDefaults(kMaxEnvNesting, "$${B}"), kNoEnv), "${B}");
}

// 30,000 levels overflowed the stack (one recursion per level); 200,000 ran
// out of memory (one copy of the rest per level).
TEST(SubstituteEnvTest, RefusesDeeperNesting) {
  for (size_t levels : {size_t{kMaxEnvNesting + 1}, size_t{30'000}, size_t{200'000}}) {
    auto result = substituteEnv(nestedDefaults(levels), kNoEnv);
    ASSERT_FALSE(result.has_value()) << levels;
    EXPECT_THAT(result.error(), HasSubstr("more than 16 levels deep")) << levels;
    // The message quotes the start only.
    EXPECT_LT(result.error().size(), 200u) << levels;
  }
  // Also in a default that is not used: whether a file is valid does not
  // depend on the environment.
  EXPECT_FALSE(substituteEnv(nestedDefaults(kMaxEnvNesting + 1), fakeEnv({{"A", "a"}})).has_value());
  // Siblings do not add up.
  std::string siblings;
  for (int i = 0; i < 1000; ++i) siblings += nestedDefaults(kMaxEnvNesting);
  EXPECT_EQ(substituteEnv(siblings, kNoEnv), std::string(1000, 'x'));
}

TEST(SubstituteEnvTest, ErrorsQuoteLongTextShortened) {
  std::string longName(100'000, 'N');
  for (const std::string& bad : {"${" + longName, "${" + longName + "}", "${" + longName + "-x}"}) {
    auto result = substituteEnv(bad, kNoEnv);
    ASSERT_FALSE(result.has_value());
    EXPECT_LT(result.error().size(), 300u);
    EXPECT_THAT(result.error(), HasSubstr("NNN..."));
  }
}

TEST(SectionTest, NulCharactersAreRefused) {
  // YAML's "\0" escape; the value would be cut at it by every C API.
  EXPECT_EQ(errorOf("stream: \"logs\\0x\"\n"),
            "t.yaml:1:9: sink.stream: contains a NUL character (\\0), which no value may hold");
  EXPECT_THAT(errorOf("stream: s\npaths: [\"/a\\0\"]\n"), HasSubstr("sink.paths[0]: contains a NUL"));
  EXPECT_THAT(errorOf("stream: s\nlabels: {a: \"\\0\"}\n"), HasSubstr("sink.labels.a: contains a NUL"));
  EXPECT_THAT(errorOf("stream: s\nlabels: {\"a\\0\": b}\n"), HasSubstr("sink.labels: contains a NUL"));
}

TEST(SectionTest, NonEmptyStringsRefuseEmpty) {
  static constexpr Option kPathOptions[] = {
      {.name = "dir", .type = ValueType::kString, .nonEmpty = true},
      {.name = "note", .type = ValueType::kString},
  };
  auto errorIn = [](const std::string& yaml) -> std::string {
    try {
      Section::validate(YAML::Load(yaml), kPathOptions, "t.yaml", "spool", kNoEnv);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "<no error>";
  };
  EXPECT_EQ(errorIn("dir: \"\"\n"), "t.yaml:1:6: spool.dir: must not be empty");
  EXPECT_EQ(errorIn("dir: ${D:-}\n"), "t.yaml:1:6: spool.dir: must not be empty");
  EXPECT_EQ(errorIn("dir: /d\nnote: \"\"\n"), "<no error>");
  EXPECT_EQ(errorIn("note: x\n"), "<no error>");  // absent is not empty
}

TEST(SubstituteEnvTest, ProcessEnvironmentReadsTheRealEnvironment) {
  ::setenv("KINSHIP_CONFIG_TEST_VAR", "from-process", 1);
  ::unsetenv("KINSHIP_CONFIG_TEST_UNSET");
  auto env = processEnvironment();
  EXPECT_EQ(env("KINSHIP_CONFIG_TEST_VAR"), "from-process");
  EXPECT_EQ(env("KINSHIP_CONFIG_TEST_UNSET"), std::nullopt);
  EXPECT_EQ(substituteEnv("${KINSHIP_CONFIG_TEST_VAR}", env), "from-process");
}

// --------------------------------------------------------------- helpers

TEST(LocationTest, FormatsWhatIsKnown) {
  EXPECT_EQ((Location{"a.yaml", 3, 7}).str(), "a.yaml:3:7");
  EXPECT_EQ((Location{"a.yaml", 3, 0}).str(), "a.yaml:3");
  EXPECT_EQ((Location{"a.yaml", 0, 0}).str(), "a.yaml");
}

TEST(ConfigErrorTest, MessageIsFileLineColumnPathText) {
  EXPECT_STREQ(ConfigError(Location{"/etc/kinship.yaml", 7, 20}, "pipelines.app.inputs[0].start_at", "bad").what(),
               "/etc/kinship.yaml:7:20: pipelines.app.inputs[0].start_at: bad");
  EXPECT_STREQ(ConfigError(Location{"/etc/kinship.yaml", 0, 0}, "", "cannot read: x").what(),
               "/etc/kinship.yaml: cannot read: x");
  EXPECT_STREQ(ConfigError(Location{"f", 1, 1}, "", "oops").what(), "f:1:1: oops");
}

TEST(ClosestMatchTest, SuggestsWithinTwoEdits) {
  std::vector<std::string_view> names = {"stream", "region", "endpoint"};
  EXPECT_EQ(closestMatch("strem", names), "stream");      // deletion
  EXPECT_EQ(closestMatch("streams", names), "stream");    // insertion
  EXPECT_EQ(closestMatch("strema", names), "stream");     // transposition
  EXPECT_EQ(closestMatch("regoin", names), "region");
  EXPECT_EQ(closestMatch("endpont", names), "endpoint");
  EXPECT_EQ(closestMatch("Stream", names), "stream");     // case
  EXPECT_EQ(closestMatch("stxxxm", names), std::nullopt);  // three edits
  EXPECT_EQ(closestMatch("paths", names), std::nullopt);
  EXPECT_EQ(closestMatch("x", std::vector<std::string_view>{"id"}), std::nullopt);
  EXPECT_EQ(closestMatch("", names), std::nullopt);
  EXPECT_EQ(closestMatch("file", std::vector<std::string_view>{}), std::nullopt);
}

TEST(ClosestMatchTest, PrefersTheNearest) {
  std::vector<std::string_view> names = {"lingers", "linger"};
  EXPECT_EQ(closestMatch("linge", names), "linger");
}

TEST(DescribeNodeTest, NamesTheKind) {
  EXPECT_EQ(describeNode(YAML::Load("[a]")), "a list");
  EXPECT_EQ(describeNode(YAML::Load("{a: b}")), "a map");
  EXPECT_EQ(describeNode(YAML::Load("~")), "an empty value");
  EXPECT_EQ(describeNode(YAML::Load("x")), "a string ('x')");
}

// ------------------------------------------------------ Section: values

TEST(SectionTest, ReadsEveryType) {
  Section s = check(R"(
stream: demo
region: us-east-1
enabled: false
verbose: true
max_batch_records: 250
offset: -12
linger: 1s
timeout: 2h
buffer: 64KiB
limit: 10MB
start_at: beginning
paths: ["/var/log/*.log", /tmp/x.log]
labels: {team: core, "env": prod}
tls: {ca: /etc/ca.pem}
)");
  EXPECT_EQ(s.getString("stream"), "demo");
  EXPECT_EQ(s.getString("region"), "us-east-1");
  EXPECT_FALSE(s.getBool("enabled"));
  EXPECT_TRUE(s.getBool("verbose"));
  EXPECT_EQ(s.getInt("max_batch_records"), 250);
  EXPECT_EQ(s.getInt("offset"), -12);
  EXPECT_EQ(s.getDuration("linger"), 1000ms);
  EXPECT_EQ(s.getDuration("timeout"), 7'200'000ms);
  EXPECT_EQ(s.getSize("buffer"), 65'536u);
  EXPECT_EQ(s.getSize("limit"), 10'000'000u);
  EXPECT_EQ(s.getString("start_at"), "beginning");
  EXPECT_EQ(s.getStringList("paths"), (std::vector<std::string>{"/var/log/*.log", "/tmp/x.log"}));
  EXPECT_EQ(s.getStringMap("labels"),
            (std::vector<std::pair<std::string, std::string>>{{"team", "core"}, {"env", "prod"}}));
  const YAML::Node& tls = s.getNode("tls");
  ASSERT_TRUE(tls.IsMap());
  EXPECT_EQ(tls["ca"].as<std::string>(), "/etc/ca.pem");
  for (const Option& option : kOptions) {
    EXPECT_TRUE(s.isSet(option.name)) << option.name;
    EXPECT_TRUE(s.has(option.name)) << option.name;
  }
}

TEST(SectionTest, DefaultsBehaveAsIfWritten) {
  Section s = check("stream: demo\n");
  EXPECT_TRUE(s.has("enabled"));
  EXPECT_FALSE(s.isSet("enabled"));
  EXPECT_TRUE(s.getBool("enabled"));
  EXPECT_EQ(s.getInt("max_batch_records"), 500);
  EXPECT_EQ(s.getDuration("linger"), 200ms);
  EXPECT_EQ(s.getSize("buffer"), static_cast<uint64_t>(kMiB));
  EXPECT_EQ(s.getString("start_at"), "end");
}

TEST(SectionTest, OptionsWithoutDefaultAreAbsentUnlessSet) {
  Section s = check("stream: demo\n");
  for (std::string_view name : {"region", "verbose", "offset", "timeout", "limit", "paths", "labels", "tls"}) {
    EXPECT_FALSE(s.has(name)) << name;
    EXPECT_FALSE(s.isSet(name)) << name;
  }
  EXPECT_THROW(s.getString("region"), std::logic_error);
  EXPECT_THROW(s.getStringList("paths"), std::logic_error);
  EXPECT_THROW(s.getNode("tls"), std::logic_error);
}

TEST(SectionTest, GettersRejectProgrammingErrors) {
  Section s = check("stream: demo\n");
  EXPECT_THROW(s.getString("no_such_option"), std::logic_error);
  EXPECT_THROW(s.has("no_such_option"), std::logic_error);
  EXPECT_THROW(s.getInt("stream"), std::logic_error);
  EXPECT_THROW(s.getBool("linger"), std::logic_error);
  EXPECT_THROW(s.getDuration("buffer"), std::logic_error);
  EXPECT_NO_THROW(s.getString("start_at"));  // an enum reads as a string
}

TEST(SectionTest, EmptyMapFromCodeGetsDefaults) {
  constexpr Option kOnlyDefaults[] = {{.name = "listen", .defaultValue = "127.0.0.1:9464"}};
  Section s = Section::validate(YAML::Node(YAML::NodeType::Map), kOnlyDefaults, "t.yaml", "admin", kNoEnv);
  EXPECT_EQ(s.getString("listen"), "127.0.0.1:9464");
  EXPECT_EQ(s.location().str(), "t.yaml");
}

TEST(SectionTest, QuotedEmptyStringIsAValue) {
  Section s = check("stream: demo\nregion: \"\"\n");
  EXPECT_TRUE(s.isSet("region"));
  EXPECT_EQ(s.getString("region"), "");
}

TEST(SectionTest, ScalarsOfAnyStyleAreStrings) {
  Section s = check("stream: 12345\nregion: 'true'\n");
  EXPECT_EQ(s.getString("stream"), "12345");
  EXPECT_EQ(s.getString("region"), "true");
}

TEST(SectionTest, IgnoredKeysAreSkipped) {
  constexpr std::string_view kIgnore[] = {"type"};
  Section s = check("type: kinesis\nstream: demo\n", kNoEnv, kIgnore);
  EXPECT_EQ(s.getString("stream"), "demo");
  EXPECT_EQ(errorOf("type: kinesis\nstream: demo\n"), "t.yaml:1:1: sink.type: unknown option 'type'");
}

TEST(SectionTest, LocationsAndPaths) {
  Section s = check("stream: demo\nlinger: 1s\n");
  EXPECT_EQ(s.path(), "sink");
  EXPECT_EQ(s.pathOf("linger"), "sink.linger");
  EXPECT_EQ(s.location().str(), "t.yaml:1:1");
  EXPECT_EQ(s.locationOf("linger").str(), "t.yaml:2:9");
  EXPECT_EQ(s.locationOf("stream").str(), "t.yaml:1:9");
  // Not written: the section's own location.
  EXPECT_EQ(s.locationOf("buffer").str(), "t.yaml:1:1");
}

TEST(SectionTest, TopLevelPathsHaveNoPrefix) {
  Section s = Section::validate(YAML::Load("stream: demo\n"), kOptions, "t.yaml", "", kNoEnv);
  EXPECT_EQ(s.pathOf("stream"), "stream");
}

TEST(SectionTest, FailPointsAtTheOption) {
  Section s = check("stream: demo\nlinger: 1s\n");
  try {
    s.fail("linger", "must be shorter than the timeout");
    FAIL() << "fail() returned";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "t.yaml:2:9: sink.linger: must be shorter than the timeout");
  }
  try {
    s.fail("buffer", "too small for a record");
    FAIL() << "fail() returned";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "t.yaml:1:1: sink.buffer: too small for a record");
  }
}

TEST(SectionTest, FailEntryPointsAtTheMapKey) {
  Section s = check("stream: demo\nlabels:\n  team: core\n  tier: web\n");
  try {
    s.failEntry("labels", "tier", "not a tier");
    FAIL() << "failEntry() returned";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "t.yaml:4:3: sink.labels.tier: not a tier");
  }
  // A key the map does not have: the option's line.
  try {
    s.failEntry("labels", "zone", "missing");
    FAIL() << "failEntry() returned";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "t.yaml:3:3: sink.labels.zone: missing");
  }
}

TEST(SectionTest, SectionValuesAreNotSubstituted) {
  // The owner validates a section itself, and substitutes then.
  Section s = check("stream: demo\ntls: {ca: '${CA_FILE}'}\n");
  EXPECT_EQ(s.getNode("tls")["ca"].as<std::string>(), "${CA_FILE}");
}

TEST(SectionTest, EmptyListAndMapAreValues) {
  Section s = check("stream: demo\npaths: []\nlabels: {}\n");
  EXPECT_TRUE(s.getStringList("paths").empty());
  EXPECT_TRUE(s.getStringMap("labels").empty());
}

// --------------------------------------------- Section: env substitution

TEST(SectionEnvTest, EveryScalarIsSubstitutedBeforeTypeChecks) {
  auto env = fakeEnv({{"STREAM", "demo"}, {"N", "42"}, {"L", "3s"}, {"DIR", "/var/log"}, {"TEAM", "core"},
                      {"BOOL", "false"}, {"SIZE", "2MiB"}, {"POS", "beginning"}});
  Section s = check(R"(
stream: ${STREAM}
max_batch_records: ${N}
linger: ${L}
enabled: ${BOOL}
buffer: ${SIZE}
start_at: ${POS}
paths: ["${DIR}/*.log", "${MISSING:-/tmp}/x"]
labels: {team: "${TEAM}", "${N}": x}
)",
                    env);
  EXPECT_EQ(s.getString("stream"), "demo");
  EXPECT_EQ(s.getInt("max_batch_records"), 42);
  EXPECT_EQ(s.getDuration("linger"), 3000ms);
  EXPECT_FALSE(s.getBool("enabled"));
  EXPECT_EQ(s.getSize("buffer"), 2u * kMiB);
  EXPECT_EQ(s.getString("start_at"), "beginning");
  EXPECT_EQ(s.getStringList("paths"), (std::vector<std::string>{"/var/log/*.log", "/tmp/x"}));
  EXPECT_EQ(s.getStringMap("labels"),
            (std::vector<std::pair<std::string, std::string>>{{"team", "core"}, {"42", "x"}}));
}

TEST(SectionEnvTest, SubstitutedValuesAreTypeChecked) {
  EXPECT_EQ(errorOf("stream: demo\nmax_batch_records: ${N}\n", fakeEnv({{"N", "lots"}})),
            "t.yaml:2:20: sink.max_batch_records: invalid integer 'lots'");
  EXPECT_EQ(errorOf("stream: demo\nmax_batch_records: ${N:-0}\n"),
            "t.yaml:2:20: sink.max_batch_records: value 0 is out of range [1, 500]");
}

TEST(SectionEnvTest, UnsetVariableIsAnErrorAtTheValue) {
  EXPECT_EQ(errorOf("stream: demo-${POD_NAME}\n"),
            "t.yaml:1:9: sink.stream: environment variable 'POD_NAME' is not set "
            "(use ${POD_NAME:-default} to give a default)");
  EXPECT_EQ(errorOf("stream: demo\npaths: [a, '${DIR}/x']\n"),
            "t.yaml:2:12: sink.paths[1]: environment variable 'DIR' is not set "
            "(use ${DIR:-default} to give a default)");
  EXPECT_EQ(errorOf("stream: demo\nregion: ${R\n"),
            "t.yaml:2:9: sink.region: unterminated '${' in '${R' (write $$ for a literal $)");
}

// -------------------------------------------------- Section: validation

TEST(SectionValidateTest, NodeMustBeAMap) {
  EXPECT_EQ(errorOf("[a, b]"), "t.yaml:1:1: sink: expected a map, got a list");
  EXPECT_EQ(errorOf("just text"), "t.yaml:1:1: sink: expected a map, got a string ('just text')");
  EXPECT_EQ(errorOf("~"), "t.yaml:1:1: sink: expected a map, got an empty value");
}

TEST(SectionValidateTest, UnknownOptionSuggestsANearName) {
  EXPECT_EQ(errorOf("stream: demo\nstrem: x\n"),
            "t.yaml:2:1: sink.strem: unknown option 'strem' (did you mean 'stream'?)");
  EXPECT_EQ(errorOf("stream: demo\nlinger_ms: 5\n"), "t.yaml:2:1: sink.linger_ms: unknown option 'linger_ms'");
  EXPECT_EQ(errorOf("stream: demo\n  \nrgion: x\n"),
            "t.yaml:3:1: sink.rgion: unknown option 'rgion' (did you mean 'region'?)");
}

TEST(SectionValidateTest, NonScalarKeyIsAnError) {
  EXPECT_EQ(errorOf("stream: demo\n? [a]\n: 1\n"), "t.yaml:2:3: sink: expected an option name, got a list");
}

TEST(SectionValidateTest, DuplicateKeyPointsAtTheSecond) {
  EXPECT_EQ(errorOf("stream: a\nregion: r\nstream: b\n"),
            "t.yaml:3:1: sink.stream: duplicate key 'stream' (first defined at line 1)");
  // Also for keys the caller consumes.
  constexpr std::string_view kIgnore[] = {"type"};
  try {
    check("type: a\nstream: s\ntype: b\n", kNoEnv, kIgnore);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "t.yaml:3:1: sink.type: duplicate key 'type' (first defined at line 1)");
  }
}

TEST(SectionValidateTest, MissingRequiredPointsAtTheMap) {
  EXPECT_EQ(errorOf("region: r\n"), "t.yaml:1:1: sink.stream: missing required option 'stream'");
  EXPECT_EQ(errorOf("{}"), "t.yaml:1:1: sink.stream: missing required option 'stream'");
  // Nested: the map starts at its first key.
  try {
    Section::validate(YAML::Load("outer:\n  region: r\n")["outer"], kOptions, "t.yaml", "a.b", kNoEnv);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "t.yaml:2:3: a.b.stream: missing required option 'stream'");
  }
}

TEST(SectionValidateTest, StringMustBeAScalar) {
  EXPECT_EQ(errorOf("stream: [a, b]\n"), "t.yaml:1:9: sink.stream: expected a string, got a list");
  EXPECT_EQ(errorOf("stream: {a: b}\n"), "t.yaml:1:9: sink.stream: expected a string, got a map");
  // A null value's own mark is the next token; the key is the useful place.
  EXPECT_EQ(errorOf("stream:\nregion: r\n"), "t.yaml:1:1: sink.stream: expected a string, got an empty value");
}

TEST(SectionValidateTest, BoolIsStrict) {
  EXPECT_EQ(errorOf("stream: s\nenabled: yes\n"), "t.yaml:2:10: sink.enabled: invalid boolean 'yes': use true or false");
  EXPECT_EQ(errorOf("stream: s\nenabled: True\n"),
            "t.yaml:2:10: sink.enabled: invalid boolean 'True': use true or false");
  EXPECT_EQ(errorOf("stream: s\nenabled: 1\n"), "t.yaml:2:10: sink.enabled: invalid boolean '1': use true or false");
  EXPECT_EQ(errorOf("stream: s\nenabled: [true]\n"), "t.yaml:2:10: sink.enabled: expected true or false, got a list");
  for (const char* word : {"no", "on", "off", "y", "n", "TRUE", "False", "0", "''"}) {
    EXPECT_THAT(errorOf(fmt::format("stream: s\nenabled: {}\n", word)), HasSubstr("use true or false")) << word;
  }
}

TEST(SectionValidateTest, IntRejectsTrailingGarbage) {
  EXPECT_EQ(errorOf("stream: s\noffset: 12x\n"), "t.yaml:2:9: sink.offset: invalid integer '12x'");
  EXPECT_EQ(errorOf("stream: s\noffset: 1.5\n"), "t.yaml:2:9: sink.offset: invalid integer '1.5'");
  EXPECT_EQ(errorOf("stream: s\noffset: '12 '\n"), "t.yaml:2:9: sink.offset: invalid integer '12 '");
  EXPECT_EQ(errorOf("stream: s\noffset: 99999999999999999999\n"),
            "t.yaml:2:9: sink.offset: invalid integer '99999999999999999999'");
  EXPECT_EQ(errorOf("stream: s\noffset: ''\n"), "t.yaml:2:9: sink.offset: invalid integer ''");
}

TEST(SectionValidateTest, IntBounds) {
  EXPECT_EQ(errorOf("stream: s\nmax_batch_records: 0\n"),
            "t.yaml:2:20: sink.max_batch_records: value 0 is out of range [1, 500]");
  EXPECT_EQ(errorOf("stream: s\nmax_batch_records: 501\n"),
            "t.yaml:2:20: sink.max_batch_records: value 501 is out of range [1, 500]");
  EXPECT_EQ(errorOf("stream: s\nmax_batch_records: -3\n"),
            "t.yaml:2:20: sink.max_batch_records: value -3 is out of range [1, 500]");
  EXPECT_EQ(check("stream: s\nmax_batch_records: 1\n").getInt("max_batch_records"), 1);
  EXPECT_EQ(check("stream: s\nmax_batch_records: 500\n").getInt("max_batch_records"), 500);
  // No bounds (min == max): anything that parses.
  EXPECT_EQ(check("stream: s\noffset: -9223372036854775808\n").getInt("offset"), INT64_MIN);
}

TEST(SectionValidateTest, DurationSyntaxAndBounds) {
  EXPECT_EQ(errorOf("stream: s\nlinger: 5 sec\n"),
            "t.yaml:2:9: sink.linger: invalid duration '5 sec': use a number and a unit: ms, s, m, h, d");
  EXPECT_EQ(errorOf("stream: s\nlinger: 200\n"),
            "t.yaml:2:9: sink.linger: invalid duration '200': use a number and a unit: ms, s, m, h, d");
  EXPECT_EQ(errorOf("stream: s\nlinger: 0\n"), "t.yaml:2:9: sink.linger: value 0 is out of range [1ms, 1m]");
  EXPECT_EQ(errorOf("stream: s\nlinger: 61s\n"), "t.yaml:2:9: sink.linger: value 61s is out of range [1ms, 1m]");
  EXPECT_EQ(check("stream: s\nlinger: 1ms\n").getDuration("linger"), 1ms);
  EXPECT_EQ(check("stream: s\nlinger: 1m\n").getDuration("linger"), 60'000ms);
  EXPECT_EQ(check("stream: s\ntimeout: 0\n").getDuration("timeout"), 0ms);
}

TEST(SectionValidateTest, SizeSyntaxAndBounds) {
  EXPECT_EQ(errorOf("stream: s\nbuffer: 10 MB\n"),
            "t.yaml:2:9: sink.buffer: invalid size '10 MB': use a number and an optional unit: "
            "B, KB, MB, GB, KiB, MiB, GiB");
  EXPECT_EQ(errorOf("stream: s\nbuffer: 1k\n"),
            "t.yaml:2:9: sink.buffer: invalid size '1k': use a number and an optional unit: "
            "B, KB, MB, GB, KiB, MiB, GiB");
  EXPECT_EQ(errorOf("stream: s\nbuffer: 32KiB\n"),
            "t.yaml:2:9: sink.buffer: value 32KiB is out of range [64KiB, 1GiB]");
  EXPECT_EQ(errorOf("stream: s\nbuffer: 2GiB\n"), "t.yaml:2:9: sink.buffer: value 2GiB is out of range [64KiB, 1GiB]");
  EXPECT_EQ(errorOf("stream: s\nbuffer: 18446744073709551615\n"),
            "t.yaml:2:9: sink.buffer: value 18446744073709551615 is out of range [64KiB, 1GiB]");
  EXPECT_EQ(check("stream: s\nbuffer: 65536\n").getSize("buffer"), 65'536u);
  EXPECT_EQ(check("stream: s\nbuffer: 1GiB\n").getSize("buffer"), 1024u * kMiB);
}

TEST(SectionValidateTest, EnumMustBeAChoice) {
  EXPECT_EQ(errorOf("stream: s\nstart_at: middle\n"),
            "t.yaml:2:11: sink.start_at: invalid value 'middle': expected one of beginning, end");
  EXPECT_EQ(errorOf("stream: s\nstart_at: begining\n"),
            "t.yaml:2:11: sink.start_at: invalid value 'begining': expected one of beginning, end "
            "(did you mean 'beginning'?)");
  EXPECT_EQ(errorOf("stream: s\nstart_at: End\n"),
            "t.yaml:2:11: sink.start_at: invalid value 'End': expected one of beginning, end (did you mean 'end'?)");
}

TEST(SectionValidateTest, StringListMustBeASequenceOfScalars) {
  EXPECT_EQ(errorOf("stream: s\npaths: /var/log/x.log\n"),
            "t.yaml:2:8: sink.paths: expected a list of strings, got a string ('/var/log/x.log')");
  EXPECT_EQ(errorOf("stream: s\npaths: {a: b}\n"), "t.yaml:2:8: sink.paths: expected a list of strings, got a map");
  EXPECT_EQ(errorOf("stream: s\npaths:\n  - a\n  - [b]\n"), "t.yaml:4:5: sink.paths[1]: expected a string, got a list");
  EXPECT_EQ(errorOf("stream: s\npaths: [a, {b: c}]\n"), "t.yaml:2:12: sink.paths[1]: expected a string, got a map");
}

TEST(SectionValidateTest, StringMapMustMapScalarsToScalars) {
  EXPECT_EQ(errorOf("stream: s\nlabels: [a]\n"), "t.yaml:2:9: sink.labels: expected a map of strings, got a list");
  EXPECT_EQ(errorOf("stream: s\nlabels:\n  team: [a]\n"),
            "t.yaml:3:9: sink.labels.team: expected a string, got a list");
  EXPECT_EQ(errorOf("stream: s\nlabels:\n  a: 1\n  a: 2\n"),
            "t.yaml:4:3: sink.labels.a: duplicate key 'a' (first defined at line 3)");
}

TEST(SectionValidateTest, ReportsTheFirstProblemInTheFile) {
  EXPECT_EQ(errorOf("linger: bad\nbogus: 1\n"),
            "t.yaml:1:9: sink.linger: invalid duration 'bad': use a number and a unit: ms, s, m, h, d");
  EXPECT_EQ(errorOf("bogus: 1\nlinger: bad\n"), "t.yaml:1:1: sink.bogus: unknown option 'bogus'");
}

TEST(SectionValidateTest, BadDefaultIsASchemaBug) {
  constexpr Option kBroken[] = {{.name = "linger", .type = ValueType::kDuration, .defaultValue = "soon"}};
  EXPECT_THROW(Section::validate(YAML::Load("{}"), kBroken, "t.yaml", "x", kNoEnv), std::logic_error);
  constexpr Option kOutOfRange[] = {
      {.name = "n", .type = ValueType::kInt, .defaultValue = "0", .minValue = 1, .maxValue = 5}};
  EXPECT_THROW(Section::validate(YAML::Load("{}"), kOutOfRange, "t.yaml", "x", kNoEnv), std::logic_error);
}

TEST(SectionValidateTest, ListDefaultsAreYaml) {
  constexpr Option kListDefault[] = {{.name = "paths", .type = ValueType::kStringList, .defaultValue = "[a, b]"}};
  Section s = Section::validate(YAML::Load("{}"), kListDefault, "t.yaml", "x", kNoEnv);
  EXPECT_EQ(s.getStringList("paths"), (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(s.isSet("paths"));
}

// ---------------------------------------------------------------- docs

TEST(SchemaToMarkdownTest, OneRowPerOption) {
  constexpr Option kDocOptions[] = {
      {.name = "stream", .type = ValueType::kString, .required = true, .help = "Kinesis stream name."},
      {.name = "linger", .type = ValueType::kDuration, .defaultValue = "200ms", .minValue = 1, .maxValue = 60'000,
       .help = "How long to wait."},
      {.name = "buffer", .type = ValueType::kSize, .defaultValue = "8MiB", .minValue = 65'536,
       .maxValue = 1024 * kMiB, .help = "Bytes."},
      {.name = "n", .type = ValueType::kInt, .defaultValue = "500", .minValue = 1, .maxValue = 500},
      {.name = "start_at", .type = ValueType::kEnum, .defaultValue = "end", .choices = "beginning|end",
       .help = "Where | to start."},
      {.name = "on", .type = ValueType::kBool, .defaultValue = "true"},
      {.name = "paths", .type = ValueType::kStringList},
      {.name = "labels", .type = ValueType::kStringMap},
      {.name = "tls", .type = ValueType::kSection},
  };
  EXPECT_EQ(schemaToMarkdown(kDocOptions),
            "| option | type | default | range / values | description |\n"
            "|---|---|---|---|---|\n"
            "| `stream` | string | required |  | Kinesis stream name. |\n"
            "| `linger` | duration | `200ms` | [1ms, 1m] | How long to wait. |\n"
            "| `buffer` | size | `8MiB` | [64KiB, 1GiB] | Bytes. |\n"
            "| `n` | integer | `500` | [1, 500] |  |\n"
            "| `start_at` | enum | `end` | `beginning`, `end` | Where \\| to start. |\n"
            "| `on` | bool | `true` |  |  |\n"
            "| `paths` | list of strings |  |  |  |\n"
            "| `labels` | map of strings |  |  |  |\n"
            "| `tls` | section |  |  |  |\n");
}

TEST(SectionTest, NestedValidatesAMapOptionWithTheParentsFileAndEnvironment) {
  static constexpr Option kTls[] = {
      {.name = "ca", .type = ValueType::kString, .required = true},
      {.name = "verify", .type = ValueType::kBool, .defaultValue = "true"},
  };
  Section s = check("stream: s\ntls:\n  ca: ${CA}\n", fakeEnv({{"CA", "/etc/ca.pem"}}));
  Section tls = s.nested("tls", kTls);
  EXPECT_EQ(tls.getString("ca"), "/etc/ca.pem");
  EXPECT_TRUE(tls.getBool("verify"));
  EXPECT_EQ(tls.path(), "sink.tls");

  Section bad = check("stream: s\ntls:\n  ca: x\n  bogus: 1\n");
  try {
    bad.nested("tls", kTls);
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("t.yaml:4:"));
    EXPECT_THAT(e.what(), HasSubstr("sink.tls.bogus"));
  }
  EXPECT_THROW(check("stream: s\ntls: [a]\n").nested("tls", kTls), ConfigError);
}

}  // namespace
}  // namespace kinship::config
