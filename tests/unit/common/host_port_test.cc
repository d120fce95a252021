#include "common/host_port.h"

#include <gmock/gmock.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

namespace kinship {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(ParseHostPortTest, AcceptsNamesAndLiterals) {
  auto v4 = parseHostPort("127.0.0.1:9464");
  ASSERT_TRUE(v4.has_value());
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 9464);
  EXPECT_EQ(parseHostPort("localhost:0")->port, 0);
  EXPECT_EQ(parseHostPort("0.0.0.0:65535")->port, 65535);
  EXPECT_EQ(parseHostPort("[::1]:5514")->host, "::1");
  EXPECT_EQ(parseHostPort("[::]:80")->host, "::");
  EXPECT_EQ(parseHostPort("my-host_1.example.com:80")->host, "my-host_1.example.com");
}

TEST(ParseHostPortTest, RefusesWhatCannotBeBound) {
  EXPECT_THAT(parseHostPort("garbage").error().message(), HasSubstr("missing port"));
  EXPECT_THAT(parseHostPort("127.0.0.1:70000").error().message(), HasSubstr("port '70000' is not a number"));
  EXPECT_THAT(parseHostPort("127.0.0.1:-1").error().message(), HasSubstr("is not a number"));
  EXPECT_THAT(parseHostPort("127.0.0.1:").error().message(), HasSubstr("missing port"));
  EXPECT_THAT(parseHostPort(":80").error().message(), HasSubstr("empty host"));
  EXPECT_THAT(parseHostPort("[]:80").error().message(), HasSubstr("empty host"));
  EXPECT_THAT(parseHostPort("::1:9464").error().message(), HasSubstr("must be in brackets"));
  EXPECT_THAT(parseHostPort("[::1:9464").error().message(), HasSubstr("missing ']'"));
  EXPECT_THAT(parseHostPort("[127.0.0.1]:9464").error().message(), HasSubstr("not an IPv6 address"));
  EXPECT_THAT(parseHostPort("bad host:9464").error().message(), HasSubstr("invalid host"));
  EXPECT_THAT(parseHostPort("[::1]x9464").error().message(), HasSubstr("missing port"));
  EXPECT_THAT(parseHostPort("").error().message(), HasSubstr("missing port"));
}

TEST(IsWildcardHostTest, OnlyTheUnspecifiedAddresses) {
  EXPECT_TRUE(isWildcardHost("0.0.0.0"));
  EXPECT_TRUE(isWildcardHost("::"));
  EXPECT_TRUE(isWildcardHost("0:0::0"));
  EXPECT_FALSE(isWildcardHost("127.0.0.1"));
  EXPECT_FALSE(isWildcardHost("::1"));
  EXPECT_FALSE(isWildcardHost("localhost"));
  EXPECT_FALSE(isWildcardHost(""));
}

TEST(FormatHostPortTest, BracketsOnlyIpv6Literals) {
  EXPECT_EQ(formatHostPort("127.0.0.1", 9464), "127.0.0.1:9464");
  EXPECT_EQ(formatHostPort("localhost", 0), "localhost:0");
  EXPECT_EQ(formatHostPort("::1", 9464), "[::1]:9464");
  EXPECT_EQ(formatHostPort("::", 65535), "[::]:65535");
}

TEST(FormatHostPortTest, ParsesBackToWhatItWasGiven) {
  for (std::string_view text : {"127.0.0.1:9464", "[::1]:9464", "[fe80::1]:80", "my-host_1.example.com:0"}) {
    auto parsed = parseHostPort(text);
    ASSERT_TRUE(parsed.has_value()) << text;
    EXPECT_EQ(formatHostPort(parsed->host, parsed->port), text);
  }
}

// The admin endpoint's cases, from when it had its own parser.

TEST(ParseHostPortTest, Ipv4) {
  auto parsed = parseHostPort("127.0.0.1:9464");
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message();
  EXPECT_EQ(parsed->host, "127.0.0.1");
  EXPECT_EQ(parsed->port, 9464);
}

TEST(ParseHostPortTest, HostNameAndPortBounds) {
  auto name = parseHostPort("localhost:0");
  ASSERT_TRUE(name.has_value());
  EXPECT_EQ(name->host, "localhost");
  EXPECT_EQ(name->port, 0);
  auto top = parseHostPort("0.0.0.0:65535");
  ASSERT_TRUE(top.has_value());
  EXPECT_EQ(top->port, 65535);
}

TEST(ParseHostPortTest, Ipv6InBrackets) {
  auto loopback = parseHostPort("[::1]:9464");
  ASSERT_TRUE(loopback.has_value()) << loopback.error().message();
  EXPECT_EQ(loopback->host, "::1");
  EXPECT_EQ(loopback->port, 9464);
  auto any = parseHostPort("[::]:80");
  ASSERT_TRUE(any.has_value());
  EXPECT_EQ(any->host, "::");
}

TEST(ParseHostPortTest, MissingPort) {
  for (std::string_view text : {"127.0.0.1", "127.0.0.1:", "[::1]", "[::1]:", "localhost"}) {
    auto parsed = parseHostPort(text);
    ASSERT_FALSE(parsed.has_value()) << text;
    EXPECT_EQ(parsed.error().code(), Status::Code::kInvalidArgument);
    EXPECT_THAT(parsed.error().message(), HasSubstr("missing port")) << parsed.error().message();
    EXPECT_THAT(parsed.error().message(), StartsWith(fmt::format("'{}'", text)));
  }
}

TEST(ParseHostPortTest, PortOutOfRangeOrNotANumber) {
  for (std::string_view text : {"127.0.0.1:65536", "127.0.0.1:99999999999", "127.0.0.1:-1", "127.0.0.1:+80",
                                "127.0.0.1:80a", "127.0.0.1: 80", "[::1]:70000"}) {
    auto parsed = parseHostPort(text);
    ASSERT_FALSE(parsed.has_value()) << text;
    EXPECT_THAT(parsed.error().message(), HasSubstr("is not a number from 0 to 65535")) << text;
  }
}

TEST(ParseHostPortTest, EmptyHost) {
  for (std::string_view text : {":9464", "[]:9464"}) {
    auto parsed = parseHostPort(text);
    ASSERT_FALSE(parsed.has_value()) << text;
    EXPECT_THAT(parsed.error().message(), HasSubstr("empty host")) << text;
  }
  auto empty = parseHostPort("");
  EXPECT_FALSE(empty.has_value());
}

TEST(ParseHostPortTest, MalformedHosts) {
  EXPECT_THAT(parseHostPort("::1:9464").error().message(), HasSubstr("must be in brackets"));
  EXPECT_THAT(parseHostPort("[::1:9464").error().message(), HasSubstr("missing ']'"));
  EXPECT_THAT(parseHostPort("[127.0.0.1]:9464").error().message(), HasSubstr("not an IPv6 address"));
  EXPECT_THAT(parseHostPort("bad host:9464").error().message(), HasSubstr("invalid host"));
  EXPECT_THAT(parseHostPort("[::1]x9464").error().message(), HasSubstr("missing port"));
}

}  // namespace
}  // namespace kinship
